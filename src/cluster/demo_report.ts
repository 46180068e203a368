/**
 * What the demo (`demo.ts`) reports, and the report as text: one line per step with its time
 * and the `cdfs` command it is, the verdict, and a table of the bytes each datanode moved.
 *
 * @module
 */
import { formatBytes } from "../format/bytes.ts";
import { formatColumns } from "../format/columns.ts";
import { formatCount, formatRanges } from "../format/count.ts";
import type { NodeTraffic } from "./demo_traffic.ts";

/**
 * The steps of the demo, in order.
 *
 * @example
 * ```ts
 * import type { DemoStepName } from "./demo_report.ts";
 * const step: DemoStepName = "archive";
 * ```
 */
export type DemoStepName =
  | "put"
  | "archive"
  | "stop-nodes"
  | "fsck-degraded"
  | "get-degraded"
  | "repair"
  | "fsck-repaired"
  | "get-repaired";

/**
 * Every step, in the order the demo runs them.
 */
export const DEMO_STEPS: readonly DemoStepName[] = [
  "put",
  "archive",
  "stop-nodes",
  "fsck-degraded",
  "get-degraded",
  "repair",
  "fsck-repaired",
  "get-repaired",
];

/**
 * One step's time and the bytes each datanode moved during it.
 *
 * @example
 * ```ts
 * import type { DemoStep } from "./demo_report.ts";
 * const step: DemoStep = { name: "archive", ms: 812.5, bytesByNode: [0, 1048576] };
 * ```
 */
export interface DemoStep {
  /** Which step. */
  readonly name: DemoStepName;
  /** How long it took. */
  readonly ms: number;
  /** Data bytes each datanode moved in it (index = datanode), from the datanodes' logs. */
  readonly bytesByNode: readonly number[];
}

/**
 * What one datanode did over the whole demo, from its log.
 *
 * @example
 * ```ts
 * import type { DemoNodeTraffic } from "./demo_report.ts";
 * const t: DemoNodeTraffic = { index: 0, address: "127.0.0.1:13100", stored: 2, retrieved: 0, coded: 4, stopped: false };
 * ```
 */
export interface DemoNodeTraffic extends NodeTraffic {
  /** The datanode's index in the cluster. */
  readonly index: number;
  /** Its address. */
  readonly address: string;
  /** Whether the demo stopped it. */
  readonly stopped: boolean;
}

/**
 * What `cdfs fsck` said of the file.
 *
 * @example
 * ```ts
 * import type { DemoHealth } from "./demo_report.ts";
 * const h: DemoHealth = { status: "degraded", unavailable: 5, blocks: 16, shared: 0 };
 * ```
 */
export interface DemoHealth {
  /** `healthy`, `degraded`, `lost` or `unknown`. */
  readonly status: string;
  /** Its block copies that cannot be read. */
  readonly unavailable: number;
  /** Its block copies. */
  readonly blocks: number;
  /** The datanodes holding more than one of its blocks (after a repair short of datanodes). */
  readonly shared: number;
}

/**
 * One `cdfs get` of the file.
 *
 * @example
 * ```ts
 * import type { DemoRead } from "./demo_report.ts";
 * const r: DemoRead = { usedBlocks: [0, 2], decodedOn: 3, sha256: "ab", identical: true };
 * ```
 */
export interface DemoRead {
  /** The coded blocks the decode read. */
  readonly usedBlocks: readonly number[];
  /** The datanode that decoded (its index; -1 when it is not one of the cluster's). */
  readonly decodedOn: number;
  /** The SHA-256 of the file read, computed here. */
  readonly sha256: string;
  /** Whether it equals the sample's. */
  readonly identical: boolean;
}

/**
 * One block copy the repair rebuilt.
 *
 * @example
 * ```ts
 * import type { DemoRebuilt } from "./demo_report.ts";
 * const r: DemoRebuilt = { block: "f1.coded3", to: 7, shares: ["f1.coded7"] };
 * ```
 */
export interface DemoRebuilt {
  /** The block id. */
  readonly block: string;
  /** The datanode it was rebuilt on (its index). */
  readonly to: number;
  /** The file's other blocks on that datanode. */
  readonly shares: readonly string[];
}

/**
 * The demo's report.
 *
 * @example
 * ```ts
 * import type { ClusterDemoReport } from "./demo_report.ts";
 * const show = (r: ClusterDemoReport) => `${r.verified ? "ok" : "MISMATCH"} in ${r.totalMs} ms`;
 * ```
 */
