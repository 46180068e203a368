/**
 * The namenode server: the shared server of wire format v1 (`src/protocol/frame_server.ts`, as
 * the datanode serves it: preamble, then REQUEST / RESPONSE / ERROR frames, one request at a
 * time per connection), the namenode's ops (docs/namenode.md) over a
 * {@linkcode MetadataStore}, and a background loop that marks silent datanodes dead and expires
 * abandoned files. It holds metadata only: no block byte ever passes through it.
 *
 * Connection handling is the shared server's (docs/protocol.md §4): an ERROR answering a
 * complete request leaves the connection usable; an error in a full block report's data
 * stream, a broken frame or a timeout closes it, after a lingering close so the ERROR is not
 * lost to a TCP reset. Shutdown: stop accepting, close idle connections, let requests under way
 * finish within a grace period, stop the loop, close the store if the server opened it.
 *
 * @module
 */
import { formatNodeAddress } from "../core/address.ts";
import { CdfsError } from "../core/errors.ts";
import type { FrameConnection } from "../protocol/connection.ts";
import { FRAME_TYPE } from "../protocol/frame.ts";
import { FrameServer } from "../protocol/frame_server.ts";
import { type NodeSecrets, RequestVerifier } from "../protocol/auth.ts";
import { READ_ONLY_OPS } from "./failover_connection.ts";
import type { FrameOutcome, RequestState } from "../protocol/frame_server_handler.ts";
import { listenTcp } from "../protocol/listen.ts";
import type { NodeListener, TlsServerConfig } from "../protocol/tls.ts";
import { receiveChunks } from "../protocol/stream.ts";
import { CodeCatalog, type ModuleLoader } from "./code_analysis.ts";
import { blockReport } from "./datanode_ops.ts";
import { handleRequest, type NameNodeResponse } from "./dispatch.ts";
import { DecisionLog, type NameNodeLogSink } from "./log.ts";
import { Maintenance } from "./maintenance.ts";
import { type MetaSpec, openMetadataStore } from "./meta/open.ts";
import type { MetadataStore } from "./meta/store.ts";
import { ReportParser } from "./report_stream.ts";
import { type FullReportRequest } from "./requests.ts";
import { parseNameNodeRequest } from "./parse_request.ts";
import { type RepairQueueEntry, type RepairQueueSource, repairQueueView } from "./repair_queue.ts";
import { NameNodeState } from "./state.ts";
import { DEFAULT_RECENT_EVENTS, RecentEvents } from "./recent_events.ts";
import {
  buildStatus,
  type RepairQueueView,
  type ScrubView,
  type StatusReport,
  type TrafficSource,
} from "./status.ts";
import { serveStatusHttp, type StatusHttpServer } from "./status_http.ts";
import { StatsProbe } from "./status_traffic.ts";

/**
 * The port a namenode listens on by default (datanodes use 13100 and up).
 */
export const DEFAULT_NAMENODE_PORT = 13000;

/**
 * The defaults of the namenode's timing (HDFS's are 3 s heartbeats and a node dead after about
 * 10 minutes; cdfs clusters are small and repairs cheap to start, so 30 s).
 */
export const NAMENODE_DEFAULTS = {
  deadAfterMs: 30_000,
  heartbeatIntervalMs: 3_000,
  blockReportIntervalMs: 3_600_000,
  orphanGraceMs: 3_600_000,
  pendingTimeoutMs: 3_600_000,
  pendingScanIntervalMs: 60_000,
  shutdownGraceMs: 10_000,
} as const;

/**
 * Options of {@linkcode NameNodeServer.start}.
 *
 * @example
 * ```ts
 * import type { NameNodeServerOptions } from "./server.ts";
 * const options: NameNodeServerOptions = { meta: "sqlite:/var/lib/cdfs/meta.db", port: 0 };
 * ```
 */
