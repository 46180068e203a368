/**
 * The measuring part of `cdfs bench repair`, on one running cluster: for every code, one object
 * put (`putParts`), encoded with its part replicas dropped, then, for every coded block, `runs`
 * times:
 *
 * - **single loss**: the block deleted on its node and rebuilt there (`repairBlock`, timed);
 * - **double loss**: the block and a second one deleted (the first block its cheapest single
 *   repair reads, so the repair has to take another way), the block rebuilt (timed), then the
 *   second one (untimed, to restore the object).
 *
 * Bytes moved are the repair run's own traffic counters (STATS of the run id on the node that
 * rebuilt the block: `upstream`, the bytes it pulled from each survivor's node), so nothing
 * else on the cluster counts; they are whole frames (headers and JSON replies included), so a
 * repair that reads r blocks moves a little more than r block lengths. Blocks read are the
 * survivors that sent at least one block length. Next to each: the analyzer's cheapest plan
 * for the same loss (`cheapestRepair` of src/coding/analysis/repair.ts). Everything stored is
 * deleted at the end, also on failure.
 *
 * @module
 */
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import type { DataNodeClientOptions } from "../../src/client/node_connection.ts";
import { encodeObject } from "../../src/client/objects/encode.ts";
import { newRunId } from "../../src/client/objects/program_runs.ts";
import { putParts } from "../../src/client/objects/put_parts.ts";
import { repairBlock } from "../../src/client/objects/repair.ts";
import { moduleNodeCount } from "../../src/client/objects/target.ts";
import { cheapestRepair } from "../../src/coding/analysis/repair.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { CdfsError, isCdfsError } from "../../src/core/errors.ts";
import { randomHex } from "../../src/core/random.ts";
import { deleteObject, writeRandomFile } from "../common/bench_objects.ts";

/**
 * The codes `bench repair` compares by default: RS, LRC and RapidRAID with the same k = 10
 * (the HDFS-Xorbas paper's RS(10,4) and LRC(10,2,2), and the RapidRAID member of the same
 * length n = 14).
 *
 * @example
 * ```ts
 * import { DEFAULT_REPAIR_CODES } from "./repair_bench.ts";
 * console.log(DEFAULT_REPAIR_CODES.join(" ")); // "rs:k=10,m=4 lrc:k=10,l=2,r=2 rapidraid:n=14,k=10"
 * ```
 */
export const DEFAULT_REPAIR_CODES: readonly string[] = [
  "rs:k=10,m=4",
  "lrc:k=10,l=2,r=2",
  "rapidraid:n=14,k=10",
];

/**
 * The measurement's choices, the same on every cluster of a session.
 *
 * @example
 * ```ts
 * import type { RepairChoices } from "./repair_bench.ts";
 * const choices: RepairChoices = { codes: ["rs:k=10,m=4"], objectBytes: 65536, runs: 1 };
 * ```
 */
export interface RepairChoices {
  /** The codes by spec (canonical names), in this order. */
  readonly codes: readonly string[];
  /** Bytes of each code's object. */
  readonly objectBytes: number;
  /** Timed repairs of every block, per kind of loss. */
  readonly runs: number;
}

/**
 * One timed repair.
 *
 * @example
 * ```ts
 * import type { RepairRun } from "./repair_bench.ts";
 * const run: RepairRun = {
 *   code: "rs:k=10,m=4", loss: "single", block: 3, run: 0, seconds: 0.05,
 *   bytesMoved: 66_000, blocksRead: 10, predicted: 10,
 * };
 * ```
 */
export interface RepairRun {
  /** The code. */
  readonly code: string;
  /** One block lost, or two. */
  readonly loss: "single" | "double";
  /** The block rebuilt. */
  readonly block: number;
  /** With a double loss: the other block lost. */
  readonly other?: number;
  /** The run's index (0-based). */
  readonly run: number;
  /** The repair's time (`repairBlock`, survey of the survivors included). */
  readonly seconds: number;
  /** Frame bytes the rebuilding node pulled from other nodes for the run. */
  readonly bytesMoved: number;
  /** Survivors that sent the rebuilding node at least one block length. */
  readonly blocksRead: number;
  /** The analyzer's blocks read for this loss (its cheapest plan). */
  readonly predicted: number;
}

/**
 * What one cluster measured.
 *
 * @example
 * ```ts
 * import type { RepairMeasurement } from "./repair_bench.ts";
 * const m: RepairMeasurement = {
 *   codes: ["rs:k=10,m=4"], objectBytes: 65536, runs: 1, nodes: [], blockBytes: {}, repairs: [],
 * };
 * ```
 */
