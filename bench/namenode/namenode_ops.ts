/**
 * The metadata half of `cdfs bench namenode`: files created and committed per second through a
 * real `cdfs namenode serve` process over TCP, with 1, 16 and 64 concurrent clients, next to
 * the same writes done by the store in this process and by the raw backend
 * (`namenode_raw.ts`), in the same run, on both backends.
 *
 * One operation is a put's metadata: CREATE_FILE with RapidRAID's part layout (the namenode
 * places 22 copies on 16 registered datanodes and allocates the file id and block ids), then
 * COMMIT_FILE. Each client has its own connection (the protocol answers one request at a time
 * per connection). The three ways alternate within each round (their order rotating from round
 * to round), after one untimed warm-up of each; the result is the median over rounds of the
 * ops/s and of each round's p50 and p99 latency.
 *
 * The datanodes are records only: nothing listens at their addresses and no byte is stored, so
 * this measures the namenode and its store. They are heartbeaten before every measurement,
 * which also clears the namenode's placement reservations.
 *
 * @module
 */
import { join } from "node:path";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { findEtcd, startEtcdMember } from "../../src/cluster/etcd.ts";
import { NameNodeChild } from "../../src/cluster/namenode_process.ts";
import type { NodeLauncher } from "../../src/cluster/node_process.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { layoutOfModule } from "../../src/namenode/layout.ts";
import { EtcdMetadataStore } from "../../src/namenode/meta/etcd_store.ts";
import { SqliteMetadataStore } from "../../src/namenode/meta/sqlite_store.ts";
import {
  BENCH_DATANODES,
  BENCH_DIGEST,
  benchDatanode,
  type MetaWriter,
  rawEtcdWriter,
  rawSqliteWriter,
  storeWriter,
} from "./namenode_raw.ts";
import {
  busyFraction,
  cpuSecondsBetween,
  processCpuTimes,
  readCpuTicks,
} from "../common/machine.ts";
import { median } from "../common/stats.ts";

/**
 * A metadata backend the benchmark measures.
 *
 * @example
 * ```ts
 * import type { MetaBackend } from "./namenode_ops.ts";
 * const backends: MetaBackend[] = ["sqlite", "etcd"];
 * ```
 */
export type MetaBackend = "sqlite" | "etcd";

/**
 * The three ways of writing the same metadata.
 */
export const META_WAYS = ["server", "store", "raw"] as const;

/**
 * One of {@linkcode META_WAYS}: `server` (a namenode process over TCP), `store` (its metadata
 * store in this process), `raw` (the backend driven by hand).
 *
 * @example
 * ```ts
 * import type { MetaWay } from "./namenode_ops.ts";
 * const way: MetaWay = "server";
 * ```
 */
export type MetaWay = typeof META_WAYS[number];

/**
 * One measurement: `ops` operations by `clients` concurrent callers.
 *
 * @example
 * ```ts
 * import type { LatencySample } from "./namenode_ops.ts";
 * const s: LatencySample = { opsPerSecond: 250, p50Ms: 3.9, p99Ms: 8.2 };
 * ```
 */
export interface LatencySample {
  /** Operations per second of wall time. */
  readonly opsPerSecond: number;
  /** The median latency of one operation, ms. */
  readonly p50Ms: number;
  /** The 99th percentile latency, ms. */
  readonly p99Ms: number;
  /** Where the CPU time went, when it was measured. */
  readonly cpu?: CpuUse;
}

/**
 * The CPU time of a measurement per operation, by process, and how busy the machine was: on a
 * machine whose cores the clients, the namenode and etcd share, a way that is slower because
 * it needs more CPU per operation shows it here.
 *
 * @example
 * ```ts
 * import type { CpuUse } from "./namenode_ops.ts";
 * const cpu: CpuUse = { benchMsPerOp: 1.1, namenodeMsPerOp: 2.5, etcdMsPerOp: 0.8, busy: 0.97 };
 * ```
 */
