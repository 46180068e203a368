/**
 * End to end: coding modules written outside the repository with the SDK alone. Two module
 * files in a temp directory import nothing but `cdfs/coding` and build, with `linearModule`,
 * Reed-Solomon (14,10) and an LRC (6,2,2) (6 data parts, one XOR parity per group of 3, two
 * Cauchy rows). 14 real datanode processes (`deno run -A main.ts datanode serve --coding-dir
 * DIR`) load them; the client commands (`cdfs object put-parts/encode/decode --coding-dir DIR`,
 * run in this process) put, encode and decode objects, which round-trip byte for byte with no
 * block lost, with 2 lost, and with as many lost as each code tolerates (4 and 3); one loss
 * more is refused up front with SINGULAR.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { tempDir } from "../helpers/temp_dir.ts";

const CHUNK = "16K";
const NODE_COUNT = 14;

/** The module files: what a researcher writes, nothing else. */
const MODULE_FILES: Record<string, string> = {
  "rs_10_4.ts": `import { linearModule, systematicCauchyGenerator } from "cdfs/coding";

export const codingModule = linearModule(systematicCauchyGenerator(10, 4), {
  coded: Array.from({ length: 14 }, (_, i) => i),
}, { name: "rs_10_4", description: "Reed-Solomon (14,10), written outside cdfs" });
`,
  "lrc_6_2_2.ts": `import { cauchy, linearModule } from "cdfs/coding";

const data = [0, 1, 2, 3, 4, 5].map((j) => [0, 1, 2, 3, 4, 5].map((t) => (t === j ? 1 : 0)));
export const codingModule = linearModule([
  ...data,
  [1, 1, 1, 0, 0, 0], // local parity of parts 0..2
  [0, 0, 0, 1, 1, 1], // local parity of parts 3..5
  ...cauchy(2, 6), // global parities
], { coded: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }, { name: "lrc_6_2_2" });
`,
};

/** Runs `cdfs ARGS` in this process and asserts that it succeeded. */
async function cdfsOk(args: string[]): Promise<CliRun> {
  const run = await runCdfs(args);
  assert.equal(run.code, 0, `cdfs ${args.join(" ")}: ${run.err}`);
  return run;
}

Deno.test("modules outside the repository, built with cdfs/coding, on 14 datanodes", async (t) => {
  await using codes = await tempDir("cdfs-sdk-modules-");
  await using work = await tempDir("cdfs-sdk-work-");
  const repo = fileURLToPath(new URL("../../", import.meta.url));
  assert.ok(!codes.path.startsWith(repo), `${codes.path} is outside ${repo}`);
  for (const [file, text] of Object.entries(MODULE_FILES)) {
    await Deno.writeTextFile(`${codes.path}/${file}`, text);
  }

  await t.step("`deno run -A main.ts` resolves cdfs/coding from another directory", async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${repo}main.ts`, "code", "list", "--json", "--coding-dir", codes.path],
      cwd: codes.path,
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, err);
    const listed = JSON.parse(new TextDecoder().decode(output.stdout)) as Record<string, unknown>[];
    for (const [name, n, k] of [["rs_10_4", 14, 10], ["lrc_6_2_2", 10, 6]] as const) {
      const entry = listed.find((e) => e.name === name);
      assert.deepEqual({ n: entry?.n, k: entry?.k, builtin: entry?.builtin, error: entry?.error }, {
        n,
        k,
        builtin: false,
        error: undefined,
      });
    }
  });

  const nodes = await Promise.all(
    Array.from(
      { length: NODE_COUNT },
      () => DataNodeProcess.start({ args: ["--coding-dir", codes.path, "--chunk-size", CHUNK] }),
    ),
  );
  try {
    const objects = [
      { id: "rsobj", code: "rs_10_4", n: 14, k: 10, bytes: randomBytes(300_001) },
      { id: "lrcobj", code: "lrc_6_2_2", n: 10, k: 6, bytes: randomBytes(100_003) },
    ];
    const list = (n: number) => nodes.slice(0, n).map((node) => node.address).join(",");
    const common = (o: { code: string; n: number }) => [
      "--code",
      o.code,
      "--coding-dir",
      codes.path,
      "--nodes",
      list(o.n),
      "--chunk-size",
      CHUNK,
    ];

    await t.step("put-parts and encode, then remove the parts", async () => {
      for (const o of objects) {
        const file = `${work.path}/${o.id}.in`;
        await Deno.writeFile(file, o.bytes);
        await cdfsOk(["object", "put-parts", ...common(o), file, o.id]);
        const encoded = JSON.parse(
          (await cdfsOk(["object", "encode", ...common(o), "--json", o.id])).out,
        );
        assert.equal(encoded.committed.length, o.n);
        for (let j = 0; j < o.k; j++) {
          await cdfsOk(["block", "rm", "--node", nodes[j]!.address, `${o.id}.part${j}`]);
        }
      }
    });

    const decodeAll = async (lost: readonly number[]) => {
      for (const o of objects) {
        const output = `${work.path}/${o.id}.out`;
        const run = await cdfsOk(["object", "decode", ...common(o), "-o", output, "--json", o.id]);
        const summary = JSON.parse(run.out);
        const missing = summary.blocks
          .filter((b: { present: boolean }) => !b.present)
          .map((b: { index: number }) => b.index);
        assert.deepEqual(missing, lost.filter((i) => i < o.n), o.id);
        assert.deepEqual(await Deno.readFile(output), o.bytes, `${o.id} with {${lost}} lost`);
      }
    };

    // LRC blocks: 0..5 data, 6 and 7 local parities (groups 0..2 and 3..5), 8 and 9 global.
    // Its hardest losses take a group's local parity and two of its parts: {0, 2, 6}.
    await t.step("decode with no block lost", () => decodeAll([]));
    await t.step("decode with 2 blocks lost", async () => {
      await Promise.all([0, 6].map((i) => nodes[i]!.kill("SIGKILL")));
      await decodeAll([0, 6]);
    });
    await t.step("decode with as many blocks lost as each code tolerates", async () => {
      await Promise.all([2, 13].map((i) => nodes[i]!.kill("SIGKILL")));
      // RS (14,10) lost 4 = n - k blocks; the LRC lost 3 ({0, 2, 6}).
      await decodeAll([0, 2, 6, 13]);
    });
    await t.step("one loss more is refused with SINGULAR", async () => {
      await nodes[9]!.kill("SIGKILL");
      for (const o of objects) {
        const run = await runCdfs(["object", "decode", ...common(o), "-o", `${work.path}/x`, o.id]);
        assert.equal(run.code, 1, run.err);
        assert.match(run.err, /not decodable \(SINGULAR\)\n$/);
      }
    });
  } finally {
    await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
  }
});
