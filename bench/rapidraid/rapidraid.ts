/**
 * The measuring part of `cdfs bench rapidraid`, on one running cluster: puts the objects once,
 * then times single and concurrent encodes of every scheme (RapidRAID pull, RapidRAID push,
 * classical RS(16,11)), several runs each, and records what the machine's CPUs did meanwhile
 * and, for pipelined encodes, when each node was busy (from STATS).
 *
 * - Objects: one object of `objectBytes` per concurrent encode (at least one), put once with
 *   `putParts` for each coding module used. Object o is placed on the node list rotated by o,
 *   so concurrent encodes spread their coordinators (RS) and pipeline heads (RapidRAID) over
 *   the nodes, as placement does in a real system; single encodes use object 0, unrotated.
 *   RapidRAID pull and push encode the same objects.
 * - Before every encode its coded blocks are deleted and dirty pages flushed (`sync`), so no
 *   write-back of earlier work lands in the measurement; nothing timed includes a put.
 * - Warm-up encodes (untimed) come first; then each run times a single encode of every scheme
 *   and then `concurrent` encodes of every scheme started at once (time until all finish),
 *   the order of the schemes rotating from run to run so none always follows another.
 * - Everything the measurement stored is deleted at the end (also on failure), so it can run
 *   on a cluster that holds other data.
 *
 * @module
 */
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import type { DataNodeClientOptions } from "../../src/client/node_connection.ts";
import {
  type EncodeMode,
  encodeObject,
  type EncodeResult,
} from "../../src/client/objects/encode.ts";
import { putParts } from "../../src/client/objects/put_parts.ts";
import { moduleNodeCount } from "../../src/client/objects/target.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { CdfsError, isCdfsError } from "../../src/core/errors.ts";
import { randomHex } from "../../src/core/random.ts";
import { formatCount } from "../../src/format/count.ts";
import type { RunTimes } from "../../src/protocol/responses.ts";
import type { EncodeShape } from "../common/ideal.ts";
import { busyFraction, readCpuTicks } from "../common/machine.ts";
import {
  deleteCoded,
  deleteObject,
  flushDirtyPages,
  writeRandomFile,
} from "../common/bench_objects.ts";

/**
 * The name of a scheme the bench compares.
 *
 * @example
 * ```ts
 * import type { SchemeName } from "./rapidraid.ts";
 * const scheme: SchemeName = "push";
 * ```
 */
export type SchemeName = "pull" | "push" | "rs";

/**
 * A scheme: which coding module, driven how.
 */
export interface Scheme {
  /** Its name on the command line. */
  readonly name: SchemeName;
  /** Its name in tables and charts. */
  readonly label: string;
  /** The coding module. */
  readonly module: string;
  /** How the client drives the encode. */
  readonly mode: EncodeMode;
  /** The shape of its data flow, for the link-limited ideal. */
  readonly shape: EncodeShape;
}

/**
 * Every scheme, in the order tables list them.
 *
 * @example
 * ```ts
 * import { SCHEMES } from "./rapidraid.ts";
 * console.log(Object.keys(SCHEMES)); // [ "pull", "push", "rs" ]
 * ```
 */
export const SCHEMES: Readonly<Record<SchemeName, Scheme>> = {
  pull: {
    name: "pull",
    label: "RapidRAID pull",
    module: "rapidraid",
    mode: "pull",
    shape: { kind: "pipeline", nodes: 16 },
  },
  push: {
    name: "push",
    label: "RapidRAID push",
    module: "rapidraid",
    mode: "push",
    shape: { kind: "pipeline", nodes: 16 },
  },
  rs: {
    name: "rs",
    label: "RS(16,11)",
    module: "rs",
    mode: "pull",
    shape: { kind: "coordinator", k: 11, m: 5 },
  },
};

/**
 * Parses a comma-separated scheme list (`pull,push,rs`), keeping its order, without repeats.
 *
 * @example
 * ```ts
 * import { parseSchemes } from "./rapidraid.ts";
 * console.log(parseSchemes("rs,pull")); // [ "rs", "pull" ]
 * ```
 *
 * @param text The list.
 * @returns The scheme names.
 * @throws {CdfsError} USAGE naming an unknown or repeated scheme, or for an empty list.
 */
export function parseSchemes(text: string): SchemeName[] {
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new CdfsError("USAGE", "--schemes: name at least one scheme");
  const seen = new Set<string>();
  for (const name of names) {
    if (!Object.hasOwn(SCHEMES, name)) {
      throw new CdfsError(
        "USAGE",
        `--schemes: unknown scheme '${name}'; use ${Object.keys(SCHEMES).join(", ")}`,
      );
    }
    if (seen.has(name)) throw new CdfsError("USAGE", `--schemes: '${name}' is named twice`);
    seen.add(name);
  }
  return names as SchemeName[];
}

