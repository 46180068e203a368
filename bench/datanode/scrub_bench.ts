// deno-lint-ignore-file no-console
/**
 * What the background scrub costs foreground traffic: STORE and RETRIEVE throughput of a
 * block over loopback against two `cdfs datanode serve` child processes started alike, one
 * with `--scrub-rate 0` and one at the default rate (8 MiB/s), each holding the same amount of
 * data for the scrub to read, measured in the same run. The two alternate, run by run, so they
 * share the machine's conditions; the ratio (with scrub / without) is the median of the
 * per-run ratios. Target (issue 14): at most 10% slower, a ratio >= 0.9.
 *
 * Run with `deno run -A bench/datanode/scrub_bench.ts [--size 128M] [--preload 512M] [--runs 9]`.
 * Writes `bench/out/scrub.json`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { parseSize } from "../../src/cli/command.ts";
import { DataNodeProcess } from "../../tests/helpers/datanode_process.ts";
import { repoPath } from "../common/paths.ts";
import { median } from "../common/stats.ts";

const MIB = 1 << 20;
const TARGET = 0.9;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "128M" },
    preload: { type: "string", default: "512M" },
    runs: { type: "string", default: "9" },
  },
  strict: true,
});
const size = parseSize(values.size, "--size");
const preload = parseSize(values.preload, "--preload");
const runs = parseSize(values.runs, "--runs");

/** `length` bytes in 1 MiB pieces, each stamped with its index so they differ. */
function* blockBytes(length: number, seed: number): Generator<Uint8Array> {
  const piece = new Uint8Array(MIB);
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 2654435761 + seed) >>> 24;
  for (let at = 0, n = 0; at < length; at += MIB, n++) {
    new DataView(piece.buffer).setUint32(0, n);
    yield piece.subarray(0, Math.min(MIB, length - at));
  }
}

async function storeAndRetrieve(address: string, block: string): Promise<[number, number]> {
  using client = await DataNodeClient.connect(address);
  let started = performance.now();
  await client.store(block, blockBytes(size, 7), { overwrite: true });
  const store = size / MIB / ((performance.now() - started) / 1000);
  started = performance.now();
  let got = 0;
  await client.retrieve(block, (chunk) => void (got += chunk.length));
  const retrieve = size / MIB / ((performance.now() - started) / 1000);
  if (got !== size) throw new Error(`retrieved ${got} of ${size} bytes`);
  return [store, retrieve];
}

const plain = await DataNodeProcess.start({ args: ["--scrub-rate", "0", "--log", "/dev/null"] });
const scrubbing = await DataNodeProcess.start({ args: ["--log", "/dev/null"] });
try {
  for (const node of [plain, scrubbing]) {
    using client = await DataNodeClient.connect(node.address);
    for (let at = 0, i = 0; at < preload; at += 64 * MIB, i++) {
      await client.store(`preload-${i}`, blockBytes(Math.min(64 * MIB, preload - at), i));
    }
  }
  // Measure only while a pass is reading (the first, over an empty store, ended at the start;
  // the next begins after the pause between passes).
  for (const until = Date.now() + 60_000;;) {
    using client = await DataNodeClient.connect(scrubbing.address);
    const { scrub } = await client.stats();
    if (scrub?.running && scrub.passBytes > 0) break;
    if (Date.now() > until) throw new Error("the background scrub did not start within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const rows: { run: number; plain: number[]; scrubbing: number[] }[] = [];
  for (let run = 0; run < runs; run++) {
    const first = run % 2 === 0;
    const a = first ? await storeAndRetrieve(plain.address, "fg") : undefined;
    const b = await storeAndRetrieve(scrubbing.address, "fg");
    const c = first ? a! : await storeAndRetrieve(plain.address, "fg");
    rows.push({ run, plain: c, scrubbing: b });
    console.log(
      `run ${run + 1}: STORE ${c[0].toFixed(0)} / ${b[0].toFixed(0)} MiB/s, ` +
        `RETRIEVE ${c[1].toFixed(0)} / ${b[1].toFixed(0)} MiB/s (no scrub / scrub)`,
    );
  }
  using client = await DataNodeClient.connect(scrubbing.address);
  const { scrub } = await client.stats();
  const storeRatio = median(rows.map((r) => r.scrubbing[0]! / r.plain[0]!));
  const retrieveRatio = median(rows.map((r) => r.scrubbing[1]! / r.plain[1]!));
  const result = {
    size,
    preload,
    runs,
    storeRatio,
    retrieveRatio,
    target: TARGET,
    met: storeRatio >= TARGET && retrieveRatio >= TARGET,
    scrub,
    rows,
  };
  console.log(`| op | with scrub / without (median of ${runs}) | target | met |`);
  console.log(`| --- | --- | --- | --- |`);
  for (const [op, ratio] of [["STORE", storeRatio], ["RETRIEVE", retrieveRatio]] as const) {
    console.log(
      `| ${op} | ${ratio.toFixed(3)} | >= ${TARGET} | ${ratio >= TARGET ? "yes" : "**no**"} |`,
    );
  }
  console.log(
    `scrub during the runs: pass ${scrub?.pass}, running ${scrub?.running}, ` +
      `${((scrub?.passBytes ?? 0) / MIB).toFixed(0)} MiB verified this pass`,
  );
  await Deno.mkdir(repoPath("bench/out"), { recursive: true });
  await Deno.writeTextFile(
    repoPath("bench/out/scrub.json"),
    JSON.stringify(result, null, 2) + "\n",
  );
} finally {
  await plain.stop();
  await scrubbing.stop();
  await plain[Symbol.asyncDispose]();
  await scrubbing[Symbol.asyncDispose]();
}
