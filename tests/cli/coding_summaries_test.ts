/**
 * What the coding commands print when they succeed, on 3 real datanodes with the replication
 * module (k = 1: the plurals' singular case): sizes for people in the text summaries and
 * bytes in --json, and a decode's lost nodes in one short line. The encode's progress against
 * its summary, with k > 1, is checked in tests/e2e/coding_e2e_test.ts.
 */
import assert from "node:assert/strict";
import { EXIT_USAGE } from "../../src/cli/app.ts";
import { formatLostBlocks } from "../../src/cli/coding_summaries.ts";
import type { CodedBlockState } from "../../src/client/objects/state.ts";
import { formatBytes } from "../../src/format/bytes.ts";
import { randomBytes, sha256 } from "../client/_blocks.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";

async function cdfsOk(args: string[]): Promise<CliRun> {
  const run = await runCdfs(args);
  assert.equal(run.code, 0, `cdfs ${args.join(" ")}: ${run.err}`);
  return run;
}

Deno.test("put-parts, encode, repair and decode summaries: sizes, plurals, lost nodes in one line", async () => {
  const nodes = await Promise.all([0, 1, 2].map(() => DataNodeProcess.start()));
  const work = await Deno.makeTempDir();
  try {
    const list = ["--nodes", nodes.map((n) => n.address).join(",")];
    const data = randomBytes(150_000);
    await Deno.writeFile(`${work}/obj.in`, data);
    const size = formatBytes(data.length); // 146.5 KiB

    const put = await cdfsOk([
      "object",
      "put-parts",
      "--code",
      "replication",
      ...list,
      `${work}/obj.in`,
      "obj",
    ]);
    assert.match(
      put.out,
      new RegExp(
        `^put obj \\(${size}\\) as 1 part of ${size}: 1 part block and 3 manifests on 3 nodes, ` +
          `[\\d.]+ s, [\\d.]+ (B|KiB|MiB|GiB)/s\\nsha256 ${sha256(data)}\\n$`,
      ),
    );
    const encode = await cdfsOk(["object", "encode", ...list, "obj"]);
    assert.match(
      encode.out,
      new RegExp(`^encoded obj with replication: 3 coded blocks of ${size}, run [0-9a-f]{32}`),
    );
    const json = JSON.parse(
      (await cdfsOk(["object", "encode", ...list, "--overwrite", "--json", "obj"])).out,
    );
    assert.equal(json.length, data.length, "--json keeps the bytes");

    await cdfsOk(["block", "rm", "--node", nodes[2]!.address, "obj.coded2"]);
    const repair = await cdfsOk(["object", "repair", ...list, "--block", "2", "obj"]);
    assert.match(
      repair.out,
      new RegExp(`^repaired obj\\.coded2 on node 2 \\(\\S+\\): ${size} from coded block [01], `),
    );

    const whole = await cdfsOk(["object", "decode", ...list, "-o", `${work}/whole.out`, "obj"]);
    assert.match(
      whole.out,
      new RegExp(
        `^decoded obj to \\S+: ${size}, sha256 verified, from coded block \\d on node \\d` +
          `(, [\\d.]+ s, \\S+ \\S+/s)?; no coded block lost\\n$`,
      ),
    );

    await nodes[1]!.kill();
    await nodes[2]!.kill();
    const lost = await cdfsOk(["object", "decode", ...list, "-o", `${work}/lost.out`, "obj"]);
    assert.match(
      lost.out,
      /; lost coded blocks 1-2 \(nodes 1-2: connection refused\)\n$/,
      lost.out,
    );
    assert.equal(lost.out.split("\n").length, 2, "one line");
    assert.equal(sha256(await Deno.readFile(`${work}/lost.out`)), sha256(data));
    // To standard output, the lost blocks are the one line on standard error.
    const piped = await cdfsOk(["object", "decode", ...list, "obj"]);
    assert.equal(
      piped.err,
      "cdfs: decode obj: lost coded blocks 1-2 (nodes 1-2: connection refused)\n",
    );
  } finally {
    await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("formatLostBlocks: one entry per reason, indices and nodes as ranges", () => {
  const block = (index: number, node: number, reason?: string): CodedBlockState => ({
    index,
    block: `obj.coded${index}`,
    node,
    address: `127.0.0.1:${13100 + node}`,
    present: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
  });
  const refused = (index: number) =>
    block(
      index,
      index,
      `node unreachable: cannot reach node 127.0.0.1:${13100 + index}: connection refused`,
    );
  const sixteen = Array.from({ length: 16 }, (_, i) => i);
  // 5 nodes refused: the line of issue 10 was 600 characters of repeated reasons.
  const five = sixteen.map((i) => (i < 5 ? refused(i) : block(i, i)));
  assert.equal(formatLostBlocks(five), "lost coded blocks 0-4 (nodes 0-4: connection refused)");
  assert.equal(formatLostBlocks(sixteen.map((i) => block(i, i))), "no coded block lost");
  const mixed = [
    refused(0),
    refused(1),
    block(2, 2),
    refused(3),
    block(4, 4, "missing"),
    block(5, 4, "missing"),
    block(6, 6, "length 10, the manifest says 20"),
    block(7, 7, "node 127.0.0.1:13107: block 'obj.coded7' is corrupt"),
  ];
  const text = formatLostBlocks(mixed);
  assert.equal(
    text,
    "lost coded blocks 0-1, 3 (nodes 0-1, 3: connection refused); 4-5 (node 4: missing); " +
      "6 (node 6: length 10, the manifest says 20); 7 (node 7: block 'obj.coded7' is corrupt)",
  );
  assert.equal(formatLostBlocks([refused(9)]), "lost coded block 9 (node 9: connection refused)");
});

Deno.test("a coding command with CDFS_NODES and CDFS_CLUSTER both set says so, not 'no manifest'", async () => {
  const run = await runCdfs(["object", "decode", "-o", "/nonexistent/out", "obj"], {
    env: { CDFS_NODES: "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", CDFS_CLUSTER: "lab" },
  });
  assert.equal(run.code, EXIT_USAGE);
  assert.equal(
    run.err,
    "cdfs: error: CDFS_NODES and CDFS_CLUSTER are both set: pick one with --nodes or " +
      "--cluster, or unset one of them\n",
  );
});