export interface CpuUse {
  /** This process (the clients, or the store or raw writer itself), CPU ms per operation. */
  readonly benchMsPerOp: number;
  /** The namenode process (the server way only). */
  readonly namenodeMsPerOp?: number;
  /** The etcd process (the etcd backend only). */
  readonly etcdMsPerOp?: number;
  /** The busy share of the whole machine, all cores, 0..1. */
  readonly busy: number;
}

/**
 * The result of one backend at one concurrency: the median sample of each way, every round's
 * samples, and the ratio server / raw of the ops/s.
 *
 * @example
 * ```ts
 * import type { MetaRow } from "./namenode_ops.ts";
 * const show = (r: MetaRow) => `${r.backend} ×${r.clients}: ${r.serverToRaw.toFixed(2)}×`;
 * ```
 */
export interface MetaRow {
  /** The backend. */
  readonly backend: MetaBackend;
  /** Concurrent clients. */
  readonly clients: number;
  /** The median (over rounds) of each way. */
  readonly median: Readonly<Record<MetaWay, LatencySample>>;
  /** Every round's sample of each way. */
  readonly rounds: Readonly<Record<MetaWay, readonly LatencySample[]>>;
  /** Server ops/s over raw ops/s (medians). */
  readonly serverToRaw: number;
}

/**
 * What the metadata benchmark measured: its rows, and the backends it could not measure.
 *
 * @example
 * ```ts
 * import type { MetaResults } from "./namenode_ops.ts";
 * const results: MetaResults = { ops: 500, rounds: 3, rows: [], skipped: { etcd: "no etcd" } };
 * ```
 */
export interface MetaResults {
  /** Operations per measurement. */
  readonly ops: number;
  /** Rounds per concurrency. */
  readonly rounds: number;
  /** One row per backend and concurrency. */
  readonly rows: readonly MetaRow[];
  /** Backends not measured, and why. */
  readonly skipped: Readonly<Partial<Record<MetaBackend, string>>>;
  /** The etcd version, when etcd was measured. */
  readonly etcdVersion?: string;
}

/**
 * Options of {@linkcode runMetaBench}.
 *
 * @example
 * ```ts
 * import type { MetaBenchOptions } from "./namenode_ops.ts";
 * const options: MetaBenchOptions = {
 *   backends: ["sqlite"], clients: [1, 16], ops: 200, rounds: 3,
 *   launcher: { command: "cdfs", args: [] }, env: () => undefined,
 * };
 * ```
 */
