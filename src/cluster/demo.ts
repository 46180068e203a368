/**
 * The demo on a running local cluster: a sample file put as replicated parts, encoded on the
 * nodes, its part replicas deleted, some nodes stopped, the file decoded from the coded blocks
 * that survive, and its digest checked against the original's. Returns a report (times, bytes
 * each node moved); printing it is the caller's job.
 *
 * Bytes per node come from the nodes' own JSON logs (one record per request, `bytes` = data
 * received for STORE, sent for RETRIEVE, produced for CODING), read before and after each step
 * (after, once the logs stop growing: a node logs a request just after its last reply).
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  archiveObject,
  decodeObject,
  encodeObject,
  moduleNodeCount,
  type ProgressCallback,
  putParts,
} from "../client/objects.ts";
import { deriveDecodePlan } from "../coding/decoder.ts";
import type { CodingModule } from "../coding/program.ts";
import { CdfsError, isCdfsError } from "../errors.ts";
import { type ClusterFile, clusterNodeAddresses, readClusterFile } from "./cluster_file.ts";
import { seededRandom } from "./link_spec.ts";
import { stopNodes } from "./local.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatColumns } from "../format/columns.ts";

/**
 * Options of {@linkcode runClusterDemo}.
 *
 * @example
 * ```ts ignore
 * import type { ClusterDemoOptions } from "./demo.ts";
 * import { loadCodingModule } from "../coding/loader.ts";
 * const options: ClusterDemoOptions = {
 *   clusterFile: "/run/user/1000/cdfs/demo/cluster.json",
 *   sampleFile: "sample.bin",
 *   module: await loadCodingModule("rapidraid"),
 * };
 * ```
 */
export interface ClusterDemoOptions {
  /** The running cluster's file; it needs exactly as many nodes as the module uses. */
  readonly clusterFile: string;
  /** The file to put, encode and decode. */
  readonly sampleFile: string;
  /** The coding module (e.g. rapidraid). */
  readonly module: CodingModule;
  /** The object id (default `demo-<8 hex digits>`). */
  readonly objectId?: string;
  /**
   * The nodes to stop before decoding. Default: `n - k` of them (5 of RapidRAID's 16), the
   * first set in a seeded order whose surviving coded blocks still decode (RapidRAID is not
   * MDS: some sets of 5 do not).
   */
  readonly stopNodes?: readonly number[];
  /** The seed of that order (default 1). */
  readonly seed?: number;
  /** The chunk size of stores and coding runs (default 1 MiB). */
  readonly chunkSize?: number;
  /** Where the decoded file goes (default a temporary file, removed after the check). */
  readonly output?: string;
  /** How long each stopped node may take to stop (default 15 s). */
  readonly graceMs?: number;
  /** Told when a step starts, and of its progress in bytes. */
  readonly onStep?: (step: DemoStepName, progress?: { done: number; total: number }) => void;
}

/**
 * The steps of the demo, in order.
 *
 * @example
 * ```ts
 * import type { DemoStepName } from "./demo.ts";
 * const step: DemoStepName = "encode";
 * ```
 */
export type DemoStepName = "put-parts" | "encode" | "delete-replicas" | "stop-nodes" | "decode";

/**
 * One step's time and the bytes each node moved during it.
 *
 * @example
 * ```ts
 * import type { DemoStep } from "./demo.ts";
 * const step: DemoStep = { name: "encode", ms: 812.5, bytesByNode: [0, 1048576] };
 * ```
 */
export interface DemoStep {
  /** Which step. */
  readonly name: DemoStepName;
  /** How long it took. */
  readonly ms: number;
  /** Data bytes each node moved in it (index = node), from the nodes' logs. */
  readonly bytesByNode: readonly number[];
}

/**
 * What one node did over the whole demo, from its log.
 *
 * @example
 * ```ts
 * import type { DemoNodeTraffic } from "./demo.ts";
 * const t: DemoNodeTraffic = { index: 0, address: "127.0.0.1:13100", stored: 2, retrieved: 0, coded: 4, stopped: false };
 * ```
 */