export interface RepairMeasurement extends RepairChoices {
  /** The cluster's node addresses. */
  readonly nodes: readonly string[];
  /** Bytes of each coded block, by code. */
  readonly blockBytes: Readonly<Record<string, number>>;
  /** Every timed repair. */
  readonly repairs: readonly RepairRun[];
}

/**
 * Options of {@linkcode measureRepairs}.
 *
 * @example
 * ```ts
 * import type { RepairMeasureOptions } from "./repair_bench.ts";
 * const o: RepairMeasureOptions = { codes: ["rs:k=10,m=4"], objectBytes: 65536, runs: 1, nodes: [] };
 * ```
 */
export interface RepairMeasureOptions extends RepairChoices {
  /** The cluster's node addresses; each code uses the first ones it needs. */
  readonly nodes: readonly string[];
  /** Where the object's file is written (default the system's temp directory). */
  readonly tempDir?: string;
  /** Told a line of progress now and then. */
  readonly onProgress?: (line: string) => void;
  /** Stops the measurement between repairs. */
  readonly signal?: AbortSignal;
  /** Client timeouts. */
  readonly client?: DataNodeClientOptions;
}

/**
 * Checks and loads a comma-separated list of codes (`rs:k=10,m=4,lrc:k=10,l=2,r=2` is split
 * before each family name, so the parameters' commas stay): every code loads, none repeats.
 *
 * @example
 * ```ts
 * import { parseRepairCodes } from "./repair_bench.ts";
 * const codes = await parseRepairCodes("rs:k=4,m=2,lrc:k=4,l=2,r=1");
 * console.log(codes); // [ "rs:k=4,m=2", "lrc:k=4,l=2,r=1" ]
 * ```
 *
 * @param text The list.
 * @param maxNodes The most nodes a code may need (the cluster's size).
 * @returns The codes' canonical names, in order.
 * @throws {CdfsError} USAGE naming a code that does not load, needs too many nodes, or repeats,
 * or for an empty list.
 */
export async function parseRepairCodes(text: string, maxNodes = 16): Promise<string[]> {
  // A new code starts at a word followed by ":" (a family) or at a word without "=".
  const words = text.split(",").map((w) => w.trim()).filter((w) => w !== "");
  const specs: string[] = [];
  for (const word of words) {
    if (word.includes(":") || !word.includes("=") || specs.length === 0) specs.push(word);
    else specs[specs.length - 1] += `,${word}`;
  }
  if (specs.length === 0) throw new CdfsError("USAGE", "--codes: name at least one code");
  const names: string[] = [];
  for (const spec of specs) {
    let module: CodingModule;
    try {
      module = await loadCodingModule(spec);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new CdfsError("USAGE", `--codes: '${spec}' is not a code: ${message}`);
    }
    const needs = moduleNodeCount(module);
    if (needs > maxNodes) {
      throw new CdfsError(
        "USAGE",
        `--codes: '${module.name}' needs ${needs} nodes; the bench has ${maxNodes}`,
      );
    }
    if (names.includes(module.name)) {
      throw new CdfsError("USAGE", `--codes: '${module.name}' is named twice`);
    }
    names.push(module.name);
  }
  return names;
}

/**
 * Checks the counts of the choices.
 *
 * @example
 * ```ts
 * import { checkRepairCounts } from "./repair_bench.ts";
 * checkRepairCounts({ objectBytes: 65536, runs: 1 }); // fine
 * ```
 *
 * @param choices The object's size and the runs.
 * @throws {CdfsError} USAGE for a count that is not a positive integer.
 */
export function checkRepairCounts(choices: Pick<RepairChoices, "objectBytes" | "runs">): void {
  for (
    const [what, value] of [["--size", choices.objectBytes], ["--runs", choices.runs]] as const
  ) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new CdfsError("USAGE", `${what} must be an integer of at least 1, got ${value}`);
    }
  }
}

/**
 * Measures every code's repairs on a running cluster (see the module's description).
 *
 * @example
 * Not run by `deno test --doc`: it needs 14 running datanodes.
 * ```ts ignore
 * import { measureRepairs } from "./repair_bench.ts";
 * const m = await measureRepairs({ codes: ["rs:k=10,m=4"], objectBytes: 65536, runs: 1, nodes });
 * console.log(m.repairs.length); // 28
 * ```
 *
 * @param options The codes, size, runs, the cluster's nodes, progress, abort.
 * @returns Every repair, timed and counted.
 * @throws {CdfsError} USAGE for a cluster too small for a code; the first failure of a put,
 * encode or repair, naming the code.
 */
