/**
 * `cdfs bench repair` end to end on a small loopback cluster (the emulated-network variant
 * needs root and minutes), and its usage errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCdfs } from "../helpers/cli.ts";
import { EXIT_USAGE } from "../../src/cli/app.ts";
import { findProcesses } from "../../src/core/processes.ts";
import type { RepairBenchResults } from "../../bench/repair/repair_report.ts";

async function scratch(): Promise<{ root: string; env: Record<string, string> } & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "cdfs-cli-bench-repair-test-" });
  return {
    root,
    env: { CDFS_STATE_DIR: join(root, "state") },
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("bench repair on loopback: blocks read equal the analyzer's plans, files written, nothing left running", async () => {
  await using dir = await scratch();
  const out = join(dir.root, "out");
  const codes = "rs:k=4,m=2,lrc:k=4,l=2,r=1";
  const run = await runCdfs(
    ["bench", "repair", "--codes", codes, "--size", "64K", "--runs", "1", "--out", out],
    { env: dir.env },
  );
  assert.equal(run.code, 0, run.err);
  for (const name of ["results.md", "results.json", "repair_time.svg"]) {
    assert.ok((await Deno.stat(join(out, name))).size > 0, name);
  }
  const results = JSON.parse(
    await Deno.readTextFile(join(out, "results.json")),
  ) as RepairBenchResults;
  const { measurement } = results.settings[0]!;
  assert.deepEqual(measurement.codes, ["rs:k=4,m=2", "lrc:k=4,l=2,r=1"]);
  // Every block of both codes, once single, once double: 6 + 7 blocks.
  assert.equal(measurement.repairs.length, 2 * (6 + 7));
  for (const r of measurement.repairs) {
    const what = `${r.code} ${r.loss} ${r.block}`;
    assert.equal(r.blocksRead, r.predicted, what);
    // Frame bytes: the blocks read plus a little framing.
    const perByte = r.bytesMoved / measurement.blockBytes[r.code]!;
    assert.ok(perByte >= r.predicted && perByte < r.predicted * 1.1, `${what}: ${perByte}`);
    assert.ok(r.seconds > 0);
  }
  // RS(6,4) reads 4 blocks for any loss; the LRC's data blocks 2 (their group), 4 when a
  // group member is lost too.
  const row = (code: string, loss: string) =>
    results.summary.find((r) => r.code === code && r.loss === loss)!;
  assert.equal(row("rs:k=4,m=2", "single").predicted, 4);
  assert.equal(row("rs:k=4,m=2", "single").trafficToRs, 1);
  const lrc = row("lrc:k=4,l=2,r=1", "single");
  assert.equal(lrc.blocksRead, lrc.predicted);
  assert.ok(lrc.predicted < 4 && lrc.trafficToRs! < 1, JSON.stringify(lrc));
  assert.equal(results.summary.length, 4);
  assert.equal(run.out.trimEnd().split("\n").length, 2 + 4);
  assert.ok((await Deno.readTextFile(join(out, "results.md"))).includes(run.out));
  assert.match(await Deno.readTextFile(join(out, "repair_time.svg")), /^<svg[^]*lrc:k=4,l=2,r=1/);
  assert.deepEqual([...Deno.readDirSync(join(dir.root, "state"))], []);
  const prefix = `bench-${Deno.pid}-0-n`;
  assert.deepEqual(findProcesses((argv) => argv.some((a) => a.startsWith(prefix))), []);
});

Deno.test("bench repair: usage errors, before anything starts", async () => {
  await using dir = await scratch();
  const cases: [string[], RegExp][] = [
    [["--codes", "rs:k=4,m=2,raid6"], /--codes: 'raid6' is not a code/],
    [["--codes", "rs:k=0,m=2"], /--codes: 'rs:k=0,m=2' is not a code/],
    [["--codes", "rs:k=4,m=2,rs:m=2,k=4"], /'rs:k=4,m=2' is named twice/],
    [["--codes", "rs:k=20,m=4"], /needs 24 nodes; the bench has 16/],
    [["--codes", ","], /name at least one code/],
    [["--size", "0"], /--size must be an integer of at least 1/],
    [["--size", "lots"], /--size/],
    [["--runs", "0"], /--runs must be an integer of at least 1/],
    [["--rate", "1gbit"], /--rate needs --netns/],
    [["--json-to", "/tmp/x.json"], /--json-to needs --cluster/],
  ];
  for (const [args, pattern] of cases) {
    const run = await runCdfs(["bench", "repair", ...args], { env: dir.env });
    assert.equal(run.code, EXIT_USAGE, `${args.join(" ")}: ${run.err}`);
    assert.match(run.err, pattern);
    assert.equal(run.out, "");
  }
  assert.deepEqual([...Deno.readDirSync(dir.root)], []);
});