export interface MetaBenchOptions {
  /** The backends, in order. */
  readonly backends: readonly MetaBackend[];
  /** The concurrencies, in order. */
  readonly clients: readonly number[];
  /** Operations per measurement. */
  readonly ops: number;
  /** Rounds per concurrency. */
  readonly rounds: number;
  /** How to run `cdfs namenode serve`. */
  readonly launcher: NodeLauncher;
  /** Reads an environment variable (`$CDFS_ETCD`). */
  readonly env: (name: string) => string | undefined;
  /** Where the databases, etcd's data and the logs go (default: a fresh temp directory). */
  readonly tempDir?: string;
  /** Progress lines. */
  readonly onProgress?: (line: string) => void;
  /** Stops between measurements. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `ops` operations of `op` with `callers` concurrent callers and times them.
 *
 * @example
 * ```ts
 * import { measureOps } from "./namenode_ops.ts";
 * const sample = await measureOps((_seq, _caller) => Promise.resolve(), 100, 4);
 * console.log(sample.opsPerSecond > 0); // true
 * ```
 *
 * @param op One operation: its sequence number and its caller.
 * @param ops How many.
 * @param callers How many at once (caller i does every callers-th one, as they come).
 * @param firstSeq The sequence number of the first operation (so names never repeat).
 * @returns The throughput and latencies.
 */
export async function measureOps(
  op: (seq: number, caller: number) => Promise<void>,
  ops: number,
  callers: number,
  firstSeq = 0,
): Promise<LatencySample> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: callers }, async (_, caller) => {
    while (next < ops) {
      const seq = firstSeq + next++;
      const t0 = performance.now();
      await op(seq, caller);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  return {
    opsPerSecond: ops / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/**
 * The value below which a share `q` of the values lie (nearest rank).
 *
 * @example
 * ```ts
 * import { percentile } from "./namenode_ops.ts";
 * console.log(percentile([5, 1, 4, 2, 3], 0.5), percentile([5, 1, 4, 2, 3], 0.99)); // 3 5
 * ```
 *
 * @param values The values (not modified).
 * @param q The share, 0..1.
 * @returns The percentile.
 * @throws {RangeError} For no values.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError("the percentile of no values");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * The median sample of several rounds: each field's median on its own.
 *
 * @example
 * ```ts
 * import { medianSample } from "./namenode_ops.ts";
 * const m = medianSample([
 *   { opsPerSecond: 100, p50Ms: 5, p99Ms: 9 },
 *   { opsPerSecond: 120, p50Ms: 4, p99Ms: 12 },
 *   { opsPerSecond: 90, p50Ms: 6, p99Ms: 8 },
 * ]);
 * console.log(m); // { opsPerSecond: 100, p50Ms: 5, p99Ms: 9 }
 * ```
 *
 * @param samples At least one sample.
 * @returns The medians.
 */
export function medianSample(samples: readonly LatencySample[]): LatencySample {
  const cpus = samples.flatMap((s) => s.cpu === undefined ? [] : [s.cpu]);
  const of = (field: keyof CpuUse) => {
    const values = cpus.flatMap((c) => c[field] === undefined ? [] : [c[field]]);
    return values.length === 0 ? {} : { [field]: median(values) };
  };
  return {
    opsPerSecond: median(samples.map((s) => s.opsPerSecond)),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    ...(cpus.length === 0 ? {} : {
      cpu: {
        benchMsPerOp: median(cpus.map((c) => c.benchMsPerOp)),
        ...of("namenodeMsPerOp"),
        ...of("etcdMsPerOp"),
        busy: median(cpus.map((c) => c.busy)),
      },
    }),
  };
}

/**
 * The silence after which the benchmark's datanodes would be dead, in the server and in the
 * store way alike: they heartbeat only between measurements (and on etcd, the store way's
 * liveness leases are never renewed), so it must outlast the slowest run.
 */
const BENCH_DEAD_AFTER_MS = 3_600_000;

/**
 * Measures every backend of `options` at every concurrency: the namenode server, the store
 * and the raw backend, alternating. A backend that cannot run here (no etcd) is skipped with
 * the reason.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { runMetaBench } from "./namenode_ops.ts";
 * const results = await runMetaBench({
 *   backends: ["sqlite"], clients: [1, 16, 64], ops: 500, rounds: 3,
 *   launcher: selfLauncher((n) => Deno.env.get(n)), env: (n) => Deno.env.get(n),
 * });
 * ```
 *
 * @param options Backends, concurrencies, counts, launcher.
 * @returns The rows.
 * @throws {CdfsError} When a namenode or etcd does not start, or an operation fails.
 */
export async function runMetaBench(options: MetaBenchOptions): Promise<MetaResults> {
  const rows: MetaRow[] = [];
  const skipped: Partial<Record<MetaBackend, string>> = {};
  let etcdVersion: string | undefined;
  const dir = await Deno.makeTempDir({
    // Named after this process, like the read cluster: what it leaves running can be found.
    prefix: `cdfs-bench-namenode-${Deno.pid}-meta-`,
    ...(options.tempDir === undefined ? {} : { dir: options.tempDir }),
  });
  try {
    for (const backend of options.backends) {
      options.signal?.throwIfAborted();
      if (backend === "sqlite") {
        rows.push(
          ...await measureBackend(options, backend, dir, {
            meta: `sqlite:${join(dir, "server.db")}`,
            store: () => storeWriter(SqliteMetadataStore.open(join(dir, "store.db"))),
            raw: () => rawSqliteWriter(join(dir, "raw.db")),
          }),
        );
        continue;
      }
      const etcd = await findEtcd(options.env);
      if (!etcd.found) {
        skipped.etcd = etcd.reason;
        options.onProgress?.(`etcd skipped: ${etcd.reason}`);
        continue;
      }
      etcdVersion = etcd.version;
      await using member = await startEtcdMember(etcd.binary, join(dir, "etcd"));
      const hosts = [member.clientUrl];
      rows.push(
        ...await measureBackend(options, backend, dir, {
          meta: `etcd:${member.clientUrl}`,
          etcdPid: member.pid,
          store: async () =>
            storeWriter(
              // The server's --dead-after: leases outlive a slow run (the store never heartbeats).
              await EtcdMetadataStore.open(hosts, {
                prefix: "/bench-store/",
                deadAfterMs: BENCH_DEAD_AFTER_MS,
              }),
            ),
          raw: () => rawEtcdWriter(hosts, "/bench-raw/"),
        }),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return {
    ops: options.ops,
    rounds: options.rounds,
    rows,
    skipped,
    ...(etcdVersion === undefined ? {} : { etcdVersion }),
  };
}

/** The CPU seconds of this process, the namenode and etcd, and the machine's ticks, now. */
async function cpuSnapshot(namenodePid: number, etcdPid: number | undefined) {
  return {
    bench: await processCpuTimes(Deno.pid),
    namenode: await processCpuTimes(namenodePid),
    etcd: etcdPid === undefined ? new Map<string, number>() : await processCpuTimes(etcdPid),
    machine: await readCpuTicks(),
  };
}

/** How to make the three writers of one backend. */
interface BackendSetup {
  /** The server's `--meta`. */
  readonly meta: string;
  /** The etcd process, whose CPU time is counted. */
  readonly etcdPid?: number;
  /** The store in this process. */
  readonly store: () => Promise<MetaWriter>;
  /** The raw backend. */
  readonly raw: () => MetaWriter | Promise<MetaWriter>;
}

async function measureBackend(
  options: MetaBenchOptions,
  backend: MetaBackend,
  dir: string,
  setup: BackendSetup,
): Promise<MetaRow[]> {
  const say = options.onProgress ?? (() => {});
  const log = join(dir, `namenode-${backend}.log`);
  const namenode = NameNodeChild.spawn({
    launcher: options.launcher,
    listen: "127.0.0.1:0",
    meta: setup.meta,
    log,
    // The datanodes are records that heartbeat only between measurements.
    args: ["--dead-after", `${BENCH_DEAD_AFTER_MS / 1000}s`, "--id", `bench-${backend}`],
  });
  const writers: Partial<Record<MetaWay, MetaWriter>> = {};
  try {
    const address = await namenode.ready(60_000);
    writers.server = await serverWriter(address, Math.max(...options.clients));
    writers.store = await setup.store();
    writers.raw = await setup.raw();
    const all = writers as Record<MetaWay, MetaWriter>;
    let seq = 0;
    const measure = async (way: MetaWay, ops: number, clients: number) => {
      if (way === "server") await (all.server as ServerWriter).heartbeat();
      const before = await cpuSnapshot(namenode.pid, setup.etcdPid);
      const sample = await measureOps(all[way].op, ops, clients, seq);
      const after = await cpuSnapshot(namenode.pid, setup.etcdPid);
      seq += ops;
      const perOp = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>) =>
        cpuSecondsBetween(a, b) * 1000 / ops;
      const cpu: CpuUse = {
        benchMsPerOp: perOp(before.bench, after.bench),
        ...(way === "server" ? { namenodeMsPerOp: perOp(before.namenode, after.namenode) } : {}),
        ...(setup.etcdPid === undefined ? {} : { etcdMsPerOp: perOp(before.etcd, after.etcd) }),
        busy: busyFraction(before.machine, after.machine),
      };
      return { ...sample, cpu };
    };
    say(`${backend}: warming up`);
    // With as many callers as the server has connections (the largest --clients), at most 16.
    const warmCallers = Math.min(16, Math.max(...options.clients));
    for (const way of META_WAYS) await measure(way, Math.ceil(options.ops / 4), warmCallers);
    const rows: MetaRow[] = [];
    for (const clients of options.clients) {
      const rounds: Record<MetaWay, LatencySample[]> = { server: [], store: [], raw: [] };
      for (let r = 0; r < options.rounds; r++) {
        for (let w = 0; w < META_WAYS.length; w++) {
          options.signal?.throwIfAborted();
          // Rotated so that no way always runs right after another (and its writes).
          const way = META_WAYS[(w + r) % META_WAYS.length]!;
          rounds[way].push(await measure(way, options.ops, clients));
        }
      }
      const med = {
        server: medianSample(rounds.server),
        store: medianSample(rounds.store),
        raw: medianSample(rounds.raw),
      };
      const row: MetaRow = {
        backend,
        clients,
        median: med,
        rounds,
        serverToRaw: med.server.opsPerSecond / med.raw.opsPerSecond,
      };
      say(
        `${backend} x${clients}: server ${med.server.opsPerSecond.toFixed(0)} ops/s, store ` +
          `${med.store.opsPerSecond.toFixed(0)}, raw ${med.raw.opsPerSecond.toFixed(0)} ` +
          `(server/raw ${row.serverToRaw.toFixed(2)}×)`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    for (const writer of Object.values(writers)) await writer.close().catch(() => {});
    if (!namenode.exited) namenode.child.kill("SIGTERM");
    const timer = setTimeout(() => {
      if (!namenode.exited) namenode.child.kill("SIGKILL");
    }, 10_000);
    await namenode.status;
    clearTimeout(timer);
    namenode.release();
  }
}

/**
 * The server's writer, which can also heartbeat the benchmark's datanodes.
 *
 * @example
 * ```ts
 * import type { ServerWriter } from "./namenode_ops.ts";
 * const beat = (w: ServerWriter) => w.heartbeat();
 * ```
 */
export interface ServerWriter extends MetaWriter {
  /** Heartbeats every benchmark datanode, so that none is dead for the next measurement. */
  heartbeat(): Promise<void>;
}

/**
 * The server's way: `clients` connections to the namenode, the datanodes registered; an op is
 * CREATE_FILE with RapidRAID's part layout, then COMMIT_FILE, on the caller's connection.
 *
 * @example
 * Not run by `deno test --doc`: it needs a running namenode.
 * ```ts ignore
 * import { serverWriter } from "./namenode_ops.ts";
 * const server = await serverWriter("127.0.0.1:7070", 1);
 * await server.op(0, 0);
 * await server.close();
 * ```
 *
 * @param address The namenode.
 * @param clients How many connections (callers).
 * @returns The writer.
 */
export async function serverWriter(address: string, clients: number): Promise<ServerWriter> {
  const layout = layoutOfModule(await loadCodingModule("rapidraid"), "parts");
  const connections: NameNodeClient[] = [];
  try {
    for (let i = 0; i < clients; i++) connections.push(await NameNodeClient.connect(address));
    const first = connections[0]!;
    for (let i = 0; i < BENCH_DATANODES; i++) await first.register(benchDatanode(i));
  } catch (error) {
    for (const c of connections) c.close();
    throw error;
  }
  const run = crypto.randomUUID();
  const partLength = 1 << 20;
  return {
    async op(seq, caller) {
      const client = connections[caller]!;
      const { file } = await client.createFile({
        name: `server/${run}/${seq}`,
        code: "rapidraid",
        length: 11 * partLength,
        layout,
        blockLength: partLength,
      });
      if (file.blocks.length !== 22) {
        throw new CdfsError(
          "INTERNAL",
          `the namenode placed ${file.blocks.length} block copies, 22 were asked for`,
        );
      }
      await client.commitFile(file.fileId, { length: 11 * partLength, digest: BENCH_DIGEST });
    },
    async heartbeat() {
      for (let i = 0; i < BENCH_DATANODES; i++) {
        await connections[0]!.heartbeat(benchDatanode(i).id, { free: benchDatanode(i).free });
      }
    },
    close() {
      for (const c of connections) c.close();
      return Promise.resolve();
    },
  };
}
