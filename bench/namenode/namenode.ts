/**
 * `cdfs bench namenode`: the namenode's metadata operations per second through a real server
 * next to its raw backend (`namenode_ops.ts`), and file reads by name next to the block
 * client's retrieve of the same parts, healthy and degraded (`namenode_reads.ts`), each
 * against its target; `results.md` and `results.json` with the machine they ran on.
 *
 * @module
 */
import { formatBytes } from "../../src/format/bytes.ts";
import type { NodeLauncher } from "../../src/cluster/node_process.ts";
import { machine } from "../common/machine.ts";
import { writeResultFiles } from "../common/out_dir.ts";
import { type MetaBackend, type MetaResults, runMetaBench } from "./namenode_ops.ts";
import { type ReadKind, type ReadResults, runReadBench } from "./namenode_reads.ts";

/**
 * The targets of the issue: server ops/s ≥ 0.5× raw, healthy get ≥ 0.8× the block client's
 * retrieve of the same parts, degraded get ≥ 0.5× the healthy get (throughput ratios).
 */
export const NAMENODE_TARGETS = {
  serverToRaw: 0.5,
  getToRetrieve: 0.8,
  degradedToHealthy: 0.5,
} as const;

/**
 * What the benchmark does.
 *
 * @example
 * ```ts
 * import type { NamenodeBenchOptions } from "./namenode.ts";
 * const options: NamenodeBenchOptions = {
 *   measure: ["meta", "reads"], backends: ["sqlite", "etcd"], clients: [1, 16, 64],
 *   ops: 500, rounds: 3, bytes: 1 << 30, runs: 3,
 *   launcher: { command: "cdfs", args: [] }, stateRoot: "/tmp/cdfs-0", env: () => undefined,
 * };
 * ```
 */
export interface NamenodeBenchOptions {
  /** Which halves: `meta` (operations per second), `reads` (get next to block retrieve). */
  readonly measure: readonly ("meta" | "reads")[];
  /** The metadata backends. */
  readonly backends: readonly MetaBackend[];
  /** The concurrent clients of the metadata measurements. */
  readonly clients: readonly number[];
  /** Operations per metadata measurement. */
  readonly ops: number;
  /** Rounds per concurrency. */
  readonly rounds: number;
  /** The read file's length. */
  readonly bytes: number;
  /** Timed runs of each read. */
  readonly runs: number;
  /** How to run cdfs (the namenode and datanode processes). */
  readonly launcher: NodeLauncher;
  /** The state root of the read cluster. */
  readonly stateRoot: string;
  /** Reads an environment variable. */
  readonly env: (name: string) => string | undefined;
  /** Temporary files go here (default `$TMPDIR` or /tmp). */
  readonly tempDir?: string;
  /** Progress lines. */
  readonly onProgress?: (line: string) => void;
  /** Stops the benchmark between measurements. */
  readonly signal?: AbortSignal;
}

/**
 * Everything measured, with when and where (`results.json`).
 *
 * @example
 * ```ts
 * import type { NamenodeBenchResults } from "./namenode.ts";
 * const met = (r: NamenodeBenchResults) => r.reads === undefined || r.reads.getToRetrieve >= 0.8;
 * ```
 */
export interface NamenodeBenchResults {
  /** When it ran (ISO-8601). */
  readonly date: string;
  /** The machine (`machine.ts`). */
  readonly machine: Record<string, string | number | null>;
  /** The targets judged. */
  readonly targets: typeof NAMENODE_TARGETS;
  /** The metadata measurements, when run. */
  readonly meta?: MetaResults;
  /** The read measurements, when run. */
  readonly reads?: ReadResults;
}

/**
 * Runs the halves the options ask for.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { runNamenodeBench } from "./namenode.ts";
 * const results = await runNamenodeBench(options);
 * console.log(formatNamenodeTables(results));
 * ```
 *
 * @param options What to measure and how.
 * @returns The results.
 */