export interface DemoNodeTraffic {
  /** The node's index. */
  readonly index: number;
  /** Its address. */
  readonly address: string;
  /** Bytes it received in STOREs (parts and manifests from the client). */
  readonly stored: number;
  /** Bytes it sent in RETRIEVEs. */
  readonly retrieved: number;
  /** Bytes its CODING runs produced (streamed to a peer or the client, or written locally). */
  readonly coded: number;
  /** Whether the demo stopped it. */
  readonly stopped: boolean;
}

/**
 * The demo's report.
 *
 * @example
 * ```ts
 * import type { ClusterDemoReport } from "./demo.ts";
 * const show = (r: ClusterDemoReport) => `${r.verified ? "ok" : "MISMATCH"} in ${r.totalMs} ms`;
 * ```
 */
export interface ClusterDemoReport {
  /** The module's name. */
  readonly module: string;
  /** The object id. */
  readonly objectId: string;
  /** The sample's length. */
  readonly objectBytes: number;
  /** Its SHA-256, computed here from the sample file. */
  readonly sha256: string;
  /** The length of each part and coded block. */
  readonly blockBytes: number;
  /** The part replicas deleted after encoding. */
  readonly deletedReplicas: number;
  /** The nodes stopped. */
  readonly stoppedNodes: readonly number[];
  /** The coded blocks lost with them. */
  readonly lostBlocks: readonly number[];
  /** The coded blocks the decode read. */
  readonly usedBlocks: readonly number[];
  /** The node that decoded. */
  readonly coordinator: number;
  /** The SHA-256 of the decoded file, computed here. */
  readonly decodedSha256: string;
  /** Whether it equals the sample's. */
  readonly verified: boolean;
  /** The steps. */
  readonly steps: readonly DemoStep[];
  /** The whole demo's time. */
  readonly totalMs: number;
  /** What each node moved over the whole demo. */
  readonly nodes: readonly DemoNodeTraffic[];
}

/**
 * Runs the demo on a running cluster (see the module notes). The stopped nodes stay stopped:
 * `cluster start-node` or `cluster down` is the caller's next step.
 *
 * @example
 * ```ts ignore
 * import { runClusterDemo } from "./demo.ts";
 * import { loadCodingModule } from "../coding/loader.ts";
 * const report = await runClusterDemo({
 *   clusterFile: "/run/user/1000/cdfs/demo/cluster.json",
 *   sampleFile: "sample.bin",
 *   module: await loadCodingModule("rapidraid"),
 * });
 * console.log(report.verified, report.steps.map((s) => `${s.name} ${s.ms} ms`));
 * ```
 *
 * @param options The cluster, the sample, the module and the choices.
 * @returns The report; `verified` false means the decoded file differs (no exception).
 * @throws {CdfsError} USAGE when the cluster has the wrong number of nodes or a node is down
 * at the start, or the nodes to stop leave nothing decodable (SINGULAR); the errors of the
 * steps, naming the node.
 */
