// deno-lint-ignore-file no-console
/**
 * CPU per byte on the cluster path (issue 15 item 4): the CPU-seconds per GiB of a RapidRAID
 * (16,11) pipelined encode and of an RS(16,11) encode on 16 `cdfs datanode serve` processes on
 * loopback, by component from a `perf` profile, each next to the bare data movement of the
 * same pattern (`bare_movement.ts`: the same bytes over the same TCP hops and to disk with the
 * same fsyncs, no coding, checksums or framing) measured in the same run; and each code's
 * decode from 11 coded blocks (the ones that need the coded, not copied, blocks) next to the
 * bare movement of a decode (10 blocks to the coordinator, 11 streams on to the client, which
 * writes one file).
 *
 * The totals are the processes' CPU time (per-thread schedstat) over unprofiled runs, median;
 * one more run of each is profiled (`perf record -e cpu-clock -g`, the datanodes started with
 * `DENO_V8_FLAGS=--perf-basic-prof` so that JavaScript and WebAssembly frames have names), and
 * each total is split by the share of its samples per component.
 *
 * ```sh
 * deno run -A bench/coding/cpu_profile.ts [--size 1G] [--chunk-size 1M] [--runs 3]
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { decodeObject } from "../../src/client/objects/decode.ts";
import { encodeObject } from "../../src/client/objects/encode.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { putParts } from "../../src/client/objects/put_parts.ts";
import { parseSize } from "../../src/cli/command.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { codingModule as rs } from "../../coding/rs.ts";
import { DataNodeProcess } from "../../tests/helpers/datanode_process.ts";
import { COMPONENTS, perfUnavailable, type Profile, startProfile } from "../common/perf_profile.ts";
import { warmFreeMemory } from "../common/machine.ts";
import { placeBareParts, runBareMovement } from "./bare_movement.ts";
import { checkingSurvivors, cpuSnapshot, deleteCoded, writeObject } from "./coding_loopback.ts";

const NODES = 16;
const GIB = 1 << 30;

/** The median of some numbers. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `total` split by the profile's shares, per component. */
function split(total: number, profile: Profile | null): Map<string, number> {
  const parts = new Map<string, number>();
  if (profile === null || profile.samples === 0) return parts;
  for (const c of COMPONENTS) {
    parts.set(c, total * (profile.byComponent[c] ?? 0) / profile.samples);
  }
  return parts;
}

/** The CPU of one code's encodes and of its bare movement, with a profile of each. */
interface CodeCpu {
  readonly code: string;
  readonly cdfs: number[];
  readonly bare: number[];
  cdfsProfile: Profile | null;
  bareProfile: Profile | null;
}

/** A column's name: the code's encode, or its decode from 11 coded blocks. */
const decodeOf = (code: string) => `${code} decode`;

/**
 * Runs the profile with command-line options (`--size`, `--chunk-size`, `--runs`, `--no-perf`)
 * and prints the table.
 *
 * @example
 * Not run by `deno test --doc`: minutes of work on 16 datanode processes.
 * ```ts ignore
 * import { runCpuProfile } from "./cpu_profile.ts";
 * await runCpuProfile(["--size", "256M", "--runs", "1"]);
 * ```
 *
 * @param args The options.
 */