export async function measureRepairs(options: RepairMeasureOptions): Promise<RepairMeasurement> {
  const { codes, objectBytes, runs } = options;
  checkRepairCounts(options);
  const say = options.onProgress ?? (() => {});
  const client = options.client === undefined ? {} : { client: options.client };
  const tag = `bench-repair-${randomHex(4)}`;
  const dir = await Deno.makeTempDir({
    prefix: "cdfs-bench-repair-",
    ...(options.tempDir === undefined ? {} : { dir: options.tempDir }),
  });
  const stored: { module: CodingModule; nodes: readonly string[]; objectId: string }[] = [];
  try {
    const file = join(dir, "object.bin");
    await writeRandomFile(file, objectBytes);
    const repairs: RepairRun[] = [];
    const blockBytes: Record<string, number> = {};
    for (const [c, code] of codes.entries()) {
      const module = await loadCodingModule(code);
      const needs = moduleNodeCount(module);
      if (needs > options.nodes.length) {
        throw new CdfsError(
          "USAGE",
          `${code} needs ${needs} nodes; this cluster has ${options.nodes.length}`,
        );
      }
      const target = { module, nodes: options.nodes.slice(0, needs), objectId: `${tag}-${c}` };
      stored.push(target);
      say(`${code}: putting and encoding the object`);
      try {
        await putParts({ ...target, ...client, file, overwrite: true });
        const encoded = await encodeObject({ ...target, ...client, dropReplicas: true });
        blockBytes[code] = encoded.length;
        for (let run = 0; run < runs; run++) {
          for (let block = 0; block < module.n; block++) {
            options.signal?.throwIfAborted();
            const single = await timeRepair(target, block, undefined, options.client);
            repairs.push({ code, loss: "single", block, run, ...single });
            const other = cheapestRepair(module, block)?.read[0];
            if (other === undefined) continue;
            const double = await timeRepair(target, block, other, options.client);
            repairs.push({ code, loss: "double", block, other, run, ...double });
          }
          say(`${code}: run ${run + 1}/${runs}: ${module.n} single and double losses repaired`);
        }
      } catch (error) {
        if (isCdfsError(error, "USAGE") || options.signal?.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        const code2 = isCdfsError(error) ? error.code : "INTERNAL";
        throw new CdfsError(code2, `${code}: ${message}`, { cause: error });
      }
    }
    return { codes: [...codes], objectBytes, runs, nodes: [...options.nodes], blockBytes, repairs };
  } finally {
    say("removing the benchmark's blocks");
    for (const t of stored) await deleteObject(t.module, t.nodes, t.objectId, options.client);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Deletes `block` (and `other`), times the repair of `block`, counts its traffic, and repairs
 * `other` again (untimed).
 */
async function timeRepair(
  target: { module: CodingModule; nodes: readonly string[]; objectId: string },
  block: number,
  other: number | undefined,
  client: DataNodeClientOptions | undefined,
): Promise<Omit<RepairRun, "code" | "loss" | "block" | "other" | "run">> {
  const { module, nodes, objectId } = target;
  const lost = other === undefined ? [block] : [block, other];
  for (const b of lost) {
    using connection = await DataNodeClient.connect(nodes[module.coded[b]!.node]!, client);
    await connection.delete(expandBlockName(module.coded[b]!.block, objectId));
  }
  const all = Array.from({ length: module.n }, (_, i) => i);
  const predicted = cheapestRepair(module, block, all.filter((b) => !lost.includes(b)))?.read
    .length;
  if (predicted === undefined) {
    throw new CdfsError("INTERNAL", `the analyzer has no repair of block ${block}`);
  }
  const runId = newRunId();
  const begun = performance.now();
  const result = await repairBlock({ ...target, block, runId, ...(client ? { client } : {}) });
  const seconds = Math.round((performance.now() - begun) * 1000) / 1e6;
  using connection = await DataNodeClient.connect(result.address, client);
  const stats = await connection.stats(result.runId);
  const upstream = Object.values(stats.runs[result.runId]?.upstream ?? {});
  const bytesMoved = upstream.reduce((sum, peer) => sum + peer.bytesIn, 0);
  const blocksRead = upstream.filter((peer) => peer.bytesIn >= result.length).length;
  if (other !== undefined) {
    await repairBlock({ ...target, block: other, ...(client ? { client } : {}) });
  }
  return { seconds, bytesMoved, blocksRead, predicted };
}
