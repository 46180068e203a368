/**
 * The demo on a running local cluster with a namenode, told by file name as a user would type
 * it: `cdfs put` of a sample file, `cdfs archive`, a decodable loss of datanodes (`cluster
 * stop-node`), `cdfs fsck` (degraded), `cdfs get` (decoded from the survivors, byte-identical),
 * `cdfs repair`, `cdfs fsck` (healthy), and `cdfs get` again with the datanodes still down.
 * Each step runs the library function the command runs (`src/client/files/`), so the times are
 * the work's, not a process start's. Returns a report (times, bytes each datanode moved, what
 * fsck and the gets said); printing it is the caller's job (`demo_report.ts`).
 *
 * Bytes per datanode come from the datanodes' own JSON logs (`demo_traffic.ts`), read before
 * and after each step (after, once the logs stop growing).
 *
 * @module
 */
import { archiveFile } from "../client/files/archive.ts";
import { fileNodes } from "../client/files/file_target.ts";
import { putFile } from "../client/files/put.ts";
import { readFile } from "../client/files/read.ts";
import { repairFile } from "../client/files/repair.ts";
import type { ProgressCallback } from "../client/objects/progress.ts";
import { moduleNodeCount } from "../client/objects/target.ts";
import { deriveDecodePlan } from "../coding/analysis/decoder.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { hashFile } from "../core/file_hash.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { NameNodeClient } from "../namenode/client.ts";
import type { FileHealth } from "../namenode/responses.ts";
import { clusterNodeAddresses } from "./cluster_file.ts";
import { readClusterFile } from "./cluster_file_io.ts";
import type {
  ClusterDemoReport,
  DemoHealth,
  DemoRead,
  DemoStep,
  DemoStepName,
} from "./demo_report.ts";
import { nodeTraffic, settledTraffic, trafficSum } from "./demo_traffic.ts";
import { seededRandom } from "../emulation/link_spec.ts";
import { stopNodes } from "./node_control.ts";

export {
  type ClusterDemoReport,
  DEMO_STEPS,
  type DemoHealth,
  type DemoNodeTraffic,
  type DemoRead,
  type DemoRebuilt,
  type DemoStep,
  type DemoStepName,
  formatClusterDemoReport,
} from "./demo_report.ts";

/** The file name the sample gets when none is given. */
const DEFAULT_NAME = "sample.bin";

/**
 * Options of {@linkcode runClusterDemo}.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import type { ClusterDemoOptions } from "./demo.ts";
 * import { loadCodingModule } from "../coding/lang/loader.ts";
 * const options: ClusterDemoOptions = {
 *   clusterFile: "/run/user/1000/cdfs/demo/cluster.json",
 *   sampleFile: "sample.bin",
 *   module: await loadCodingModule("rapidraid"),
 * };
 * ```
 */
export interface ClusterDemoOptions {
  /**
   * The running cluster's file: a cluster with a namenode (`cluster up` starts one) and at
   * least as many datanodes as the module's nodes.
   */
  readonly clusterFile: string;
  /** The file to put. */
  readonly sampleFile: string;
  /** The coding module (e.g. rapidraid). */
  readonly module: CodingModule;
  /** The name the file gets (default `sample.bin`). */
  readonly name?: string;
  /**
   * The logical nodes of the code whose datanodes are stopped. Default: `n - k` of them (5
   * of RapidRAID's 16), the first set in a seeded order whose surviving coded blocks still
   * decode (RapidRAID is not MDS: some sets of 5 do not).
   */
  readonly stopNodes?: readonly number[];
  /** The seed of that order (default 1). */
  readonly seed?: number;
  /** The chunk size of stores and coding runs (default 1 MiB). */
  readonly chunkSize?: number;
  /** Where the gets write the file (default a temporary file, removed after the checks). */
  readonly output?: string;
  /** How long each stopped datanode may take to stop (default 15 s). */
  readonly graceMs?: number;
  /** Told when a step starts, and of its progress in bytes. */
  readonly onStep?: (step: DemoStepName, progress?: { done: number; total: number }) => void;
}

/**
 * Runs the demo on a running cluster (see the module notes). The stopped datanodes stay
 * stopped and the file stays: `cluster down` is the caller's next step.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { runClusterDemo } from "./demo.ts";
 * import { loadCodingModule } from "../coding/lang/loader.ts";
 * const report = await runClusterDemo({
 *   clusterFile: "/run/user/1000/cdfs/demo/cluster.json",
 *   sampleFile: "sample.bin",
 *   module: await loadCodingModule("rapidraid"),
 * });
 * console.log(report.verified, report.steps.map((s) => `${s.name} ${s.ms} ms`));
 * ```
 *
 * @param options The cluster, the sample, the module and the choices.
 * @returns The report; `verified` false means a get differed or fsck did not go from
 * degraded to healthy (no exception).
 * @throws {CdfsError} USAGE when the cluster has no namenode or too few datanodes, or the
 * nodes to stop leave nothing decodable (SINGULAR); the errors of the steps.
 */