export async function runCpuProfile(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      size: { type: "string", default: "1G" },
      "chunk-size": { type: "string", default: "1M" },
      runs: { type: "string", default: "3" },
      "no-perf": { type: "boolean", default: false },
    },
  });
  const objectSize = parseSize(values.size, "--size");
  const chunkSize = parseSize(values["chunk-size"], "--chunk-size");
  const runs = Number(values.runs);
  const unavailable = values["no-perf"] ? "--no-perf" : await perfUnavailable();
  if (unavailable !== null) console.error(`no profile: ${unavailable}`);
  const say = (line: string) => console.error(line);
  const dir = await Deno.makeTempDir({ prefix: "cdfs-bench-cpu-" });
  // The processes started here (and only they) name their frames for perf; V8 then also writes
  // an isolate-*-v8.log into their working directory: this run's temporary one.
  const flags = Deno.env.get("DENO_V8_FLAGS");
  const cwd = Deno.cwd();
  if (unavailable === null) Deno.env.set("DENO_V8_FLAGS", "--perf-basic-prof");
  Deno.chdir(dir);
  const processes: DataNodeProcess[] = [];
  const codes = [
    { module: rapidraid, pattern: "rapidraid" as const },
    { module: rs, pattern: "rs" as const },
  ];
  const results: CodeCpu[] = [...codes.map(({ module }) => `${module.name} encode`), "decode"].map((
    code,
  ) => ({
    code,
    cdfs: [],
    bare: [],
    cdfsProfile: null,
    bareProfile: null,
  }));
  // The decodes' CPU, by code; their bare movement (one pattern for both) goes in "decode".
  const decodes = codes.map(({ module }): CodeCpu => ({
    code: decodeOf(module.name),
    cdfs: [],
    bare: [],
    cdfsProfile: null,
    bareProfile: null,
  }));
  let partLength = 0;
  // Dirty pages of earlier work are flushed before each run, so that none lands in it; then the
  // memory the run writes into is warmed, so that every run, cdfs's or the bare one, first or not,
  // fills page cache from memory in the same state (`warmFreeMemory`).
  const settle = async () => {
    await new Deno.Command("sync").output();
    await warmFreeMemory(dir, 2 * objectSize);
  };
  try {
    say(`starting ${NODES} datanodes`);
    for (let i = 0; i < NODES; i++) {
      processes.push(
        await DataNodeProcess.start({
          dataDir: join(dir, `node${i}`),
          args: ["--id", `cpu${i}`, "--log", join(dir, `node${i}.log`)],
        }),
      );
    }
    const nodes = processes.map((p) => p.address);
    const pids = processes.map((p) => p.pid);
    const file = join(dir, "object.bin");
    await writeObject(file, objectSize);
    for (const [c, { module }] of codes.entries()) {
      const objectId = `cpu-${module.name}`;
      say(`placing ${values.size} for ${module.name}`);
      const put = await putParts({ module, nodes, objectId, file, chunkSize });
      partLength = put.manifest.partLength;
      const fresh = async () => {
        await deleteCoded(module, nodes, objectId);
        await settle();
      };
      // Once untimed (it warms every node up), `runs` times timed, once profiled.
      const measure = async (into: CodeCpu, prepare: () => Promise<void>, work: () => unknown) => {
        await prepare();
        await work();
        for (let run = 0; run < runs; run++) {
          await prepare();
          const before = await cpuSnapshot(pids);
          await work();
          const cpu = (await cpuSnapshot(pids)).ours - before.ours;
          into.cdfs.push(cpu);
          say(`  ${into.code} ${run + 1}: ${cpu.toFixed(2)} CPU s`);
        }
        if (unavailable !== null) return;
        await prepare();
        const recording = await startProfile([...pids, Deno.pid], dir);
        await work();
        into.cdfsProfile = await recording.stop();
      };
      await measure(results[c]!, fresh, () => encodeObject({ module, nodes, objectId, chunkSize }));
      // The decode from 11 coded blocks that needs the coded (not copied) ones.
      const survivors = checkingSurvivors(module);
      await Promise.all(module.coded.map(async ({ block, node }, b) => {
        if (survivors.includes(b)) return;
        using client = await DataNodeClient.connect(nodes[node]!);
        await client.delete(expandBlockName(block, objectId));
      }));
      const output = join(dir, `${objectId}.decoded`);
      await measure(
        decodes[c]!,
        settle,
        () => decodeObject({ module, nodes, objectId, output, chunkSize }),
      );
      await Deno.remove(output);
    }
    await Deno.remove(file);
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    processes.length = 0;

    const patterns = [...codes.map(({ pattern }) => pattern), "decode" as const];
    for (const [c, pattern] of patterns.entries()) {
      const bareDir = join(dir, `bare-${pattern}`);
      await placeBareParts(bareDir, partLength, pattern);
      const move = async (watch?: Parameters<typeof runBareMovement>[4]) => {
        await settle();
        return await runBareMovement(bareDir, pattern, partLength, chunkSize, watch);
      };
      await move(); // untimed
      for (let run = 0; run < runs; run++) {
        const m = await move();
        results[c]!.bare.push(m.cpuSeconds);
        say(`  ${pattern} bare move ${run + 1}: ${m.cpuSeconds.toFixed(2)} CPU s`);
      }
      if (unavailable === null) {
        await move(async (movers) => {
          const recording = await startProfile(movers, dir);
          return async () => {
            results[c]!.bareProfile = await recording.stop();
          };
        });
      }
      await Deno.remove(bareDir, { recursive: true });
    }
    // Each decode next to the one bare decode movement.
    const bareDecode = results.pop()!;
    for (const d of decodes) {
      results.push({ ...d, bare: bareDecode.bare, bareProfile: bareDecode.bareProfile });
    }
    console.log(report(results, objectSize, chunkSize, runs));
  } finally {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    Deno.chdir(cwd);
    if (flags === undefined) Deno.env.delete("DENO_V8_FLAGS");
    else Deno.env.set("DENO_V8_FLAGS", flags);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The table: CPU s/GiB by component, cdfs and bare per code, and the ratios. */
function report(results: CodeCpu[], objectSize: number, chunkSize: number, runs: number): string {
  const gib = objectSize / GIB;
  const columns = results.map((r) => {
    const cdfs = median(r.cdfs) / gib;
    const bare = median(r.bare) / gib;
    return {
      r,
      cdfs,
      bare,
      cdfsParts: split(cdfs, r.cdfsProfile),
      bareParts: split(bare, r.bareProfile),
    };
  });
  const f = (x: number | undefined) => (x ?? 0).toFixed(3);
  const lines = [
    `| component | ${columns.map(({ r }) => `${r.code}, cdfs | ${r.code}, bare`).join(" | ")} |`,
    `| --- |${columns.map(() => " ---: | ---: |").join("")}`,
    ...COMPONENTS.map((c) =>
      `| ${c} | ${
        columns.map((k) => `${f(k.cdfsParts.get(c))} | ${f(k.bareParts.get(c))}`).join(" | ")
      } |`
    ),
    `| **total, CPU s/GiB** | ${
      columns.map((k) => `**${f(k.cdfs)}** | **${f(k.bare)}**`).join(" | ")
    } |`,
    "",
    ...columns.map((k) =>
      `${k.r.code}: cdfs / bare ${(k.cdfs / k.bare).toFixed(2)}× (target ≤ 1.3×); runs ` +
      `${k.r.cdfs.map((s) => s.toFixed(2)).join(", ")} CPU s against ` +
      `${k.r.bare.map((s) => s.toFixed(2)).join(", ")}; profiles of ` +
      `${k.r.cdfsProfile?.samples ?? 0} and ${k.r.bareProfile?.samples ?? 0} samples`
    ),
    `${objectSize} B object, ${chunkSize} B steps, median of ${runs} runs each`,
  ];
  return lines.join("\n");
}

if (import.meta.main) await runCpuProfile(Deno.args);
