/**
 * The opt-in HTTP endpoint of a datanode's counters (`cdfs datanode serve --metrics
 * HOST:PORT`): `GET /metrics` answers the Prometheus text exposition format (version 0.0.4)
 * built from the node's {@linkcode TrafficCounters} and its store's block count and free space.
 * Nothing listens unless asked, and only on the address given.
 *
 * @module
 */
import type { TrafficCounters, TrafficSnapshot } from "./traffic.ts";
import { gfBackend } from "../gf/backend.ts";

/**
 * The content type of the text exposition format.
 */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * The gauges of a node's store, when known.
 *
 * @example
 * ```ts
 * import type { StoreGauges } from "./metrics_http.ts";
 * const gauges: StoreGauges = { blocks: 12, freeBytes: 1e9 };
 * ```
 */
export interface StoreGauges {
  /** Blocks held. */
  blocks?: number;
  /** Free bytes in the data directory. */
  freeBytes?: number;
  /** The GF(2^8) kernels the node codes with (`isal`, `wasm`, `ts`; `gf/backend.ts`). */
  gfBackend?: string;
}

/**
 * Formats counters as Prometheus text: per op `cdfs_op_requests_total`,
 * `cdfs_op_errors_total`, `cdfs_op_bytes_in_total`, `cdfs_op_bytes_out_total`,
 * `cdfs_op_seconds_total` (label `op`); per recent run `cdfs_run_bytes_in_total`,
 * `cdfs_run_bytes_out_total` (served and upstream together) and `cdfs_run_seconds_total`
 * (label `run`); the gauges `cdfs_blocks` and `cdfs_free_bytes`; `cdfs_gf_backend` (1 with label
 * `backend`, the GF(2^8) kernels in use).
 *
 * @example
 * ```ts
 * import { formatMetrics } from "./metrics_http.ts";
 * import { TrafficCounters } from "./traffic.ts";
 * const traffic = new TrafficCounters();
 * traffic.recordRequest("PING", { bytesIn: 31, bytesOut: 100, ms: 1, failed: false });
 * console.log(formatMetrics(traffic.snapshot()).includes('cdfs_op_requests_total{op="PING"} 1'));
 * // true
 * ```
 *
 * @param snapshot The counters.
 * @param gauges The store's gauges (left out when unknown).
 * @returns The exposition text, ending with a newline.
 */
export function formatMetrics(snapshot: TrafficSnapshot, gauges: StoreGauges = {}): string {
  const lines: string[] = [];
  const family = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: [labels: string, value: number][],
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const ops = Object.entries(snapshot.ops);
  const byOp = (pick: (c: (typeof ops)[number][1]) => number): [string, number][] =>
    ops.map(([op, counters]) => [`{op="${escapeLabel(op)}"}`, pick(counters)]);
  family("cdfs_op_requests_total", "counter", "Requests served, by op.", byOp((c) => c.requests));
  family("cdfs_op_errors_total", "counter", "Requests ended in an error.", byOp((c) => c.errors));
  family(
    "cdfs_op_bytes_in_total",
    "counter",
    "Frame bytes received for requests, by op.",
    byOp((c) => c.bytesIn),
  );
  family(
    "cdfs_op_bytes_out_total",
    "counter",
    "Frame bytes sent for requests, by op.",
    byOp((c) => c.bytesOut),
  );
  family(
    "cdfs_op_seconds_total",
    "counter",
    "Time spent serving requests, by op.",
    byOp((c) => c.ms / 1000),
  );
  const runs = Object.entries(snapshot.runs);
  const byRun = (pick: (r: (typeof runs)[number][1]) => number): [string, number][] =>
    runs.map(([run, counters]) => [`{run="${escapeLabel(run)}"}`, pick(counters)]);
  const upstream = (r: (typeof runs)[number][1], key: "bytesIn" | "bytesOut") =>
    Object.values(r.upstream).reduce((sum, peer) => sum + peer[key], 0);
  family(
    "cdfs_run_bytes_in_total",
    "counter",
    "Frame bytes received for a recent coding run (served and upstream).",
    byRun((r) => r.served.bytesIn + upstream(r, "bytesIn")),
  );
  family(
    "cdfs_run_bytes_out_total",
    "counter",
    "Frame bytes sent for a recent coding run (served and upstream).",
    byRun((r) => r.served.bytesOut + upstream(r, "bytesOut")),
  );
  family(
    "cdfs_run_seconds_total",
    "counter",
    "Time spent serving a recent coding run's requests.",
    byRun((r) => r.served.ms / 1000),
  );
  if (gauges.blocks !== undefined) {
    family("cdfs_blocks", "gauge", "Blocks held.", [["", gauges.blocks]]);
  }
  if (gauges.freeBytes !== undefined) {
    family("cdfs_free_bytes", "gauge", "Free bytes in the data directory.", [[
      "",
      gauges.freeBytes,
    ]]);
  }
  if (gauges.gfBackend !== undefined) {
    family("cdfs_gf_backend", "gauge", "The GF(2^8) kernels in use (label backend).", [[
      `{backend="${escapeLabel(gauges.gfBackend)}"}`,
      1,
    ]]);
  }
  return lines.join("\n") + "\n";
}