export async function runClusterDemo(options: ClusterDemoOptions): Promise<ClusterDemoReport> {
  const { module } = options;
  const cluster = await readClusterFile(options.clusterFile);
  const addresses = clusterNodeAddresses(cluster);
  const needed = moduleNodeCount(module);
  if (cluster.namenode === undefined) {
    throw new CdfsError(
      "USAGE",
      `cluster '${cluster.name}' has no namenode: the demo needs one ('cdfs cluster up' starts it)`,
    );
  }
  if (addresses.length < needed) {
    throw new CdfsError(
      "USAGE",
      `${module.name} needs a cluster of ${needed} datanodes; '${cluster.name}' has ` +
        `${addresses.length}`,
    );
  }
  const stoppedLogical = options.stopNodes !== undefined
    ? [...options.stopNodes].sort((a, b) => a - b)
    : chooseNodesToStop(module, module.n - module.k, options.seed ?? 1);
  const lostBlocks = lostWith(module, stoppedLogical);
  // Fail before anything is stored if the loss cannot be decoded.
  deriveDecodePlan(module, survivorsOf(module, lostBlocks));

  const name = options.name ?? DEFAULT_NAME;
  const chunkSize = options.chunkSize ?? 1 << 20;
  const sha256 = await hashFile(options.sampleFile);
  using namenode = await NameNodeClient.connect([cluster.namenode.address]);
  const steps: DemoStep[] = [];
  const started = performance.now();
  let totals = await nodeTraffic(cluster);
  const step = async <T>(stepName: DemoStepName, work: () => Promise<T>): Promise<T> => {
    options.onStep?.(stepName);
    const begun = performance.now();
    const result = await work();
    const ms = round(performance.now() - begun);
    const after = await settledTraffic(cluster);
    steps.push({
      name: stepName,
      ms,
      bytesByNode: after.map((t, i) => trafficSum(t) - trafficSum(totals[i]!)),
    });
    totals = after;
    return result;
  };
  const progress = (stepName: DemoStepName): ProgressCallback => (done, total) =>
    options.onStep?.(stepName, { done, total });
  const fsck = async (): Promise<DemoHealth> => healthOf(await namenode.fsck({ name }));

  const output = options.output ??
    await Deno.makeTempFile({ prefix: "cdfs-demo-", suffix: ".out" });
  try {
    const get = async (stepName: DemoStepName): Promise<DemoRead> => {
      const file = await namenode.getFile(name);
      const read = await readFile({
        file,
        module,
        output,
        chunkSize,
        onProgress: progress(stepName),
      });
      const got = await hashFile(output);
      return {
        usedBlocks: read.decode?.used ?? [],
        // The datanode id the namenode knows it by (or its address when it has none).
        decodedOn: cluster.nodes.findIndex((n) =>
          n.id === read.decodedOn || n.address === read.decodedOn
        ),
        sha256: got,
        identical: got === sha256,
      };
    };

    const put = await step("put", () =>
      putFile({
        namenode,
        module,
        path: options.sampleFile,
        name,
        chunkSize,
        onProgress: progress("put"),
      }));
    // The bar counts the file's bytes encoded: k parts of the coded block length done.
    const archived = await step("archive", () =>
      archiveFile({
        namenode,
        file: put.file,
        module,
        chunkSize,
        onProgress: (done, total) => progress("archive")(done * module.k, total * module.k),
      }));
    // The datanodes that are the chosen logical nodes now: the namenode chose them at the put.
    const logical = fileNodes(archived.file, module);
    const stoppedNodes = [...new Set(stoppedLogical.map((l) => addresses.indexOf(logical[l]!)))]
      .sort((a, b) => a - b);
    await step("stop-nodes", () =>
      stopNodes(options.clusterFile, stoppedNodes, {
        ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      }));
    const degraded = await step("fsck-degraded", fsck);
    const degradedRead = await step("get-degraded", () => get("get-degraded"));
    const repair = await step("repair", async () =>
      repairFile({
        namenode,
        file: await namenode.getFile(name),
        module,
        chunkSize,
        onProgress: progress("repair"),
      }));
    const repaired = await step("fsck-repaired", fsck);
    const repairedRead = await step("get-repaired", () => get("get-repaired"));
    const stopped = new Set(stoppedNodes);
    return {
      module: module.name,
      name,
      objectId: put.file.objectId,
      objectBytes: put.file.length ?? 0,
      sha256,
      blockBytes: put.partLength,
      datanodes: new Set(put.file.blocks.map((b) => b.node)).size,
      partCopies: put.parts.length,
      replicasDropped: archived.replicas.deleted.length,
      stoppedLogical,
      stoppedNodes,
      lostBlocks,
      degraded,
      degradedRead,
      rebuilt: repair.rebuilt.map((r) => ({
        block: r.block,
        to: addresses.indexOf(r.address),
        shares: r.shares,
      })),
      repaired,
      repairedRead,
      verified: degradedRead.identical && repairedRead.identical &&
        degraded.status === "degraded" && repaired.status === "healthy",
      steps,
      totalMs: round(performance.now() - started),
      nodes: cluster.nodes.map((node, i) => ({
        index: node.index,
        address: node.address,
        ...totals[i]!,
        stopped: stopped.has(i),
      })),
    };
  } finally {
    if (options.output === undefined) await Deno.remove(output).catch(() => {});
  }
}

/** What the demo keeps of an FSCK answer for one file. */
function healthOf(answer: { files: readonly FileHealth[] }): DemoHealth {
  const health = answer.files[0];
  if (health === undefined) throw new CdfsError("NOT_FOUND", "fsck found no such file");
  return {
    status: health.status,
    unavailable: health.unavailable.length,
    blocks: health.blocks,
    shared: health.shared.length,
  };
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

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
