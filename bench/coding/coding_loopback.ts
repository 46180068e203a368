/**
 * The loopback part of the coding benchmark (`bench/coding/coding.ts`): 16 `cdfs datanode serve`
 * child processes on 127.0.0.1, the parts of one object placed on them for RapidRAID (part j on
 * nodes j and j + 5) and for RS(11+5) (part j on node j) with `putParts`, then the wall time of
 * `encodeObject`: one pipelined RapidRAID encode (the client starts `enc_node15` on node 15,
 * which pulls node 14, ... down to node 0) next to the classical RS encode (every program of
 * `rs.encode` started at once with one run id: node 11 reads the 11 parts, computes the 5
 * parities and sends 4 of them on). After one untimed encode of each, the two alternate run by
 * run so that they share the machine's conditions; before every encode the coded blocks are
 * deleted and dirty pages flushed (`sync`), so no write-back of earlier work lands in it.
 *
 * After the timed runs each object is decoded from 11 coded blocks chosen so that the decode
 * needs the coded (not copied) blocks, and the result is checked against the SHA-256 the
 * manifest recorded: a benchmark of wrong bytes is worthless.
 *
 * @module
 */

import {
  CLOCK_TICKS,
  cpuSecondsBetween,
  processCpuTimes,
  readCpuTicks,
} from "../common/machine.ts";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";
import { decodeObject } from "../../src/client/objects/decode.ts";
import { encodeObject } from "../../src/client/objects/encode.ts";
import { putParts } from "../../src/client/objects/put_parts.ts";
import { analyze } from "../../src/coding/analysis/symbolic.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { codingModule as rs } from "../../coding/rs.ts";
import { DataNodeProcess } from "../../tests/helpers/datanode_process.ts";
import { makeParts } from "./coding_parts.ts";

/**
 * Options of {@linkcode runLoopback}.
 *
 * @example
 * ```ts
 * import type { LoopbackOptions } from "./coding_loopback.ts";
 * const options: LoopbackOptions = { objectSize: 64 << 20, runs: 1, chunkSize: 1 << 20 };
 * ```
 */
export interface LoopbackOptions {
  /** Bytes of the object (11 parts, the last zero-padded). */
  objectSize: number;
  /** Encodes of each code; the median is reported. */
  runs: number;
  /** The coding runs' step size. */
  chunkSize: number;
  /** Called with a line of progress now and then. */
  progress?: (line: string) => void;
}

/**
 * The timings of one code.
 *
 * @example
 * ```ts
 * import type { LoopbackCode } from "./coding_loopback.ts";
 * const c: LoopbackCode = {
 *   module: "rs", entries: 16, seconds: [2.1], cpuSeconds: [3.9], otherCpuSeconds: [0.1],
 *   median: 2.1, medianCpuSeconds: 3.9, gbps: 0.51, decodeSeconds: 3,
 *   decodedFrom: [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
 * };
 * ```
 */
export interface LoopbackCode {
  /** The module name. */
  module: string;
  /** Programs the client starts. */
  entries: number;
  /** Wall time of every encode. */
  seconds: number[];
  /** CPU seconds the 16 nodes and the client used in every encode. */
  cpuSeconds: number[];
  /**
   * CPU seconds the rest of the machine used during every encode (all busy time minus ours):
   * other work competing for the cores.
   */
  otherCpuSeconds: number[];
  /** The median of {@linkcode LoopbackCode.seconds}. */
  median: number;
  /** The median of {@linkcode LoopbackCode.cpuSeconds}. */
  medianCpuSeconds: number;
  /** GB/s of object data at the median time. */
  gbps: number;
  /** Wall time of the checking decode. */
  decodeSeconds: number;
  /** The coded blocks the checking decode used. */
  decodedFrom: readonly number[];
}

/**
 * What {@linkcode runLoopback} measured.
 *
 * @example
 * ```ts
 * import type { LoopbackResult } from "./coding_loopback.ts";
 * const show = (r: LoopbackResult) => `RapidRAID / RS time: ${r.rapidraidOverRs.toFixed(2)}`;
 * ```
 */
export interface LoopbackResult {
  /** The datanodes of the loopback cluster. */
  nodes: number;
  /** Bytes of each encoded object. */
  objectSize: number;
  /** Bytes of each of its k parts. */
  partLength: number;
  /** The step size of the coding runs. */
  chunkSize: number;
  /** The machine's logical CPUs (the nodes and the client share them). */
  cpus: number;
  /** Wall time of `putParts` of each object (not part of the encode). */
  placeSeconds: { rapidraid: number; rs: number };
  /** The RapidRAID encodes (pipelined through the 16 nodes). */
  rapidraid: LoopbackCode;
  /** The Reed-Solomon encodes (the reference). */
  rs: LoopbackCode;
  /** RapidRAID median time / RS median time (below 1: RapidRAID is faster). */
  rapidraidOverRs: number;
  /** The median of the per-run ratios (each run times both codes back to back). */
  rapidraidOverRsPerRun: number;
  /** Runs in which other work used more than a tenth of the cores' time. */
  contendedRuns: number;
}

