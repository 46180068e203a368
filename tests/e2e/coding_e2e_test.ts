/**
 * End to end: the coding commands (`cdfs put-parts`, `encode`, `rm`, `decode`, `repair`, run
 * in this process) on 16 real datanode processes on loopback, one cluster for every step.
 *
 * Objects of a few MiB with 64 KiB chunks: part lengths that are not a multiple of the chunk
 * size and parts smaller than one chunk. RapidRAID and Reed-Solomon objects are put and
 * encoded, their part replicas removed, coded blocks repaired; then 5 nodes whose loss is not
 * decodable for RapidRAID are stopped (decode is refused up front with SINGULAR, while the MDS
 * Reed-Solomon object decodes), they are restarted, and 5 nodes whose loss is decodable (a
 * seeded random choice, printed; set CDFS_TEST_SEED to replay) are stopped: every object
 * decodes byte for byte.
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { analyze } from "../../src/coding/analysis/symbolic.ts";
import { seededRandom } from "../../src/emulation/link_spec.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { randomBytes, sha256 } from "../client/_blocks.ts";
import { concatBytes } from "../helpers/bytes.ts";
import { formatBytes } from "../../src/format/bytes.ts";
import { formatRanges } from "../../src/format/count.ts";

const CHUNK = "64K";
const NODE_COUNT = 16;

/**
 * Runs `cdfs ARGS` in this process (with `isTerminal`, standard error a terminal: progress bars)
 * and asserts that it succeeded.
 */
async function cdfsOk(args: string[], isTerminal = false): Promise<CliRun> {
  const run = await runCdfs(args, { isTerminal });
  assert.equal(run.code, 0, `cdfs ${args.join(" ")}: ${run.err}`);
  return run;
}

async function retrieveBlock(address: string, block: string): Promise<Uint8Array> {
  using client = await DataNodeClient.connect(address);
  const chunks: Uint8Array[] = [];
  await client.retrieve(block, (chunk) => void chunks.push(chunk.slice()));
  return concatBytes(chunks);
}