export interface ClusterDemoReport {
  /** The module's name. */
  readonly module: string;
  /** The file's name. */
  readonly name: string;
  /** Its object id at the namenode (`f<fileId>`: its blocks' prefix). */
  readonly objectId: string;
  /** The sample's length. */
  readonly objectBytes: number;
  /** Its SHA-256, computed here from the sample file. */
  readonly sha256: string;
  /** The length of each part and coded block. */
  readonly blockBytes: number;
  /** The datanodes the namenode placed the file on. */
  readonly datanodes: number;
  /** The part copies the put stored. */
  readonly partCopies: number;
  /** The part replicas the archive dropped. */
  readonly replicasDropped: number;
  /** The logical nodes of the code whose loss was chosen (decodable). */
  readonly stoppedLogical: readonly number[];
  /** The datanodes stopped: those holding them (cluster indices). */
  readonly stoppedNodes: readonly number[];
  /** The coded blocks lost with them. */
  readonly lostBlocks: readonly number[];
  /** fsck after the loss. */
  readonly degraded: DemoHealth;
  /** The get after the loss. */
  readonly degradedRead: DemoRead;
  /** The copies the repair rebuilt. */
  readonly rebuilt: readonly DemoRebuilt[];
  /** fsck after the repair. */
  readonly repaired: DemoHealth;
  /** The get after the repair, the datanodes still down. */
  readonly repairedRead: DemoRead;
  /** Whether both gets were byte-identical and fsck went from degraded to healthy. */
  readonly verified: boolean;
  /** The steps. */
  readonly steps: readonly DemoStep[];
  /** The whole demo's time. */
  readonly totalMs: number;
  /** What each datanode moved over the whole demo. */
  readonly nodes: readonly DemoNodeTraffic[];
}

/**
 * The demo's report as text for a terminal: the steps with their times and what each did, the
 * verdict, and a table of the bytes each datanode moved.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { formatClusterDemoReport } from "./demo_report.ts";
 * const text = formatClusterDemoReport(await runClusterDemo(options));
 * ```
 *
 * @param report The report.
 * @returns Lines ending with a newline.
 */
export function formatClusterDemoReport(report: ClusterDemoReport): string {
  const step = (name: DemoStepName) => report.steps.find((s) => s.name === name);
  const stopped = report.stoppedNodes.join(" ");
  const what: Record<DemoStepName, string> = {
    "put": `cdfs put: ${formatCount(report.partCopies, "part copy", "part copies")} on ` +
      `${formatCount(report.datanodes, "datanode")} the namenode chose`,
    "archive": `cdfs archive: encoded, coded blocks confirmed, ` +
      `${formatCount(report.replicasDropped, "part replica")} dropped`,
    "stop-nodes": `cdfs cluster stop-node ${stopped}: coded blocks ` +
      `${formatRanges(report.lostBlocks)} lost`,
    "fsck-degraded": `cdfs fsck: ${healthText(report.degraded)}`,
    "get-degraded": `cdfs get: ${readText(report.degradedRead)}`,
    "repair": `cdfs repair: ${repairText(report.rebuilt)}`,
    "fsck-repaired": `cdfs fsck: ${healthText(report.repaired)}`,
    "get-repaired": `cdfs get: ${readText(report.repairedRead)} (datanodes ${stopped} still down)`,
  };
  const stepLines = (Object.keys(what) as DemoStepName[]).map((name) =>
    `  ${name.padEnd(14)} ${`${step(name)?.ms ?? "-"} ms`.padStart(10)}  ${what[name]}`
  );
  const table = [
    ["datanode", "address", "stored", "retrieved", "coded", ""],
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
  const reads = [report.degradedRead, report.repairedRead];
  return [
    `${report.module}: file '${report.name}' (${report.objectId}) of ` +
    `${formatBytes(report.objectBytes)}, blocks of ${formatBytes(report.blockBytes)}, on ` +
    `${report.nodes.length} datanodes and a namenode`,
    ...stepLines,
    report.verified
      ? `verified: both gets are byte-identical to the original (SHA-256 ${report.sha256}), ` +
        "fsck went from degraded to healthy"
      : `MISMATCH: SHA-256 of the gets ${reads.map((r) => r.sha256).join(", ")}, original ` +
        `${report.sha256}; fsck ${report.degraded.status}, then ${report.repaired.status}`,
    `total ${report.totalMs} ms; bytes each datanode moved (from its log):`,
    ...formatColumns(table, alignment).map((line) => `  ${line}`),
    "",
  ].join("\n");
}

function healthText(health: DemoHealth): string {
  return `${health.status}, ${health.unavailable} of ${health.blocks} blocks unavailable` +
    (health.shared === 0 ? "" : `, ${formatCount(health.shared, "datanode")} holding 2 or more`);
}

function readText(read: DemoRead): string {
  return `decoded from coded blocks ${formatRanges(read.usedBlocks)} on datanode ` +
    `${read.decodedOn}, ${read.identical ? "byte-identical" : "DIFFERENT"}`;
}

function repairText(rebuilt: readonly DemoRebuilt[]): string {
  const on = new Set(rebuilt.map((r) => r.to)).size;
  const sharing = rebuilt.filter((r) => r.shares.length > 0).length;
  return `${formatCount(rebuilt.length, "block")} rebuilt on ${formatCount(on, "datanode")}` +
    (sharing === 0 ? "" : ` (${sharing} beside another block of the file: no spare datanode)`);
}