/**
 * When one node was busy with one encode (its STATS `times` for the run), epoch milliseconds
 * by the node's clock; the fields are absent when the node reported no times.
 *
 * @example
 * ```ts
 * import type { NodeRunTimes } from "./rapidraid.ts";
 * const t: NodeRunTimes = { node: 0, startedAt: 1_800_000_000_000, endedAt: 1_800_000_000_900 };
 * ```
 */
export interface NodeRunTimes extends Partial<RunTimes> {
  /** The logical node. */
  readonly node: number;
}

/**
 * One timed encode, single or concurrent.
 *
 * @example
 * ```ts
 * import type { EncodeRun } from "./rapidraid.ts";
 * const run: EncodeRun = {
 *   scheme: "pull", kind: "single", run: 0, objects: 1, startedAt: 1_800_000_000_000,
 *   seconds: 1.25, encodeSeconds: [1.25], cpuBusy: 0.8, runIds: ["0123456789abcdef0123456789abcdef"],
 * };
 * ```
 */
export interface EncodeRun {
  /** The scheme. */
  readonly scheme: SchemeName;
  /** One encode, or `objects` at once. */
  readonly kind: "single" | "concurrent";
  /** The run's index (0-based). */
  readonly run: number;
  /** How many encodes ran at once. */
  readonly objects: number;
  /** When the encodes were started (epoch ms, this machine's clock). */
  readonly startedAt: number;
  /** From the start until every encode finished. */
  readonly seconds: number;
  /** Each encode's own time, by object. */
  readonly encodeSeconds: readonly number[];
  /** The share of the machine's CPU time (all cores) that was busy meanwhile, 0..1. */
  readonly cpuBusy: number;
  /** The encodes' run ids, by object. */
  readonly runIds: readonly string[];
  /** For a single pipelined encode: when each node was busy with it. */
  readonly nodeTimes?: readonly NodeRunTimes[];
}

/**
 * The measurement's choices, the same on every cluster of a session.
 *
 * @example
 * ```ts
 * import type { MeasureChoices } from "./rapidraid.ts";
 * const choices: MeasureChoices = {
 *   schemes: ["pull", "rs"], objectBytes: 2 << 20, chunkBytes: 1 << 16, runs: 1, concurrent: 2, warmUps: 0,
 * };
 * ```
 */
export interface MeasureChoices {
  /** The schemes to time, in this order. */
  readonly schemes: readonly SchemeName[];
  /** Bytes of each object. */
  readonly objectBytes: number;
  /** Bytes of each step of the coding runs. */
  readonly chunkBytes: number;
  /** Timed runs. */
  readonly runs: number;
  /** Encodes per concurrent run (0: no concurrent runs). */
  readonly concurrent: number;
  /** Untimed encodes of each scheme before the runs. */
  readonly warmUps: number;
}

/**
 * Everything measured on one cluster, with the choices it was measured with.
 *
 * @example
 * ```ts
 * import type { ClusterMeasurement } from "./rapidraid.ts";
 * const m: ClusterMeasurement = {
 *   nodes: [], schemes: ["pull"], objectBytes: 1 << 20, partBytes: 95_326, chunkBytes: 65536,
 *   concurrent: 0, runs: 1, warmUps: 0, putSeconds: {}, encodes: [],
 * };
 * ```
 */
export interface ClusterMeasurement extends MeasureChoices {
  /** The node addresses. */
  readonly nodes: readonly string[];
  /** Bytes of each part and coded block. */
  readonly partBytes: number;
  /** Seconds the puts of each module's objects took (not part of any encode). */
  readonly putSeconds: Readonly<Record<string, number>>;
  /** Every timed encode. */
  readonly encodes: readonly EncodeRun[];
}

/**
 * Options of {@linkcode measureOnCluster}.
 *
 * @example
 * ```ts
 * import type { MeasureOptions } from "./rapidraid.ts";
 * const options: MeasureOptions = {
 *   nodes: Array.from({ length: 16 }, (_, i) => `127.0.0.1:${13100 + i}`),
 *   schemes: ["pull", "rs"], objectBytes: 2 << 20, chunkBytes: 1 << 16,
 *   runs: 1, concurrent: 2, warmUps: 0,
 * };
 * ```
 */
export interface MeasureOptions extends MeasureChoices {
  /** The cluster's node addresses, in index order. */
  readonly nodes: readonly string[];
  /** Where the object's file is written (default the system's temp directory). */
  readonly tempDir?: string;
  /** Told a line of progress now and then. */
  readonly onProgress?: (line: string) => void;
  /** Stops the measurement between encodes. */
  readonly signal?: AbortSignal;
  /** Client timeouts. */
  readonly client?: DataNodeClientOptions;
}