/**
 * What {@linkcode serveMetrics} serves and where.
 *
 * @example
 * ```ts
 * import type { MetricsServerOptions } from "./metrics_http.ts";
 * import { TrafficCounters } from "./traffic.ts";
 * const traffic = new TrafficCounters();
 * const options: MetricsServerOptions = { hostname: "127.0.0.1", port: 9100, traffic };
 * ```
 */
export interface MetricsServerOptions {
  /** The address to listen on (no default: the endpoint binds only where told). */
  hostname: string;
  /** The port (0 picks a free one, see {@linkcode MetricsServer.addr}). */
  port: number;
  /** The node's counters. */
  traffic: TrafficCounters;
  /** The node's store, for the gauges (left out without it). */
  store?: { count(): Promise<number>; freeBytes(): Promise<number> };
}

/**
 * A running metrics endpoint.
 *
 * @example
 * ```ts
 * import { serveMetrics } from "./metrics_http.ts";
 * import { TrafficCounters } from "./traffic.ts";
 * const metrics = serveMetrics({ hostname: "127.0.0.1", port: 0, traffic: new TrafficCounters() });
 * const response = await fetch(`http://127.0.0.1:${metrics.addr.port}/metrics`);
 * console.log(response.status, (await response.text()).length > 0); // 200 true
 * await metrics.shutdown();
 * ```
 */
export interface MetricsServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Stops listening; resolves once stopped. */
  shutdown(): Promise<void>;
}

/**
 * Starts the HTTP endpoint: `GET /metrics` (or `HEAD`) answers the exposition text; any other
 * path 404, any other method 405.
 *
 * @example
 * Not run by `deno test --doc`: it serves HTTP on a fixed port.
 * ```ts ignore
 * import { serveMetrics } from "./metrics_http.ts";
 * const metrics = serveMetrics({ hostname: "127.0.0.1", port: 9100, traffic: server.traffic });
 * ```
 *
 * @param options Address, counters and store.
 * @returns The running endpoint.
 * @throws The listener's errors (e.g. `Deno.errors.AddrInUse`).
 */
export function serveMetrics(options: MetricsServerOptions): MetricsServer {
  const { traffic, store } = options;
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: () => {}, // Deno.serve would print a line; the caller says what it wants.
  }, async (request) => {
    if (new URL(request.url).pathname !== "/metrics") {
      return new Response("not found\n", { status: 404 });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET" } });
    }
    const gauges: StoreGauges = { gfBackend: gfBackend().backend };
    if (store !== undefined) {
      try {
        [gauges.blocks, gauges.freeBytes] = await Promise.all([store.count(), store.freeBytes()]);
      } catch {
        // The counters are still worth answering without the gauges.
      }
    }
    return new Response(formatMetrics(traffic.snapshot(), gauges), {
      headers: { "content-type": METRICS_CONTENT_TYPE },
    });
  });
  return {
    addr: server.addr,
    shutdown: () => server.shutdown(),
  };
}

/** A label value in the exposition format: backslash, double quote and newline escaped. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
