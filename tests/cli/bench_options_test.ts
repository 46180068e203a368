import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ClusterBench,
  clusterBenchOptions,
  runClusterBench,
} from "../../src/cli/bench_options.ts";
import type { CliContext, ParsedArgs } from "../../src/cli/command.ts";
import type { SettingPlan } from "../../bench/common/cluster_session.ts";
import { CdfsError } from "../../src/core/errors.ts";

function context(): CliContext & { outText: string[]; errText: string[] } {
  const outText: string[] = [];
  const errText: string[] = [];
  return {
    outText,
    errText,
    out: (text) => void outText.push(text),
    err: (text) => void errText.push(text),
    isTerminal: false,
    env: () => undefined,
  };
}

/** A bench that records what the flow asked of it. */
function recordingBench(calls: string[]): ClusterBench<{ size: number }, string[]> {
  return {
    outName: "demo",
    parse: (args) => ({ size: Number(args.values.size ?? 1) }),
    toJsonFile: (options) => {
      calls.push(`json ${options.jsonTo} ${options.measure.size}`);
      return Promise.resolve();
    },
    run: (options) => {
      options.onProgress("measuring");
      calls.push(`run ${options.settings.map((s: SettingPlan) => s.label).join(",")}`);
      return Promise.resolve(["r1"]);
    },
    write: (out, results) => {
      calls.push(`write ${out} ${results.join(",")}`);
      return Promise.resolve([join(out, "results.md")]);
    },
    table: (results) => `table of ${results.length}\n`,
  };
}

const args = (values: ParsedArgs["values"], positionals: string[] = []): ParsedArgs => ({
  values,
  positionals,
});

Deno.test("bench_options: the cluster options follow the bench's own, in --help's order", () => {
  const options = clusterBenchOptions("what congest does", "what cluster does");
  const names = Object.keys(options);
  assert.deepEqual(names.slice(-3), ["cluster", "state-dir", "json-to"]);
  assert.ok(names.indexOf("netns") < names.indexOf("congest"));
  assert.equal(options.congest!.description, "what congest does");
  assert.equal(options.congest!.value, "[P%:]RATE:DELAY[:JITTER]");
  assert.equal(options.cluster!.description, "what cluster does");
  assert.equal(options.cluster!.env, undefined, "--cluster is not read from CDFS_CLUSTER");
  assert.match(options["json-to"]!.description ?? "", /^internal:/);
});

Deno.test("bench_options: runClusterBench measures, writes, prints the table", async () => {
  const calls: string[] = [];
  const ctx = context();
  const out = await Deno.makeTempDir();
  try {
    const code = await runClusterBench(ctx, args({ out, size: "5" }), recordingBench(calls));
    assert.equal(code, 0);
    assert.deepEqual(calls, ["run loopback", `write ${out} r1`]);
    assert.deepEqual(ctx.outText, ["table of 1\n"]);
    assert.equal(ctx.errText[0], "measuring\n");
    assert.match(ctx.errText.at(-1)!, /^wrote .*results\.md\n$/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("bench_options: --json-to only measures into the file, and needs --cluster", async () => {
  const calls: string[] = [];
  await assert.rejects(
    runClusterBench(context(), args({ "json-to": "/tmp/x.json" }), recordingBench(calls)),
    (e: unknown) => e instanceof CdfsError && e.message.includes("--json-to needs --cluster"),
  );
  const code = await runClusterBench(
    context(),
    args({ "json-to": "/tmp/x.json", cluster: "/tmp/no-such-cluster.json", size: "7" }),
    recordingBench(calls),
  );
  assert.equal(code, 0);
  assert.deepEqual(calls, ["json /tmp/x.json 7"]);
});

Deno.test("bench_options: usage errors come before anything runs", async () => {
  const calls: string[] = [];
  await assert.rejects(
    runClusterBench(context(), args({}, ["extra"]), recordingBench(calls)),
    (e: unknown) => e instanceof CdfsError && e.message === "unexpected argument 'extra'",
  );
  await assert.rejects(
    runClusterBench(context(), args({ rate: "1gbit" }), recordingBench(calls)),
    (e: unknown) => e instanceof CdfsError && e.message.includes("--rate needs --netns"),
  );
  assert.deepEqual(calls, []);
});
