// deno-lint-ignore-file no-console
/**
 * CPU per byte on the cluster path (issue 15 item 4): the CPU-seconds per GiB of a RapidRAID
 * (16,11) pipelined encode on 16 `cdfs datanode serve` processes on loopback, by component
 * from a `perf` profile, next to the bare data movement of the same pattern (`bare_movement.ts`:
 * the same bytes over the same TCP hops and to disk with the same fsyncs, no coding, checksums
 * or framing) measured in the same run.
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
import { encodeObject } from "../../src/client/objects/encode.ts";
import { putParts } from "../../src/client/objects/put_parts.ts";
import { parseSize } from "../../src/cli/command.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { DataNodeProcess } from "../../tests/helpers/datanode_process.ts";
import { COMPONENTS, perfUnavailable, type Profile, startProfile } from "../common/perf_profile.ts";
import { placeBareParts, runBareMovement } from "./bare_movement.ts";
import { cpuSnapshot, deleteCoded, writeObject } from "./coding_loopback.ts";

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

async function main(): Promise<void> {
  const { values } = parseArgs({
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
  const noPerf = values["no-perf"] || (await perfUnavailable()) !== null;
  if (noPerf && !values["no-perf"]) console.error(`no profile: ${await perfUnavailable()}`);
  if (!noPerf) Deno.env.set("DENO_V8_FLAGS", "--perf-basic-prof");
  const say = (line: string) => console.error(line);
  const dir = await Deno.makeTempDir({ prefix: "cdfs-bench-cpu-" });
  const processes: DataNodeProcess[] = [];
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
    const objectId = "cpu-rapidraid";
    say(`placing ${values.size} for rapidraid`);
    const put = await putParts({ module: rapidraid, nodes, objectId, file, chunkSize });
    await Deno.remove(file);
    const partLength = put.manifest.partLength;
    const encode = async (): Promise<void> => {
      await deleteCoded(rapidraid, nodes, objectId);
      await new Deno.Command("sync").output();
      await encodeObject({ module: rapidraid, nodes, objectId, chunkSize });
    };
    say("one untimed encode");
    await encode();
    const cdfsCpu: number[] = [];
    for (let run = 0; run < runs; run++) {
      await deleteCoded(rapidraid, nodes, objectId);
      await new Deno.Command("sync").output();
      const before = await cpuSnapshot(pids);
      await encodeObject({ module: rapidraid, nodes, objectId, chunkSize });
      const after = await cpuSnapshot(pids);
      cdfsCpu.push(after.ours - before.ours);
      say(`  encode ${run + 1}: ${(after.ours - before.ours).toFixed(2)} CPU s`);
    }
    let cdfsProfile: Profile | null = null;
    if (!noPerf) {
      await deleteCoded(rapidraid, nodes, objectId);
      await new Deno.Command("sync").output();
      const recording = await startProfile([...pids, Deno.pid], dir);
      await encodeObject({ module: rapidraid, nodes, objectId, chunkSize });
      cdfsProfile = await recording.stop();
      say(`  profiled encode: ${cdfsProfile.samples} samples`);
    }
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    processes.length = 0;

    const bareDir = join(dir, "bare");
    say("placing the bare parts");
    await placeBareParts(bareDir, partLength);
    await new Deno.Command("sync").output();
    say("one untimed bare move");
    await runBareMovement(bareDir, partLength, chunkSize);
    const bareCpu: number[] = [];
    for (let run = 0; run < runs; run++) {
      await new Deno.Command("sync").output();
      const move = await runBareMovement(bareDir, partLength, chunkSize);
      bareCpu.push(move.cpuSeconds);
      say(
        `  bare move ${run + 1}: ${move.cpuSeconds.toFixed(2)} CPU s, ${move.seconds.toFixed(2)} s`,
      );
    }
    let bareProfile: Profile | null = null;
    if (!noPerf) {
      await new Deno.Command("sync").output();
      await runBareMovement(bareDir, partLength, chunkSize, async (movers) => {
        const recording = await startProfile(movers, dir);
        return async () => {
          bareProfile = await recording.stop();
        };
      });
      say(`  profiled bare move: ${(bareProfile as Profile | null)?.samples} samples`);
    }

    const gib = objectSize / GIB;
    const cdfsTotal = median(cdfsCpu) / gib;
    const bareTotal = median(bareCpu) / gib;
    const cdfsParts = split(cdfsTotal, cdfsProfile);
    const bareParts = split(bareTotal, bareProfile);
    const rows = [
      "| component | cdfs encode, CPU s/GiB | bare movement, CPU s/GiB |",
      "| --- | ---: | ---: |",
      ...COMPONENTS.map((c) =>
        `| ${c} | ${(cdfsParts.get(c) ?? 0).toFixed(3)} | ${(bareParts.get(c) ?? 0).toFixed(3)} |`
      ),
      `| **total** | **${cdfsTotal.toFixed(3)}** | **${bareTotal.toFixed(3)}** |`,
    ];
    console.log(rows.join("\n"));
    console.log(
      `\ncdfs / bare: ${(cdfsTotal / bareTotal).toFixed(2)}× (target ≤ 1.3×); ` +
        `${values.size} object, ${chunkSize} B steps, median of ${runs} runs each; ` +
        `cdfs runs ${cdfsCpu.map((s) => s.toFixed(2)).join(", ")} CPU s, ` +
        `bare ${bareCpu.map((s) => s.toFixed(2)).join(", ")} CPU s`,
    );
  } finally {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