export async function runNamenodeBench(
  options: NamenodeBenchOptions,
): Promise<NamenodeBenchResults> {
  const common = {
    launcher: options.launcher,
    ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const meta = options.measure.includes("meta")
    ? await runMetaBench({
      ...common,
      backends: options.backends,
      clients: options.clients,
      ops: options.ops,
      rounds: options.rounds,
      env: options.env,
    })
    : undefined;
  const reads = options.measure.includes("reads")
    ? await runReadBench({
      ...common,
      bytes: options.bytes,
      runs: options.runs,
      stateRoot: options.stateRoot,
    })
    : undefined;
  return {
    date: new Date().toISOString(),
    machine: await machine(null, {}),
    targets: NAMENODE_TARGETS,
    ...(meta === undefined ? {} : { meta }),
    ...(reads === undefined ? {} : { reads }),
  };
}

/** A ratio against its target: `0.62× ≥ 0.5×: yes`, a miss in bold. */
function judged(ratio: number, target: number): [string, string] {
  return [`${ratio.toFixed(2)}×`, `≥ ${target}×: ${ratio >= target ? "yes" : "**no**"}`];
}

/**
 * The metadata table: per backend and concurrency, the ops/s of the server, the store and the
 * raw backend, server / raw against the target, p50 / p99 latencies, and where the server
 * way's CPU went (ms per operation of the clients' process, the namenode and etcd, and how
 * busy the machine's cores were).
 *
 * @example
 * ```ts
 * import { formatMetaTable } from "./namenode.ts";
 * const s = { opsPerSecond: 100, p50Ms: 9, p99Ms: 20 };
 * const server = { ...s, cpu: { benchMsPerOp: 1, namenodeMsPerOp: 3, busy: 0.9 } };
 * const table = formatMetaTable({
 *   ops: 10, rounds: 1, skipped: {},
 *   rows: [{
 *     backend: "sqlite", clients: 1, serverToRaw: 0.5,
 *     median: { server, store: s, raw: { opsPerSecond: 200, p50Ms: 4, p99Ms: 9 } },
 *     rounds: { server: [server], store: [s], raw: [s] },
 *   }],
 * });
 * console.log(table.split("\n")[2]);
 * // "| sqlite | 1 | 100 | 100 | 200 | 0.50× | ≥ 0.5×: yes | 9.0 / 20.0 | 9.0 / 20.0 | 4.0 / 9.0 | 1.0 / 3.0 / — | 90% |"
 * ```
 *
 * @param meta The metadata results.
 * @returns Markdown, lines ending with a newline.
 */
export function formatMetaTable(meta: MetaResults): string {
  const ms = (s: { p50Ms: number; p99Ms: number }) =>
    `${s.p50Ms.toFixed(1)} / ${s.p99Ms.toFixed(1)}`;
  const cpu = (value: number | undefined) => value === undefined ? "—" : value.toFixed(1);
  const lines = [
    "| backend | clients | server ops/s | store ops/s | raw ops/s | server / raw | target | server p50 / p99 ms | store p50 / p99 ms | raw p50 / p99 ms | server CPU ms/op: clients / namenode / etcd | CPU busy |",
    "| --- | --: | --: | --: | --: | --: | --- | --: | --: | --: | --: | --: |",
    ...meta.rows.map((r) => {
      const [ratio, target] = judged(r.serverToRaw, NAMENODE_TARGETS.serverToRaw);
      const use = r.median.server.cpu;
      return `| ${r.backend} | ${r.clients} | ${r.median.server.opsPerSecond.toFixed(0)} | ` +
        `${r.median.store.opsPerSecond.toFixed(0)} | ${r.median.raw.opsPerSecond.toFixed(0)} | ` +
        `${ratio} | ${target} | ${ms(r.median.server)} | ${ms(r.median.store)} | ` +
        `${ms(r.median.raw)} | ${cpu(use?.benchMsPerOp)} / ${cpu(use?.namenodeMsPerOp)} / ` +
        `${cpu(use?.etcdMsPerOp)} | ${
          use === undefined ? "—" : `${(use.busy * 100).toFixed(0)}%`
        } |`;
    }),
  ];
  return lines.join("\n") + "\n";
}

/** What each read row runs, for the table. */
const READ_ROWS: Record<ReadKind, { label: string; against?: ReadKind; target?: number }> = {
  "healthy get": {
    label: "`get`, healthy (replicated: 11 parts read at once)",
    against: "block retrieve",
    target: NAMENODE_TARGETS.getToRetrieve,
  },
  "block retrieve": {
    label: "block client: `retrieve` of the same 11 copies at once",
  },
  "archived get": {
    label: "`get`, archived (decode, all 16 datanodes up)",
    against: "healthy get",
  },
  "degraded get": {
    label: "`get`, degraded (decode, 5 datanodes stopped)",
    against: "healthy get",
    target: NAMENODE_TARGETS.degradedToHealthy,
  },
};

/**
 * The read table: median and range of each read, GB/s of the file, the ratio to what it is
 * compared with, the target, and how busy the machine's cores were (all cores, median).
 *
 * @example
 * ```ts
 * import { formatReadTable } from "./namenode.ts";
 * const t = (median: number) => ({
 *   median, min: median, max: median, count: 1, values: [median], busy: 0.5,
 * });
 * const table = formatReadTable({
 *   bytes: 1e9, runs: 1, sha256Seconds: 0.5, getToRetrieve: 0.5, degradedToHealthy: 0.5,
 *   archivedToHealthy: 0.5, lost: [0, 1, 2, 3, 4],
 *   seconds: { "healthy get": t(2), "block retrieve": t(1), "archived get": t(4), "degraded get": t(4) },
 * });
 * console.log(table.split("\n")[3]);
 * // "| block client: `retrieve` of the same 11 copies at once | 1.000 | 1.000–1.000 | 1.00 | — | — | 50% |"
 * ```
 *
 * @param reads The read results.
 * @returns Markdown, lines ending with a newline.
 */
export function formatReadTable(reads: ReadResults): string {
  const lines = [
    "| read | median s | min–max s | GB/s | ratio | target | CPU busy |",
    "| --- | --: | --: | --: | --- | --- | --: |",
  ];
  for (const [kind, row] of Object.entries(READ_ROWS) as [ReadKind, typeof READ_ROWS[ReadKind]][]) {
    const s = reads.seconds[kind];
    let ratio = "—";
    let target = "—";
    if (row.against !== undefined) {
      const value = reads.seconds[row.against].median / s.median;
      ratio = `${value.toFixed(2)}× of ${row.against}`;
      if (row.target !== undefined) target = judged(value, row.target)[1];
    }
    lines.push(
      `| ${row.label} | ${s.median.toFixed(3)} | ${s.min.toFixed(3)}–${s.max.toFixed(3)} | ` +
        `${(reads.bytes / 1e9 / s.median).toFixed(2)} | ${ratio} | ${target} | ` +
        `${(s.busy * 100).toFixed(0)}% |`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * The tables, as `cdfs bench namenode` prints them.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { formatNamenodeTables } from "./namenode.ts";
 * console.log(formatNamenodeTables(results));
 * ```
 *
 * @param results The results.
 * @returns Markdown: a heading and a table per half measured, and what was skipped.
 */
export function formatNamenodeTables(results: NamenodeBenchResults): string {
  const parts: string[] = [];
  if (results.meta !== undefined) {
    const meta = results.meta;
    parts.push(
      `Metadata: CREATE_FILE (22 copies placed on 16 datanodes) + COMMIT_FILE; ${meta.ops} ops ` +
        `per measurement, median of ${meta.rounds} rounds. On SQLite the namenode and its store ` +
        `commit a creation without an fsync (docs/namenode.md §7: a power loss may take back a ` +
        `pending file, never a committed one), so a put waits for one fsync; the raw writes ` +
        `wait for two.\n\n` + formatMetaTable(meta),
    );
    for (const [backend, why] of Object.entries(meta.skipped)) {
      parts.push(`${backend} not measured: ${why}\n`);
    }
  }
  if (results.reads !== undefined) {
    const reads = results.reads;
    parts.push(
      `Reads of a ${formatBytes(reads.bytes)} RapidRAID file on 16 loopback datanodes; median ` +
        `of ${reads.runs} runs\n\n` + formatReadTable(reads) +
        `\nOne SHA-256 pass over the result (part of every get): ` +
        `${reads.sha256Seconds.toFixed(3)} s (${
          (reads.bytes / 1e9 / reads.sha256Seconds).toFixed(2)
        } GB/s).\n`,
    );
  }
  return parts.join("\n");
}

/**
 * `results.md`: the machine, then the tables.
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { formatNamenodeMarkdown } from "./namenode.ts";
 * await Deno.writeTextFile("results.md", formatNamenodeMarkdown(results));
 * ```
 *
 * @param results The results.
 * @returns The Markdown text.
 */
export function formatNamenodeMarkdown(results: NamenodeBenchResults): string {
  const m = results.machine;
  const etcd = results.meta?.etcdVersion;
  return [
    "# `cdfs bench namenode`",
    "",
    `${results.date}; ${m.cpuModel ?? "unknown CPU"} (${m.cpuFamilyModel}), ${m.cpus} CPUs, ` +
    `Linux ${m.kernel}, Deno ${m.deno} (V8 ${m.v8})${etcd === undefined ? "" : `, etcd ${etcd}`}.`,
    "",
    formatNamenodeTables(results),
  ].join("\n");
}

/**
 * Writes `results.md` and `results.json` into `dir` (created if missing).
 *
 * @example
 * Not run by `deno test --doc`: it needs the results of a benchmark run.
 * ```ts ignore
 * import { writeNamenodeResults } from "./namenode.ts";
 * const paths = await writeNamenodeResults("bench/out/namenode", results);
 * ```
 *
 * @param dir The output directory.
 * @param results The results.
 * @returns The paths written.
 */
export async function writeNamenodeResults(
  dir: string,
  results: NamenodeBenchResults,
): Promise<string[]> {
  return await writeResultFiles(dir, [
    ["results.json", JSON.stringify(results, null, 2) + "\n"],
    ["results.md", formatNamenodeMarkdown(results)],
  ]);
}