/** How long to wait for the nodes' STATS to show a run's end (they note it after replying). */
const TIMES_SETTLE_MS = 1000;
const TIMES_POLL_MS = 25;

/**
 * Runs the measurement on a running cluster (see the module notes).
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { measureOnCluster } from "./rapidraid.ts";
 * const m = await measureOnCluster({
 *   nodes, schemes: ["pull", "push", "rs"], objectBytes: 64 << 20, chunkBytes: 1 << 20,
 *   runs: 5, concurrent: 16, warmUps: 1,
 * });
 * console.log(m.encodes.length);
 * ```
 *
 * @param options The nodes, schemes, sizes, counts, progress and abort signal.
 * @returns Every timed encode.
 * @throws {CdfsError} USAGE for bad counts or a cluster of the wrong size; the first failure
 * of an encode, as an error naming the scheme; an AbortError when the signal fires.
 */
export async function measureOnCluster(options: MeasureOptions): Promise<ClusterMeasurement> {
  const { nodes, schemes, objectBytes, chunkBytes, runs, concurrent, warmUps } = options;
  checkMeasureCounts(options);
  const say = options.onProgress ?? (() => {});
  const modules = new Map<string, CodingModule>();
  for (const name of schemes) {
    const moduleName = SCHEMES[name].module;
    if (modules.has(moduleName)) continue;
    const module = await loadCodingModule(moduleName);
    if (moduleNodeCount(module) !== nodes.length) {
      throw new CdfsError(
        "USAGE",
        `${SCHEMES[name].label} needs a cluster of ${moduleNodeCount(module)} nodes; ` +
          `this one has ${nodes.length}`,
      );
    }
    modules.set(moduleName, module);
  }
  const objectCount = Math.max(1, concurrent);
  const tag = `bench-${randomHex(4)}`;
  const objects = (moduleName: string) =>
    Array.from({ length: objectCount }, (_, o) => ({
      objectId: `${tag}-${moduleName}-${o}`,
      nodes: rotate(nodes, o),
    }));
  const dir = await Deno.makeTempDir({
    prefix: "cdfs-bench-rapidraid-",
    ...(options.tempDir === undefined ? {} : { dir: options.tempDir }),
  });
  const client = options.client === undefined ? {} : { client: options.client };
  try {
    const file = join(dir, "object.bin");
    await writeRandomFile(file, objectBytes);
    const putSeconds: Record<string, number> = {};
    let partBytes = 0;
    for (const [moduleName, module] of modules) {
      say(`putting ${formatCount(objectCount, "object")} for ${moduleName}`);
      const begun = performance.now();
      for (const object of objects(moduleName)) {
        options.signal?.throwIfAborted();
        const put = await putParts({
          module,
          file,
          chunkSize: chunkBytes,
          overwrite: true,
          ...object,
          ...client,
        });
        partBytes = put.manifest.partLength;
      }
      putSeconds[moduleName] = round3((performance.now() - begun) / 1000);
    }

    const encodes: EncodeRun[] = [];
    const time = async (name: SchemeName, kind: EncodeRun["kind"], run: number) => {
      options.signal?.throwIfAborted();
      const scheme = SCHEMES[name];
      const module = modules.get(scheme.module)!;
      const targets = objects(scheme.module).slice(0, kind === "single" ? 1 : concurrent);
      await Promise.all(
        targets.map((t) => deleteCoded(module, t.nodes, t.objectId, options.client)),
      );
      await flushDirtyPages();
      const before = await readCpuTicks();
      const startedAt = Date.now();
      const begun = performance.now();
      const results = await Promise.allSettled(targets.map(async (t) => {
        const result = await encodeObject({
          module,
          ...t,
          chunkSize: chunkBytes,
          mode: scheme.mode,
          ...client,
        });
        return { result, seconds: (performance.now() - begun) / 1000 };
      }));
      const seconds = (performance.now() - begun) / 1000;
      const cpuBusy = busyFraction(before, await readCpuTicks());
      const failed = results.find((r) => r.status === "rejected");
      if (failed !== undefined) throw schemeFailure(scheme, kind, failed.reason);
      const done = results.map((r) =>
        (r as PromiseFulfilledResult<{ result: EncodeResult; seconds: number }>).value
      );
      const runIds = done.map((d) => d.result.runId);
      const nodeTimes = kind === "single" && scheme.shape.kind === "pipeline"
        ? await collectNodeTimes(targets[0]!.nodes, runIds[0]!, options.client)
        : undefined;
      return {
        scheme: name,
        kind,
        run,
        objects: targets.length,
        startedAt,
        seconds: round3(seconds),
        encodeSeconds: done.map((d) => round3(d.seconds)),
        cpuBusy: Math.round(cpuBusy * 1000) / 1000,
        runIds,
        ...(nodeTimes === undefined ? {} : { nodeTimes }),
      };
    };

    for (let w = 0; w < warmUps; w++) {
      for (const name of schemes) {
        say(`warm-up ${w + 1}/${warmUps}: ${SCHEMES[name].label}`);
        await time(name, "single", -1);
      }
    }
    for (let run = 0; run < runs; run++) {
      const order = schemes.map((_, i) => schemes[(i + run) % schemes.length]!);
      const kinds: EncodeRun["kind"][] = concurrent > 0 ? ["single", "concurrent"] : ["single"];
      for (const kind of kinds) {
        for (const name of order) {
          const measured = await time(name, kind, run);
          encodes.push(measured);
          say(
            `run ${run + 1}/${runs}: ${SCHEMES[name].label}, ` +
              `${kind === "single" ? "one encode" : `${measured.objects} at once`}: ` +
              `${measured.seconds.toFixed(2)} s, CPU ${(measured.cpuBusy * 100).toFixed(0)}% busy`,
          );
        }
      }
    }
    return {
      nodes: [...nodes],
      schemes: [...schemes],
      objectBytes,
      partBytes,
      chunkBytes,
      concurrent,
      runs,
      warmUps,
      putSeconds,
      encodes,
    };
  } finally {
    say("removing the benchmark's blocks");
    for (const [moduleName, module] of modules) {
      await Promise.all(
        objects(moduleName).map((o) => deleteObject(module, o.nodes, o.objectId, options.client)),
      );
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Checks the measurement's counts and sizes: at least one run, object byte and chunk byte; no
 * negative number of concurrent encodes or warm-ups.
 *
 * @example
 * ```ts
 * import { checkMeasureCounts } from "./rapidraid.ts";
 * checkMeasureCounts({ runs: 1, concurrent: 0, warmUps: 0, objectBytes: 1, chunkBytes: 1 });
 * ```
 *
 * @param options The counts.
 * @throws {CdfsError} USAGE naming the option (`--runs` ...) that is out of range.
 */
export function checkMeasureCounts(
  options: Pick<MeasureOptions, "runs" | "concurrent" | "warmUps" | "objectBytes" | "chunkBytes">,
): void {
  const counts: [string, number, number][] = [
    ["--runs", options.runs, 1],
    ["--concurrent", options.concurrent, 0],
    ["--warm-ups", options.warmUps, 0],
    ["--size", options.objectBytes, 1],
    ["--chunk-size", options.chunkBytes, 1],
  ];
  for (const [what, value, least] of counts) {
    if (!Number.isSafeInteger(value) || value < least) {
      throw new CdfsError("USAGE", `${what} must be an integer of at least ${least}, got ${value}`);
    }
  }
}

/**
 * A node list rotated left by `by`: logical node i of the object is `nodes[(i + by) % n]`.
 *
 * @example
 * ```ts
 * import { rotate } from "./rapidraid.ts";
 * console.log(rotate(["a", "b", "c"], 1)); // [ "b", "c", "a" ]
 * ```
 *
 * @param nodes The node list.
 * @param by How far.
 * @returns The rotated list.
 */
export function rotate<T>(nodes: readonly T[], by: number): T[] {
  const n = nodes.length;
  return nodes.map((_, i) => nodes[(i + by) % n]!);
}

/** An encode's error, re-thrown with the scheme that failed in front of its message. */
function schemeFailure(scheme: Scheme, kind: EncodeRun["kind"], error: unknown): CdfsError {
  const message = error instanceof Error ? error.message : String(error);
  const code = isCdfsError(error) ? error.code : "INTERNAL";
  return new CdfsError(
    code,
    `scheme '${scheme.name}' (${scheme.label}, ${kind} encode) failed: ${message}`,
    { cause: error },
  );
}

/**
 * When each node was busy with a run, from its STATS; polls briefly until every node that
 * reports times has its end (a node notes the end just after its reply).
 */
async function collectNodeTimes(
  nodes: readonly string[],
  runId: string,
  client: DataNodeClientOptions | undefined,
): Promise<NodeRunTimes[]> {
  const deadline = performance.now() + TIMES_SETTLE_MS;
  while (true) {
    const times = await Promise.all(nodes.map(async (address, node): Promise<NodeRunTimes> => {
      using connection = await DataNodeClient.connect(address, client);
      const stats = await connection.stats(runId);
      return { node, ...stats.runs[runId]?.times };
    }));
    const settled = times.every((t) => t.startedAt === undefined || t.endedAt !== undefined);
    if (settled || performance.now() > deadline) return times;
    await new Promise((resolve) => setTimeout(resolve, TIMES_POLL_MS));
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