/** Logical nodes: both codes use 16. */
const NODES = 16;

/**
 * Why the loopback part cannot run in this tree (the CODING operation or the client's
 * `runCoding` missing), or null when it can.
 *
 * @example
 * ```ts
 * import { loopbackUnavailable } from "./coding_loopback.ts";
 * console.log(await loopbackUnavailable()); // null once CODING exists
 * ```
 *
 * @returns A reason, or null.
 */
export async function loopbackUnavailable(): Promise<string | null> {
  if (typeof runCoding !== "function") {
    return "runCoding() (src/coding/runtime/coding_stream.ts) does not exist yet";
  }
  try {
    await Deno.stat(new URL("../../src/datanode/ops/coding.ts", import.meta.url));
  } catch {
    return "the datanode's CODING operation (src/datanode/ops/coding.ts) does not exist yet";
  }
  return null;
}

/**
 * Our CPU seconds (the node processes and this one) and the machine's, at one moment.
 *
 * @example
 * ```ts
 * import { cpuSnapshot } from "./coding_loopback.ts";
 * console.log((await cpuSnapshot([])).ours > 0); // true
 * ```
 *
 * @param pids The node processes.
 * @returns CPU seconds so far: theirs and this process's, and the whole machine's.
 */
export async function cpuSnapshot(
  pids: readonly number[],
): Promise<{ ours: number; machine: number }> {
  const empty = new Map<string, number>();
  const nodes = await Promise.all(
    [...pids, Deno.pid].map(async (pid) => cpuSecondsBetween(empty, await processCpuTimes(pid))),
  );
  return {
    ours: nodes.reduce((a, b) => a + b, 0),
    machine: (await readCpuTicks()).busy / CLOCK_TICKS,
  };
}

/**
 * A file of `size` pseudo-random bytes (the same generator as the in-process parts).
 *
 * @example
 * Not run by `deno test --doc`: it writes a file.
 * ```ts ignore
 * import { writeObject } from "./coding_loopback.ts";
 * await writeObject("/tmp/object.bin", 1 << 20);
 * ```
 *
 * @param path The file.
 * @param size Its bytes.
 */
export async function writeObject(path: string, size: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = 64 << 20;
  for (let at = 0, seed = 1; at < size; at += chunk, seed++) {
    const n = Math.min(chunk, size - at);
    const [bytes] = makeParts(1, Math.ceil(n / 4) * 4, seed, (b) => new Uint8Array(b));
    let written = 0;
    while (written < n) written += await file.write(bytes!.subarray(written, n));
  }
}

/**
 * Removes the coded blocks of an object from their nodes (absent ones are fine).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { deleteCoded } from "./coding_loopback.ts";
 * import { codingModule as rs } from "../../coding/rs.ts";
 * await deleteCoded(rs, nodes, "bench-rs");
 * ```
 *
 * @param module The code.
 * @param nodes The nodes' addresses, by logical node.
 * @param objectId The object.
 */
export async function deleteCoded(
  module: CodingModule,
  nodes: readonly string[],
  objectId: string,
): Promise<void> {
  await Promise.all(module.coded.map(async (c) => {
    using client = await DataNodeClient.connect(nodes[c.node]!);
    try {
      await client.delete(expandBlockName(c.block, objectId));
    } catch (error) {
      if (!isCdfsError(error, "NOT_FOUND")) throw error;
    }
  }));
}

/**
 * The first 11 coded blocks (lowest lost set first, lost blocks taken from the front) that
 * decode and need coded blocks beyond the first k: losing blocks 0..4 forces RS to use all 5
 * parities and RapidRAID its last 5 coded blocks, if that set decodes.
 *
 * @example
 * ```ts
 * import { checkingSurvivors } from "./coding_loopback.ts";
 * import { codingModule as rs } from "../../coding/rs.ts";
 * console.log(checkingSurvivors(rs)); // [ 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 ]
 * ```
 *
 * @param module The code.
 * @returns The survivors.
 */