/** Every `size`-subset of 0..n-1, in lexicographic order. */
function subsets(n: number, size: number): number[][] {
  const all: number[][] = [];
  const pick = (from: number, chosen: number[]) => {
    if (chosen.length === size) return void all.push(chosen);
    for (let i = from; i < n; i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return all;
}

function complement(n: number, set: readonly number[]): number[] {
  return Array.from({ length: n }, (_, i) => i).filter((i) => !set.includes(i));
}

interface TestObject {
  id: string;
  module: CodingModule;
  bytes: Uint8Array;
  file: string;
}

Deno.test("coding commands end to end on 16 datanodes", async (t) => {
  const seed = Number(Deno.env.get("CDFS_TEST_SEED") ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const rapidraid = await loadCodingModule("rapidraid");
  const rs = await loadCodingModule("rs");
  const nodes: DataNodeProcess[] = await Promise.all(
    Array.from(
      { length: NODE_COUNT },
      () => DataNodeProcess.start({ args: ["--chunk-size", CHUNK] }),
    ),
  );
  const restarted: DataNodeProcess[] = [];
  const work = await Deno.makeTempDir({ prefix: "cdfs-e2e-" });
  const list = () => nodes.map((n) => n.address).join(",");
  const objects: TestObject[] = [];
  try {
    // Part lengths: 3 MiB + 12345 over 11 parts is 4.4 chunks; 100,000 bytes make parts of
    // 9091 bytes, less than one chunk; Reed-Solomon the same way.
    const sizes: [CodingModule, string, number][] = [
      [rapidraid, "big", 3 * 1024 * 1024 + 12_345],
      [rapidraid, "small", 100_000],
      [rs, "rsbig", 2 * 1024 * 1024 + 777],
      [rs, "rssmall", 50_001],
    ];
    for (const [module, id, length] of sizes) {
      const bytes = randomBytes(length);
      const file = `${work}/${id}.in`;
      await Deno.writeFile(file, bytes);
      objects.push({ id, module, bytes, file });
    }

    await t.step("put-parts, encode, then remove the part replicas with cdfs rm", async () => {
      for (const object of objects) {
        const { id, module, file } = object;
        const put = await cdfsOk([
          "object",
          "put-parts",
          "--code",
          module.name,
          "--nodes",
          list(),
          "--chunk-size",
          CHUNK,
          file,
          id,
        ]);
        assert.ok(
          put.out.startsWith(`put ${id} (${formatBytes(object.bytes.length)}) as `),
          put.out,
        );
        // The small RapidRAID object goes through push mode (decoded below like the others).
        const push = id === "small";
        if (module.name === "rs") {
          const refused = await runCdfs([
            "object",
            "encode",
            "--code",
            "rs",
            "--nodes",
            list(),
            "--push",
            id,
          ]);
          assert.equal(refused.code, 2, refused.err);
          assert.match(refused.err, /--push with module 'rs': push mode needs a pipeline/);
        }
        const encoded = await cdfsOk([
          "object",
          "encode",
          "--code",
          module.name,
          "--nodes",
          list(),
          "--chunk-size",
          CHUNK,
          "--json",
          ...(push ? ["--push"] : []),
          id,
        ], true);
        // A progress line was drawn on the "terminal" and removed at the end.
        assert.match(encoded.err, new RegExp(`^\\rencode ${id} \\[`));
        assert.match(encoded.err, /\r +\r$/);
        const summary = JSON.parse(encoded.out);
        // The bar counts what the summary's rate counts: the object's bytes, k parts of the
        // coded block length (not one coded block's bytes, which made its rate k times less).
        const totals = new Set(
          [...encoded.err.matchAll(/ \/ (\S+ \S+) {2}/g)].map((match) => match[1]),
        );
        assert.deepEqual([...totals], [formatBytes(summary.length * module.k)], encoded.err);
        assert.equal(summary.mode, push ? "push" : "pull");
        assert.equal(summary.length, Math.ceil(object.bytes.length / module.k));
        assert.deepEqual(
          summary.committed.map((b: { block: string }) => b.block).sort(),
          module.coded.map((c) => c.block.replace("{id}", id)).sort(),
        );
        for (const part of module.parts) {
          for (const node of part.nodes) {
            await cdfsOk([
              "block",
              "rm",
              "--node",
              nodes[node]!.address,
              part.block.replace("{id}", id),
            ]);
          }
        }
      }
    });

    await t.step("repair rebuilds a deleted coded block with the same bytes", async () => {
      for (const [object, block] of [[objects[0]!, 3], [objects[2]!, 13]] as const) {
        const name = `${object.id}.coded${block}`;
        const address = nodes[object.module.coded[block]!.node]!.address;
        const original = await retrieveBlock(address, name);
        await cdfsOk(["block", "rm", "--node", address, name]);
        const repaired = await cdfsOk([
          "object",
          "repair",
          "--nodes",
          list(),
          "--chunk-size",
          CHUNK,
          "--block",
          String(block),
          "--json",
          object.id,
        ]);
        const summary = JSON.parse(repaired.out);
        assert.equal(summary.block, name);
        assert.ok(!summary.used.includes(block));
        assert.equal(sha256(await retrieveBlock(address, name)), sha256(original));
      }
    });

    const stopped: number[] = [];
    const stop = async (lost: readonly number[], module: CodingModule) => {
      const indices = lost.map((i) => module.coded[i]!.node);
      await Promise.all(indices.map((i) => nodes[i]!.kill("SIGKILL")));
      stopped.push(...indices);
    };

    await t.step("an undecodable loss is refused up front with SINGULAR", async () => {
      const analysis = analyze(rapidraid);
      const survivors = analysis
        .undecodableSubsets[Math.floor(random() * analysis.undecodableSubsets.length)]!;
      const lost = complement(rapidraid.n, survivors);
      // deno-lint-ignore no-console
      console.log(`seed ${seed}: undecodable loss of coded blocks {${lost.join(", ")}}`);
      await stop(lost, rapidraid);
      const codingRequests = () =>
        nodes.filter((n) => !n.exited).reduce(
          (sum, n) => sum + n.logRecords().filter((r) => r.op === "CODING").length,
          0,
        );
      const before = codingRequests();
      const output = `${work}/refused.out`;
      const run = await runCdfs([
        "object",
        "decode",
        "--nodes",
        list(),
        "-o",
        output,
        objects[0]!.id,
      ]);
      assert.equal(run.code, 1);
      assert.match(run.err, /^cdfs: error: [^\n]+ \(SINGULAR\)\n$/);
      assert.ok(
        run.err.includes(`lost coded blocks {${lost.join(", ")}}`),
        run.err,
      );
      assert.match(run.err, /have rank \d+ < k = 11: not decodable/);
      assert.equal(codingRequests(), before, "no program was started");
      await assert.rejects(Deno.stat(output), Deno.errors.NotFound);
      assert.ok(![...Deno.readDirSync(work)].some((e) => e.name.startsWith(".refused")));

      // Reed-Solomon is MDS: the same loss decodes (to standard output here).
      const rsObject = objects[2]!;
      const decoded = await cdfsOk([
        "object",
        "decode",
        "--nodes",
        list(),
        "--chunk-size",
        CHUNK,
        rsObject.id,
      ]);
      assert.equal(decoded.stdout.length, rsObject.bytes.length);
      assert.equal(sha256(decoded.stdout), sha256(rsObject.bytes));
      assert.match(decoded.err, /lost coded blocks/);
    });

    await t.step("restart the stopped nodes on their data", async () => {
      const again = await Promise.all(
        stopped.splice(0).map(async (i) => {
          const old = nodes[i]!;
          const node = await DataNodeProcess.start({
            dataDir: old.dataDir,
            listen: old.address,
            args: ["--chunk-size", CHUNK],
          });
          restarted.push(old);
          return [i, node] as const;
        }),
      );
      for (const [i, node] of again) nodes[i] = node;
    });

    await t.step(
      "after a decodable loss of 5 nodes every object decodes byte for byte",
      async () => {
        const undecodable = new Set(analyze(rapidraid).undecodableSubsets.map((s) => s.join(",")));
        const decodable = subsets(rapidraid.n, rapidraid.n - rapidraid.k)
          .filter((lost) => !undecodable.has(complement(rapidraid.n, lost).join(",")));
        const lost = decodable[Math.floor(random() * decodable.length)]!;
        // deno-lint-ignore no-console
        console.log(`seed ${seed}: decodable loss of coded blocks {${lost.join(", ")}}`);
        await stop(lost, rapidraid);
        for (const object of objects) {
          const output = `${work}/${object.id}.out`;
          const run = await cdfsOk([
            "object",
            "decode",
            "--code",
            object.module.name,
            "--nodes",
            list(),
            "--chunk-size",
            CHUNK,
            "-o",
            output,
            "--json",
            object.id,
          ]);
          const summary = JSON.parse(run.out);
          assert.deepEqual(
            summary.blocks.filter((b: { present: boolean }) => !b.present).map((
              b: { index: number },
            ) => b.index),
            lost,
          );
          assert.ok(summary.used.every((i: number) => !lost.includes(i)));
          assert.equal(summary.sha256, sha256(object.bytes));
          const decoded = await Deno.readFile(output);
          assert.equal(decoded.length, object.bytes.length);
          const differs = decoded.findIndex((b, i) => b !== object.bytes[i]);
          assert.equal(differs, -1, `${object.id} differs at byte ${differs}`);
        }
        // The text summary names the 5 lost nodes in a few characters, not 5 long reasons.
        const text = await cdfsOk([
          "object",
          "decode",
          "--nodes",
          list(),
          "--chunk-size",
          CHUNK,
          "-o",
          `${work}/text.out`,
          objects[0]!.id,
        ]);
        const lostNodes = lost.map((i) => rapidraid.coded[i]!.node);
        assert.ok(
          text.out.endsWith(
            `; lost coded blocks ${formatRanges(lost)} ` +
              `(nodes ${formatRanges(lostNodes)}: connection refused)\n`,
          ),
          text.out,
        );
        assert.ok(text.out.length < 300, text.out);
      },
    );
  } finally {
    await Promise.all([...nodes, ...restarted].map((n) => n[Symbol.asyncDispose]()));
    await Deno.remove(work, { recursive: true });
  }
});