export interface NameNodeServerOptions {
  /**
   * The metadata store to open and own (`sqlite:PATH`, `etcd:URL[,URL...]`), with this
   * server's `deadAfterMs` and clock. Exactly one of `meta` and `store`.
   */
  readonly meta?: string | MetaSpec;
  /**
   * A store the caller opened and keeps (not closed by the server); open it with the same
   * `deadAfterMs` and clock as the server's.
   */
  readonly store?: MetadataStore;
  /** A listener bound already, taken over (and closed when the server stops). */
  readonly listener?: NodeListener;
  /** Serve TLS with this certificate and key (ignored with `listener`: bind it with TLS). */
  readonly tls?: TlsServerConfig;
  /** The address to listen on (default `127.0.0.1`). */
  readonly hostname?: string;
  /** The port (default 13000; 0 picks a free one). */
  readonly port?: number;
  /** The namenode's id in logs and PING (default `nn@HOST:PORT`). */
  readonly id?: string;
  /** Silence after which a datanode is dead (default 30 s). */
  readonly deadAfterMs?: number;
  /** How often silent datanodes are looked for (default a quarter of `deadAfterMs`, ≤ 5 s). */
  readonly checkIntervalMs?: number;
  /** Heartbeat period asked of datanodes (default 3 s, at most a third of `deadAfterMs`). */
  readonly heartbeatIntervalMs?: number;
  /** Full block report period asked of datanodes (default 1 h). */
  readonly blockReportIntervalMs?: number;
  /** Default age of an orphan (default 1 h). */
  readonly orphanGraceMs?: number;
  /**
   * How long the datanode records may be served from memory before they are read again
   * (default 1 s, at most a quarter of `deadAfterMs`): how late this namenode sees what other
   * namenodes on the same store change (`state.ts`).
   */
  readonly directoryTtlMs?: number;
  /** Age after which a pending file is aborted (default 1 h). */
  readonly pendingTimeoutMs?: number;
  /** How often pending files are looked over (default 60 s). */
  readonly pendingScanIntervalMs?: number;
  /** How long a connection may wait for its next frame (default 60 s). */
  readonly idleTimeoutMs?: number;
  /** How long a started frame may take (default 30 s). */
  readonly frameTimeoutMs?: number;
  /** Default grace period of {@linkcode NameNodeServer.shutdown} (default 10 s). */
  readonly shutdownGraceMs?: number;
  /** Where log records go (default: nowhere). */
  readonly log?: NameNodeLogSink;
  /** The clock (default `Date.now`; tests inject one). */
  readonly now?: () => number;
  /** Random numbers for placement (default `Math.random`). */
  readonly random?: () => number;
  /** How coding modules are loaded for FSCK (default: the built-in ones). */
  readonly loadModule?: ModuleLoader;
  /**
   * The cluster secrets (`auth.ts`): every request must be signed with one; a read-only one
   * may use only the ops that read (`READ_ONLY_OPS`). Default: requests are not checked.
   */
  readonly secrets?: NodeSecrets;
  /** How many log records the recent-events list keeps (default 200). */
  readonly recentEvents?: number;
  /** Serve the status page over HTTP on this address (`status_http.ts`); default: not. */
  readonly http?: { readonly hostname: string; readonly port: number };
  /** How often the status page refreshes itself, ms (default 2 s). */
  readonly httpRefreshMs?: number;
  /** Where the status's datanode traffic comes from (default: STATS asked of each). */
  readonly traffic?: TrafficSource;
  /** The repair queue the status shows (default: empty; see `attachStatus`). */
  readonly repairQueue?: RepairQueueView;
  /** The scrub progress the status shows (default: none; see `attachStatus`). */
  readonly scrub?: ScrubView;
}

/** The state of one request: the one data stream a namenode reads is a full block report. */
interface NameNodeRequest extends RequestState {
  /** The client's connection, positioned right after the REQUEST frame. */
  readonly conn: FrameConnection;
}

/**
 * A running namenode.
 *
 * @example
 * ```ts
 * import { NameNodeServer } from "./server.ts";
 * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
 * console.log(server.address.startsWith("127.0.0.1:")); // true
 * ```
 */
export class NameNodeServer {
  /** The bound address (with the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** `HOST:PORT` of {@linkcode NameNodeServer.addr}. */
  readonly address: string;
  /** The id in logs and PING. */
  readonly id: string;
  /** Settles once the server stopped: connections ended, loop stopped, own store closed. */
  readonly finished: Promise<void>;
  /** The metadata store. */
  readonly store: MetadataStore;