export async function runClusterDemo(options: ClusterDemoOptions): Promise<ClusterDemoReport> {
  const { module } = options;
  const cluster = await readClusterFile(options.clusterFile);
  const nodes = clusterNodeAddresses(cluster);
  const needed = moduleNodeCount(module);
  if (nodes.length !== needed) {
    throw new CdfsError(
      "USAGE",
      `${module.name} needs a cluster of ${needed} nodes; '${cluster.name}' has ${nodes.length}`,
    );
  }
  const stopped = options.stopNodes !== undefined
    ? [...options.stopNodes]
    : chooseNodesToStop(module, module.n - module.k, options.seed ?? 1);
  const lostBlocks = lostWith(module, stopped);
  // Fail before anything is stored if the loss cannot be decoded.
  deriveDecodePlan(module, survivorsOf(module, lostBlocks));

  const objectId = options.objectId ?? `demo-${randomHex(4)}`;
  const target = { module, nodes, objectId };
  const chunkSize = options.chunkSize ?? 1 << 20;
  const sha256 = await hashFile(options.sampleFile);
  const steps: DemoStep[] = [];
  const started = performance.now();
  let totals = await nodeTotals(cluster);
  const step = async <T>(name: DemoStepName, work: () => Promise<T>): Promise<T> => {
    options.onStep?.(name);
    const begun = performance.now();
    const result = await work();
    const ms = round(performance.now() - begun);
    const after = await settledTotals(cluster);
    steps.push({ name, ms, bytesByNode: after.map((t, i) => sumOf(t) - sumOf(totals[i]!)) });
    totals = after;
    return result;
  };
  const progress = (name: DemoStepName): ProgressCallback => (done, total) =>
    options.onStep?.(name, { done, total });

  const put = await step("put-parts", () =>
    putParts({
      ...target,
      file: options.sampleFile,
      chunkSize,
      onProgress: progress("put-parts"),
    }));
  await step(
    "encode",
    () => encodeObject({ ...target, chunkSize, onProgress: progress("encode") }),
  );
  // The replicas go only once every coded block is confirmed on its node (archiveObject).
  await step("delete-replicas", () => archiveObject(target));
  await step("stop-nodes", () =>
    stopNodes(options.clusterFile, stopped, {
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    }));

  const output = options.output ??
    await Deno.makeTempFile({ prefix: `cdfs-demo-${objectId}-`, suffix: ".out" });
  try {
    const decoded = await step(
      "decode",
      () => decodeObject({ ...target, output, chunkSize, onProgress: progress("decode") }),
    );
    const decodedSha256 = await hashFile(output);
    const traffic = totals;
    return {
      module: module.name,
      objectId,
      objectBytes: put.manifest.objectLength,
      sha256,
      blockBytes: put.manifest.partLength,
      deletedReplicas: put.parts.length,
      stoppedNodes: stopped,
      lostBlocks,
      usedBlocks: decoded.used,
      coordinator: decoded.coordinator,
      decodedSha256,
      verified: decodedSha256 === sha256,
      steps,
      totalMs: round(performance.now() - started),
      nodes: cluster.nodes.map((node, i) => ({
        index: node.index,
        address: node.address,
        ...traffic[i]!,
        stopped: stopped.includes(i),
      })),
    };
  } finally {
    if (options.output === undefined) await Deno.remove(output).catch(() => {});
  }
}

/**
 * Picks `count` nodes to stop whose coded blocks' loss still leaves the object decodable: the
 * first such set in an order drawn from `seed` (deterministic for a seed).
 *
 * @example
 * ```ts
 * import { chooseNodesToStop } from "./demo.ts";
 * import { codingModule } from "../../coding/rapidraid.ts";
 * console.log(chooseNodesToStop(codingModule, 5, 1).length); // 5
 * ```
 *
 * @param module The coding module.
 * @param count How many nodes.
 * @param seed The seed of the order.
 * @returns The node indices, ascending.
 * @throws {CdfsError} SINGULAR when no set of that size tried leaves a decodable rest.
 */