export function checkingSurvivors(module: CodingModule): number[] {
  const lost = module.n - module.k;
  const undecodable = new Set(analyze(module).undecodableSubsets.map((s) => [...s].join(",")));
  for (let first = 0; first + lost <= module.n; first++) {
    const survivors = Array.from({ length: module.n }, (_, i) => i)
      .filter((i) => i < first || i >= first + lost);
    if (!undecodable.has(survivors.join(","))) return survivors;
  }
  throw new Error(`${module.name}: no window of ${lost} lost blocks decodes`);
}

/**
 * Starts 16 datanodes, places a `objectSize` object for both codes, times the encodes
 * (alternating), checks each code once by decoding, stops the nodes.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { runLoopback } from "./coding_loopback.ts";
 * const r = await runLoopback({ objectSize: 64 << 20, runs: 1, chunkSize: 1 << 20 });
 * console.log(r.rapidraid.median, r.rs.median);
 * ```
 *
 * @param options Object size, runs, chunk size, progress.
 * @returns The timings.
 * @throws {Error} When a node does not start, an encode fails or a decode does not verify.
 */
export async function runLoopback(options: LoopbackOptions): Promise<LoopbackResult> {
  const say = options.progress ?? (() => {});
  const dir = await Deno.makeTempDir({ prefix: "cdfs-bench-coding-" });
  const processes: DataNodeProcess[] = [];
  try {
    say(`  starting ${NODES} datanodes`);
    const started = await Promise.allSettled(
      Array.from({ length: NODES }, (_, i) =>
        DataNodeProcess.start({
          dataDir: join(dir, `node${i}`),
          args: ["--id", `bench${i}`, "--log", join(dir, `node${i}.log`)],
        })),
    );
    for (const s of started) if (s.status === "fulfilled") processes.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    const nodes = processes.map((p) => p.address);

    const file = join(dir, "object.bin");
    await writeObject(file, options.objectSize);
    const codes = [
      { module: rapidraid, objectId: "bench-rapidraid" },
      { module: rs, objectId: "bench-rs" },
    ] as const;
    const placeSeconds = [0, 0];
    let partLength = 0;
    for (const [i, { module, objectId }] of codes.entries()) {
      say(`  placing the parts for ${module.name}`);
      const start = performance.now();
      const put = await putParts({
        module,
        nodes,
        objectId,
        file,
        chunkSize: options.chunkSize,
      });
      placeSeconds[i] = (performance.now() - start) / 1000;
      partLength = put.manifest.partLength;
    }
    await Deno.remove(file);

    const pids = processes.map((p) => p.pid);
    const seconds: [number[], number[]] = [[], []];
    const cpu: [number[], number[]] = [[], []];
    const otherCpu: [number[], number[]] = [[], []];
    const encode = async (i: number): Promise<void> => {
      const { module, objectId } = codes[i]!;
      await encodeObject({ module, nodes, objectId, chunkSize: options.chunkSize });
    };
    const prepare = async (i: number): Promise<void> => {
      await deleteCoded(codes[i]!.module, nodes, codes[i]!.objectId);
      // Flush dirty pages (the parts, the previous encode's blocks), so that no write-back
      // of earlier work lands in the next encode.
      await new Deno.Command("sync").output();
    };
    say("  one untimed encode of each code");
    for (const i of [0, 1]) {
      await prepare(i);
      await encode(i);
    }
    for (let run = 0; run < options.runs; run++) {
      // Alternate which code goes first, so neither always follows the other's writes.
      const order = run % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const { module } = codes[i]!;
        await prepare(i);
        const before = await cpuSnapshot(pids);
        const start = performance.now();
        await encode(i);
        const s = (performance.now() - start) / 1000;
        const after = await cpuSnapshot(pids);
        const ours = after.ours - before.ours;
        seconds[i]!.push(s);
        cpu[i]!.push(ours);
        otherCpu[i]!.push(Math.max(0, after.machine - before.machine - ours));
        say(`  ${module.name} encode ${run + 1}: ${s.toFixed(2)} s, ${ours.toFixed(2)} CPU s`);
      }
    }

    const results: LoopbackCode[] = [];
    for (const [i, { module, objectId }] of codes.entries()) {
      const survivors = checkingSurvivors(module);
      const lost = module.coded.map((_, b) => b).filter((b) => !survivors.includes(b));
      await Promise.all(lost.map(async (b) => {
        using client = await DataNodeClient.connect(nodes[module.coded[b]!.node]!);
        await client.delete(expandBlockName(module.coded[b]!.block, objectId));
      }));
      const start = performance.now();
      const decoded = await decodeObject({
        module,
        nodes,
        objectId,
        output: join(dir, `${objectId}.decoded`),
        chunkSize: options.chunkSize,
      });
      const decodeSeconds = (performance.now() - start) / 1000;
      if (decoded.sha256 !== decoded.manifest.sha256) {
        throw new Error(`${module.name}: the decoded object does not match the manifest's hash`);
      }
      await Deno.remove(join(dir, `${objectId}.decoded`));
      say(`  ${module.name} decode from ${decoded.used.join(",")}: ${decodeSeconds.toFixed(2)} s`);
      const median = medianOf(seconds[i]!);
      const round = (s: number) => Math.round(s * 1000) / 1000;
      results.push({
        module: module.name,
        entries: typeof module.encode === "string" ? 1 : module.encode.length,
        seconds: seconds[i]!.map(round),
        cpuSeconds: cpu[i]!.map(round),
        otherCpuSeconds: otherCpu[i]!.map(round),
        median,
        medianCpuSeconds: medianOf(cpu[i]!),
        gbps: options.objectSize / median / 1e9,
        decodeSeconds,
        decodedFrom: decoded.used,
      });
    }
    const [rr, rsResult] = results as [LoopbackCode, LoopbackCode];
    return {
      nodes: NODES,
      objectSize: options.objectSize,
      partLength,
      chunkSize: options.chunkSize,
      cpus: navigator.hardwareConcurrency,
      placeSeconds: { rapidraid: placeSeconds[0]!, rs: placeSeconds[1]! },
      rapidraid: rr,
      rs: rsResult,
      rapidraidOverRs: rr.median / rsResult.median,
      rapidraidOverRsPerRun: medianOf(seconds[0].map((s, run) => s / seconds[1][run]!)),
      contendedRuns: seconds.flatMap((times, i) =>
        times.filter((s, run) =>
          otherCpu[i]![run]! > 0.1 * s * navigator.hardwareConcurrency
        )
      ).length,
    };
  } finally {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The loopback results as Markdown.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { loopbackTable, runLoopback } from "./coding_loopback.ts";
 * console.log(loopbackTable(await runLoopback({ objectSize: 64 << 20, runs: 1, chunkSize: 1 << 20 })));
 * ```
 *
 * @param r The results.
 * @returns A heading, a table and a note.
 */
export function loopbackTable(r: LoopbackResult): string {
  const gib = r.objectSize / (1 << 30);
  const size = Number.isInteger(gib)
    ? `${gib} GiB`
    : `${(r.objectSize / (1 << 20)).toFixed(0)} MiB`;
  const runs = r.rapidraid.seconds.length;
  const row = (label: string, c: LoopbackCode, how: string): string =>
    `| ${label} | ${how} | ${c.median.toFixed(2)} | ${c.gbps.toFixed(2)} | ` +
    `${c.medianCpuSeconds.toFixed(1)} | ${c.seconds.map((s) => s.toFixed(2)).join(", ")} |`;
  return [
    `## Loopback encode of a ${size} object on ${r.nodes} datanode processes, median of ${runs}`,
    "",
    `Parts of ${r.partLength} bytes, steps of ${r.chunkSize} bytes; ${r.nodes} node processes ` +
    `and the client share ${r.cpus} CPU cores, so the CPU, not the network, bounds both.`,
    "",
    "| code | what runs | wall time, s | GB/s of object | CPU time, s | every run, s |",
    "|---|---|--:|--:|--:|--:|",
    row(
      "RapidRAID (16,11)",
      r.rapidraid,
      "client starts `enc_node15`; 16 nodes in one pipeline",
    ),
    row(
      "RS(11+5)",
      r.rs,
      `client starts all ${r.rs.entries} programs; node 11 reads 11 parts, encodes, sends 4 parities`,
    ),
    "",
    `RapidRAID / RS wall time: **${r.rapidraidOverRs.toFixed(2)}** ` +
    `(${r.rapidraidOverRs < 1 ? "RapidRAID faster" : "RS faster"}; median of the per-run ` +
    `ratios ${r.rapidraidOverRsPerRun.toFixed(2)}). CPU time = user + system time of the 16 ` +
    `node processes and the client during the encode. ${
      r.contendedRuns === 0
        ? "No run shared the cores with other work."
        : `**${r.contendedRuns} of ${2 * runs} encodes shared the cores with other work** ` +
          "(more than a tenth of the cores' time used by other processes): rerun on a quiet " +
          "machine."
    } Checked by decoding each ` +
    `object from 11 coded blocks (RapidRAID {${r.rapidraid.decodedFrom.join(", ")}} in ` +
    `${r.rapidraid.decodeSeconds.toFixed(1)} s, RS {${r.rs.decodedFrom.join(", ")}} in ` +
    `${r.rs.decodeSeconds.toFixed(1)} s) against the object's SHA-256.`,
  ].join("\n");
}