  readonly #state: NameNodeState;
  readonly #log: DecisionLog;
  readonly #maintenance: Maintenance;
  readonly #ownsStore: boolean;
  readonly #frames: FrameServer<NameNodeRequest>;
  readonly #events: RecentEvents;
  readonly #traffic: TrafficSource;
  #repairQueue: RepairQueueView | undefined;
  #scrub: ScrubView | undefined;
  #statusUnderWay: Promise<StatusReport> | null = null;
  #http: StatusHttpServer | null = null;
  #repairSource: RepairQueueSource | null = null;

  private constructor(
    options: NameNodeServerOptions,
    listener: NodeListener,
    store: MetadataStore,
    deadAfterMs: number,
  ) {
    this.addr = listener.addr;
    this.address = formatNodeAddress(this.addr);
    this.id = options.id ?? `nn@${this.address}`;
    this.store = store;
    this.#ownsStore = options.store === undefined;
    this.#events = new RecentEvents(options.recentEvents ?? DEFAULT_RECENT_EVENTS);
    this.logSink = this.#events.tee(options.log ?? (() => {}));
    this.#log = new DecisionLog(this.id, this.logSink);
    const probe = options.traffic === undefined ? new StatsProbe(options.secrets) : null;
    this.#traffic = options.traffic ?? probe!;
    this.#repairQueue = options.repairQueue;
    // The datanodes' STATS carry their scrub progress: the probe that asks for traffic keeps it.
    this.#scrub = options.scrub ?? probe ?? undefined;
    this.#state = new NameNodeState({
      id: this.id,
      store,
      timing: {
        deadAfterMs,
        heartbeatIntervalMs: options.heartbeatIntervalMs ??
          Math.max(1, Math.min(NAMENODE_DEFAULTS.heartbeatIntervalMs, Math.floor(deadAfterMs / 3))),
        blockReportIntervalMs: options.blockReportIntervalMs ??
          NAMENODE_DEFAULTS.blockReportIntervalMs,
        orphanGraceMs: options.orphanGraceMs ?? NAMENODE_DEFAULTS.orphanGraceMs,
        ...(options.directoryTtlMs === undefined ? {} : { directoryTtlMs: options.directoryTtlMs }),
      },
      log: this.#log,
      catalog: new CodeCatalog(options.loadModule),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    this.#maintenance = new Maintenance(this.#state, {
      checkIntervalMs: options.checkIntervalMs ??
        Math.max(10, Math.min(5_000, Math.floor(deadAfterMs / 4))),
      pendingTimeoutMs: options.pendingTimeoutMs ?? NAMENODE_DEFAULTS.pendingTimeoutMs,
      pendingScanIntervalMs: options.pendingScanIntervalMs ??
        NAMENODE_DEFAULTS.pendingScanIntervalMs,
    });
    this.#maintenance.start();
    this.#frames = new FrameServer({
      listener,
      idleTimeoutMs: options.idleTimeoutMs,
      frameTimeoutMs: options.frameTimeoutMs,
      shutdownGraceMs: options.shutdownGraceMs ?? NAMENODE_DEFAULTS.shutdownGraceMs,
      auth: options.secrets === undefined
        ? undefined
        : { verifier: new RequestVerifier(options.secrets), readOnlyOps: READ_ONLY_OPS },
    }, {
      request: (_connection, conn) => ({ conn, streaming: false, frameOpen: false }),
      serve: (request, raw) => this.#serve(request, raw),
      outcome: (outcome) => this.#logFailure(outcome),
      acceptFailed: (error) =>
        this.#log.emit("error", { message: `accept failed: ${messageOf(error)}` }),
      connectionFailed: (connection, error) => {
        if (connection.closing) return;
        this.#log.emit("error", {
          message: `connection from ${connection.peer}: ${messageOf(error)}`,
        });
      },
      stopped: async () => {
        await this.#http?.shutdown().catch(() => {});
        await this.#maintenance.stop();
        if (this.#ownsStore) await this.store.close().catch(() => {});
        this.#log.emit("stopped", { address: this.address });
      },
    });
    this.finished = this.#frames.finished;
  }

  /**
   * Binds the listener (or takes over `options.listener`), opens the store (unless given one)
   * and starts serving. The port is bound first, so a busy port leaves nothing opened.
   *
   * @example
   * ```ts
   * import { NameNodeServer } from "./server.ts";
   * const server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
   * await server.shutdown();
   * ```
   *
   * @param options Store, address, timing, log.
   * @returns The running server.
   * @throws {CdfsError} `USAGE` for a bad `meta` spec or a missing one, `UNAVAILABLE` when
   * the store cannot be opened; the listener's errors (e.g. `AddrInUse`).
   */
  static async start(options: NameNodeServerOptions): Promise<NameNodeServer> {
    if ((options.meta === undefined) === (options.store === undefined)) {
      throw new CdfsError("USAGE", "a namenode needs exactly one of a metadata spec and a store");
    }
    const deadAfterMs = options.deadAfterMs ?? NAMENODE_DEFAULTS.deadAfterMs;
    if (!Number.isFinite(deadAfterMs) || deadAfterMs <= 0) {
      throw new CdfsError("USAGE", `deadAfterMs must be a positive number, got ${deadAfterMs}`);
    }
    const listener = listenTcp(options, DEFAULT_NAMENODE_PORT);
    let store: MetadataStore;
    try {
      store = options.store ?? await openMetadataStore(options.meta!, {
        deadAfterMs,
        ...(options.now === undefined ? {} : { now: options.now }),
      });
    } catch (error) {
      listener.close();
      throw error;
    }
    const server = new NameNodeServer(options, listener, store, deadAfterMs);
    server.#log.emit("listening", { address: server.address, store: store.description });
    if (options.http !== undefined) {
      try {
        server.#http = serveStatusHttp({
          ...options.http,
          report: () => server.status(),
          ...(options.httpRefreshMs === undefined ? {} : { refreshMs: options.httpRefreshMs }),
        });
      } catch (error) {
        await server.shutdown(0);
        throw new CdfsError(
          "UNAVAILABLE",
          `--http ${options.http.hostname}:${options.http.port}: ${messageOf(error)}`,
          { cause: error },
        );
      }
      server.#log.emit("http-listening", { address: server.#http.address });
    }
    return server;
  }

  /**
   * Where this namenode's log records go: its recent events (STATUS, the status page), then
   * the sink it was started with. What runs beside it (the repair loop) logs here too.
   */
  readonly logSink: NameNodeLogSink;

  /** `HOST:PORT` of the status page, or null when it is not served. */
  get httpAddress(): string | null {
    return this.#http?.address ?? null;
  }

  /**
   * The status report (STATUS, the status page): concurrent callers share one.
   *
   * @example
   * ```ts
   * import { NameNodeServer } from "./server.ts";
   * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
   * console.log((await server.status()).events[0]?.event); // "listening"
   * ```
   *
   * @returns The report.
   */
  status(): Promise<StatusReport> {
    this.#statusUnderWay ??= buildStatus(this.#state, {
      events: () => this.#events.newestFirst(),
      traffic: this.#traffic,
      ...(this.#repairQueue === undefined ? {} : { repairQueue: this.#repairQueue }),
      ...(this.#scrub === undefined ? {} : { scrub: this.#scrub }),
    }).finally(() => this.#statusUnderWay = null);
    return this.#statusUnderWay;
  }

  /**
   * Plugs a repair queue and scrub progress into the status (a part of the namenode made
   * after it started).
   *
   * @example
   * ```ts
   * import { NameNodeServer } from "./server.ts";
   * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
   * server.attachStatus({ repairQueue: { snapshot: () => ({ queued: 1, items: [] }) } });
   * console.log((await server.status()).repair.queued); // 1
   * ```
   *
   * @param sources The providers to use from now on (those not given stay).
   */
  attachStatus(sources: { repairQueue?: RepairQueueView; scrub?: ScrubView }): void {
    if (sources.repairQueue !== undefined) this.#repairQueue = sources.repairQueue;
    if (sources.scrub !== undefined) this.#scrub = sources.scrub;
  }

  /** The number of open client connections. */
  get connections(): number {
    return this.#frames.connections;
  }

  /**
   * Runs the background round now (mark silent datanodes dead; expire pending files when due),
   * instead of waiting for the timer.
   *
   * @example
   * Not run by `deno test --doc`: it serves until the process is stopped.
   * ```ts ignore
   * await server.checkNow();
   * ```
   *
   * @returns When the round is over.
   */
  checkNow(): Promise<void> {
    return this.#maintenance.runOnce();
  }

  /**
   * Attaches the repair loop whose queue {@linkcode NameNodeServer.repairQueueSnapshot}
   * returns (`namenode serve` runs one, `src/client/files/auto_repair.ts`; null detaches).
   *
   * @example
   * ```ts
   * import { NameNodeServer } from "./server.ts";
   * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
   * server.attachRepairQueue({ repairQueueSnapshot: () => [] });
   * ```
   *
   * @param source The loop, or null.
   */
  attachRepairQueue(source: RepairQueueSource | null): void {
    this.#repairSource = source;
    // The status page and STATUS show the same queue.
    this.#repairQueue = source === null ? undefined : repairQueueView(source);
  }

  /**
   * The repair queue now, read-only, in repair order: each file's id, name, code, priority
   * (`margin`: copies it can still lose, smallest first), state (`queued`, `repairing`,
   * `waiting` for a retry, `lost`), attempts, last error and progress; null when no repair loop
   * is attached (`--no-auto-repair`). For a status page or op.
   *
   * @example
   * ```ts
   * import { NameNodeServer } from "./server.ts";
   * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
   * console.log(server.repairQueueSnapshot()); // null
   * ```
   *
   * @returns The entries (a copy), or null.
   */
  repairQueueSnapshot(): RepairQueueEntry[] | null {
    return this.#repairSource?.repairQueueSnapshot() ?? null;
  }

  /**
   * Stops the server: no new connections; idle ones are closed now; requests under way may
   * finish within `graceMs`, then their connections are closed. Then the loop stops and a
   * store the server opened is closed. Calling it again with a shorter grace shortens the wait.
   *
   * @example
   * Not run by `deno test --doc`: it serves until the process is stopped.
   * ```ts ignore
   * Deno.addSignalListener("SIGTERM", () => server.shutdown());
   * await server.finished;
   * ```
   *
   * @param graceMs How long requests under way may take to finish.
   * @returns {@linkcode NameNodeServer.finished}.
   */
  shutdown(graceMs?: number): Promise<void> {
    return this.#frames.shutdown(graceMs);
  }

  /** Stops at once (grace 0), for `await using server = await NameNodeServer.start(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown(0);
  }

  /** Serves one complete request: validates it, runs its op, writes the RESPONSE. */
  async #serve(request: NameNodeRequest, raw: Record<string, unknown>): Promise<void> {
    // A full report's data stream follows its request unasked, even a malformed request: once
    // refused, the connection cannot be followed and is closed.
    request.streaming = raw.op === "BLOCK_REPORT" && raw.kind === "full";
    const parsed = parseNameNodeRequest(raw);
    let response: NameNodeResponse;
    if (parsed.op === "BLOCK_REPORT" && parsed.kind === "full") {
      response = await this.#fullReport(request.conn, parsed);
      request.streaming = false;
    } else if (parsed.op === "STATUS") {
      response = await this.status();
    } else {
      response = await handleRequest(this.#state, parsed);
    }
    await request.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
  }

  /** Reads a full report's stream (the node must be registered) and records it. */
  async #fullReport(conn: FrameConnection, request: FullReportRequest): Promise<NameNodeResponse> {
    await this.store.getDatanode(request.node);
    const parser = new ReportParser(request.count);
    // One plain buffer per report: report lines are parsed, never hashed in place or stored.
    const buffer = new Uint8Array(request.chunkSize);
    await receiveChunks(
      conn,
      { acquire: () => Promise.resolve({ bytes: buffer, release() {} }) },
      { chunkSize: request.chunkSize, length: request.length },
      (chunk) => parser.push(chunk.bytes),
    );
    return await blockReport(this.#state, request.node, { kind: "full", blocks: parser.finish() });
  }

  /** Logs a refused request or a broken connection (a request served is logged by its op). */
  #logFailure({ connection, op, failure }: FrameOutcome<NameNodeRequest>): void {
    if (failure === null) return;
    this.#log.emit(failure.code === "INTERNAL" ? "error" : "request-failed", {
      peer: connection.peer,
      op,
      code: failure.code,
      message: failure.fromPeer ? `from the client: ${failure.message}` : failure.message,
      ...(failure.stack === undefined ? {} : { stack: failure.stack }),
    });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