export function chooseNodesToStop(module: CodingModule, count: number, seed: number): number[] {
  const total = moduleNodeCount(module);
  const random = seededRandom(seed);
  for (let attempt = 0; attempt < 200; attempt++) {
    const order = [...Array(total).keys()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const chosen = order.slice(0, count).sort((a, b) => a - b);
    try {
      deriveDecodePlan(module, survivorsOf(module, lostWith(module, chosen)));
      return chosen;
    } catch (error) {
      if (!isCdfsError(error, "SINGULAR")) throw error;
    }
  }
  throw new CdfsError(
    "SINGULAR",
    `no set of ${count} nodes tried leaves ${module.name} decodable`,
  );
}

/** The coded blocks stored on the given nodes. */
function lostWith(module: CodingModule, nodes: readonly number[]): number[] {
  return module.coded.flatMap((c, i) => nodes.includes(c.node) ? [i] : []);
}

function survivorsOf(module: CodingModule, lost: readonly number[]): number[] {
  return module.coded.map((_, i) => i).filter((i) => !lost.includes(i));
}

/** Logs count as settled after this many unchanged polls, this far apart, within this bound. */
const LOG_SETTLE_POLLS = 3;
const LOG_SETTLE_POLL_MS = 20;
const LOG_SETTLE_MAX_MS = 2000;

type Traffic = Pick<DemoNodeTraffic, "stored" | "retrieved" | "coded">;

function sumOf(t: Traffic): number {
  return t.stored + t.retrieved + t.coded;
}

/**
 * The totals once the logs stop growing: a node logs a request when it has ended, which may be
 * a moment after the client got its last reply.
 */
async function settledTotals(cluster: ClusterFile): Promise<Traffic[]> {
  const deadline = performance.now() + LOG_SETTLE_MAX_MS;
  let last = await nodeTotals(cluster);
  let quiet = 0;
  while (quiet < LOG_SETTLE_POLLS && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, LOG_SETTLE_POLL_MS));
    const now = await nodeTotals(cluster);
    quiet = JSON.stringify(now) === JSON.stringify(last) ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

/** Each node's byte totals so far, from its log (missing or unreadable logs count zero). */
async function nodeTotals(cluster: ClusterFile): Promise<Traffic[]> {
  return await Promise.all(cluster.nodes.map(async (node) => {
    const traffic = { stored: 0, retrieved: 0, coded: 0 };
    let text: string;
    try {
      text = await Deno.readTextFile(node.log);
    } catch {
      return traffic;
    }
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue;
      let record: { op?: unknown; bytes?: unknown };
      try {
        record = JSON.parse(line);
      } catch {
        continue; // a line being written
      }
      const bytes = typeof record.bytes === "number" ? record.bytes : 0;
      if (record.op === "STORE") traffic.stored += bytes;
      else if (record.op === "RETRIEVE") traffic.retrieved += bytes;
      else if (record.op === "CODING") traffic.coded += bytes;
    }
    return traffic;
  }));
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const buffer = new Uint8Array(1 << 20);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    hash.update(buffer.subarray(0, n));
  }
  return hash.digest("hex");
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16))
    .map((h) => h.padStart(2, "0")).join("");
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * The demo's report as text for a terminal: the steps and their times, the verdict, and a
 * table of the bytes each node moved.
 *
 * @example
 * ```ts ignore
 * import { formatClusterDemoReport, runClusterDemo } from "./demo.ts";
 * const text = formatClusterDemoReport(await runClusterDemo(options));
 * ```
 *
 * @param report The report.
 * @returns Lines ending with a newline.
 */
export function formatClusterDemoReport(report: ClusterDemoReport): string {
  const step = (name: DemoStepName) => report.steps.find((s) => s.name === name);
  const what: Record<DemoStepName, string> = {
    "put-parts": `${report.deletedReplicas} part replicas and the manifests stored`,
    "encode": `every node wrote its coded block`,
    "delete-replicas": `${report.deletedReplicas} part replicas deleted`,
    "stop-nodes": `nodes ${report.stoppedNodes.join(", ")} stopped (coded blocks ` +
      `${report.lostBlocks.join(", ")} lost)`,
    "decode": `from coded blocks ${report.usedBlocks.join(", ")}, on node ${report.coordinator}`,
  };
  const stepLines = (Object.keys(what) as DemoStepName[]).map((name) =>
    `  ${name.padEnd(16)} ${`${step(name)?.ms ?? "-"} ms`.padStart(10)}  ${what[name]}`
  );
  const table = [
    ["node", "address", "stored", "retrieved", "coded", ""],
    ...report.nodes.map((n) => [
      String(n.index),
      n.address,
      formatBytes(n.stored),
      formatBytes(n.retrieved),
      formatBytes(n.coded),
      n.stopped ? "(stopped)" : "",
    ]),
  ];
  const alignment = ["left", "left", "right", "right", "right", "left"] as const;
  return [
    `${report.module}: object '${report.objectId}' of ${formatBytes(report.objectBytes)}, ` +
    `blocks of ${formatBytes(report.blockBytes)}, on ${report.nodes.length} nodes`,
    ...stepLines,
    report.verified
      ? `verified: the decoded file's SHA-256 is the original's (${report.sha256})`
      : `MISMATCH: decoded SHA-256 ${report.decodedSha256}, original ${report.sha256}`,
    `total ${report.totalMs} ms; bytes each node moved (from its log):`,
    ...formatColumns(table, alignment).map((line) => `  ${line}`),
    "",
  ].join("\n");
}
