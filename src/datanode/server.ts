/**
 * The datanode server: the shared server of wire format v1 (`src/protocol/frame_server.ts`:
 * one TCP listener, one task per connection, any number of requests per connection, ERROR
 * frames, timeouts, a graceful shutdown) serving the datanode's ops over a block store.
 *
 * Each complete REQUEST is routed to its op's handler (dispatch.ts); a handler that streams
 * says so on its context, so that an error during a data stream (any STORE, a RETRIEVE after
 * its RESPONSE) closes the connection after the ERROR frame (docs/protocol.md §4). Every
 * request is logged and counted per op (and per CODING run) with its frame bytes and time.
 *
 * Memory is bounded by the shared buffer pool: a STORE holds one or two pooled buffers while
 * a frame is being received and written, a RETRIEVE one or two for its duration, everything
 * else a few small allocations. A request that cannot get a buffer waits (which, through TCP
 * flow control, slows its client down), but only for `bufferWaitMs`: then it fails with `BUSY`
 * (buffers.ts). Connections are capped (`maxConnections`, by default below the descriptor
 * limit): one more is told `BUSY` and closed. A frame must arrive at a minimum rate
 * (`minRate`), and a connection that times out is told `TIMEOUT` before it is closed. PING
 * reports the pool's and the connections' pressure.
 *
 * Shutdown: stop accepting, close connections that are between requests, let requests under
 * way finish within a grace period, then abort them (closing their sockets; an aborted STORE
 * removes its temp file, so no half-written block is ever visible).
 *
 * @module
 */
import { formatNodeAddress } from "../core/address.ts";
import type { BufferPool } from "../buffer/pool.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { PeerClientPool } from "../coding/runtime/peer_client_pool.ts";
import { RunRegistry } from "../coding/runtime/run_registry.ts";
import { hashInPlace } from "../checksum/checksum.ts";
import { FRAME_HEADER_SIZE, MAX_CHUNK_SIZE } from "../protocol/frame.ts";
import { FrameServer } from "../protocol/frame_server.ts";
import { type NodeSecrets, RequestSigner, RequestVerifier } from "../protocol/auth.ts";
import type { DataNodeClientOptions } from "../client/node_connection.ts";
import type { FrameOutcome, ServerConnection } from "../protocol/frame_server_handler.ts";
import { listenTcp } from "../protocol/listen.ts";
import type { NodeListener, TlsClientConfig, TlsServerConfig } from "../protocol/tls.ts";
import { validateNodeId } from "../protocol/node_id.ts";
import type { BlockStore } from "../store/block_store.ts";
import { DEFAULT_IDLE_TIMEOUT_MS, type MinDataRate } from "../protocol/timed_socket.ts";
import { DEFAULT_BUFFER_WAIT_MS } from "./buffers.ts";
import { defaultMaxConnections } from "./connection_limit.ts";
import { OpTable, STANDARD_OPS } from "./dispatch.ts";
import { discardLog, type LogSink, type RequestLogRecord } from "./log.ts";
import type { NodePressure, OpContext, OpHandler } from "./op.ts";
import { codingOp, createCodingOp } from "./ops/coding.ts";
import { defaultPeers } from "./peers.ts";
import { RequestMemory } from "./request_memory.ts";
import type { PeerGate } from "../coding/runtime/coding_session.ts";
import { createStatsOp, statsOp } from "./ops/stats.ts";
import { createScrubOp, scrubOp } from "./ops/scrub.ts";
import { Scrubber, type ScrubberOptions } from "./scrub.ts";
import { TrafficCounters } from "./traffic.ts";

/**
 * The port a datanode listens on by default.
 */
export const DEFAULT_DATANODE_PORT = 13100;

/**
 * How long a shutdown lets requests under way finish before aborting them, by default.
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * The default minimum data rate of a frame being received: 16 KiB/s after 5 s.
 */
export const DEFAULT_MIN_RATE: MinDataRate = Object.freeze({
  bytesPerSecond: 16 * 1024,
  graceMs: 5_000,
});

/**
 * Options of {@linkcode DataNodeServer.listen}.
 *
 * @example
 * Not run by `deno test --doc`: a fragment of a datanode's start-up (`store`, `pool`).
 * ```ts ignore
 * import type { DataNodeServerOptions } from "./server.ts";
 * const options: DataNodeServerOptions = {
 *   store: await BlockStore.open("/srv/cdfs"),
 *   pool: new BufferPool({ bufferSize: (1 << 20) + 64, maxBuffers: 64 }),
 *   nodeId: "dn1",
 *   port: 0,
 * };
 * ```
 */
export interface DataNodeServerOptions {
  /** The block store to serve. */
  store: BlockStore;
  /**
   * The buffers every data stream is read into and sent from, shared by all connections. Its
   * buffer size, minus 16 bytes of frame-header headroom, is the largest chunk size served.
   */
  pool: BufferPool;
  /**
   * The largest chunk size served (default and upper bound: the pool's buffer size minus the
   * 16 bytes of frame-header headroom).
   */
  maxChunkSize?: number;
  /**
   * The node id PING reports (1..200 of `A-Z a-z 0-9 . _ : @ -`), or a function that makes it
   * from the bound address (for an id naming a port that was chosen at bind time).
   */
  nodeId: string | ((addr: Deno.NetAddr) => string);
  /**
   * A listener bound already, which the server takes over (and closes when it stops), instead
   * of binding `hostname` and `port`: `datanode serve` binds its ports before it creates the
   * data directory, so that a busy port leaves nothing behind.
   */
  listener?: NodeListener;
  /** Serve TLS with this certificate and key (ignored with `listener`: bind it with TLS). */
  tls?: TlsServerConfig;
  /**
   * TLS of this node's own connections to its peers (CODING pulls and pushes): the CA
   * certificates, or null for plain TCP (default: the process's `defaultTls()`, `tls.ts`).
   */
  clientTls?: TlsClientConfig | null;
  /** The address to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** The port (default 13100; 0 picks a free one, see {@linkcode DataNodeServer.addr}). */
  port?: number;
  /** How long a connection may wait for its next frame (default 60 s). */
  idleTimeoutMs?: number;
  /** How long a started frame may take to arrive or to be written (default 30 s). */
  frameTimeoutMs?: number;
  /** Default grace period of {@linkcode DataNodeServer.shutdown} (default 10 s). */
  shutdownGraceMs?: number;
  /**
   * The most connections served at once (default: below the descriptor limit, see
   * `defaultMaxConnections`); one more is told `BUSY` and closed.
   */
  maxConnections?: number;
  /**
   * The slowest a started frame may arrive (default {@linkcode DEFAULT_MIN_RATE}; `null`: only
   * the frame timeout bounds it).
   */
  minRate?: MinDataRate | null;
  /** The longest a request waits for a pooled buffer before failing with `BUSY` (default 5 s). */
  bufferWaitMs?: number;
  /** Where log records go (default: nowhere). */
  log?: LogSink;
  /** The operations served (default {@linkcode STANDARD_OPS}). */
  ops?: readonly OpHandler[];
  /**
   * The CODING operation's setup (when the standard CODING handler is among the ops): the
   * modules served (default: every built-in module) and the registry of runs shared by all
   * connections (default: one of the server's own, closed when it stops). Connections to the
   * other nodes of a run use this server's idle and frame timeouts.
   */
  coding?: DataNodeCodingOptions;
  /** The traffic counters to count on (default: new ones; see {@linkcode DataNodeServer.traffic}). */
  traffic?: TrafficCounters;
  /**
   * The addresses CODING runs may connect to (docs/protocol.md, CODING, peers): a
   * `PeerMembership` (`peers.ts`). Default {@linkcode defaultPeers} of the bound address:
   * literal loopback addresses when it is a loopback one, else none.
   */
  peers?: PeerGate;
  /**
   * The cluster secrets (`auth.ts`): every request must be signed with one, a read-only one
   * may use only {@linkcode DATANODE_READ_ONLY_OPS}, and this node signs its own requests to
   * the other nodes of a coding run with the full one. Default: requests are not checked.
   */
  secrets?: NodeSecrets;
  /**
   * The scrub (scrub.ts): its background rate in bytes per second (default 0: SCRUB requests
   * only), the pause between passes and the clock. Reads that find a block damaged quarantine
   * it either way.
   */
  scrub?: Omit<ScrubberOptions, "store" | "nodeId" | "log">;
}

/**
 * The ops a read-only credential may use on a datanode.
 */
export const DATANODE_READ_ONLY_OPS: ReadonlySet<string> = new Set([
  "PING",
  "RETRIEVE",
  "STAT",
  "LIST",
  "STATS",
]);

/**
 * The CODING setup of a {@linkcode DataNodeServer}.
 *
 * @example
 * ```ts
 * import type { DataNodeCodingOptions } from "./server.ts";
 * import { loadCodingModule } from "../coding/lang/loader.ts";
 * const options: DataNodeCodingOptions = {
 *   modules: new Map([["rapidraid", await loadCodingModule("rapidraid")]]),
 * };
 * ```
 */
export interface DataNodeCodingOptions {
  /** The modules served, by name (default: every built-in module, loaded on first use). */
  modules?: ReadonlyMap<string, CodingModule>;
  /** The user directories of `modules`, where family specs are built from (then built-in). */
  codingDirs?: readonly string[];
  /** The node's run registry (default: the server's own). */
  runs?: RunRegistry;
}

/** The state of one request: what its op's handler is given, and the CODING run it serves. */
interface DataNodeRequest extends OpContext {
  /** The connection it came on. */
  readonly connection: ServerConnection;
  /** `performance.now()` when its REQUEST frame arrived. */
  readonly started: number;
  /** The CODING run whose bytes the connection counts, if any. */
  run: string | null;
}

/** A run id as CODING requests carry it (32 lower-case hex digits). */
const RUN_ID = /^[0-9a-f]{32}$/;

/**
 * A running datanode. Start one with {@linkcode DataNodeServer.listen}; stop it with
 * {@linkcode DataNodeServer.shutdown}.
 *
 * @example
 * ```ts
 * import { BufferPool } from "../buffer/pool.ts";
 * import { BlockStore } from "../store/block_store.ts";
 * import { DataNodeServer } from "./server.ts";
 * const dir = await Deno.makeTempDir();
 * const server = DataNodeServer.listen({
 *   store: await BlockStore.open(dir),
 *   pool: new BufferPool({ bufferSize: (1 << 20) + 64, maxBuffers: 8 }),
 *   nodeId: "dn1",
 *   port: 0,
 * });
 * console.log(`listening on ${server.addr.port}`);
 * await server.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DataNodeServer {
  /** The address the listener is bound to (with the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** The node id. */
  readonly nodeId: string;
  /** Settles once the server has stopped: listener closed and every connection ended. */
  readonly finished: Promise<void>;
  /** Frame bytes and time per op and per CODING run (STATS, `/metrics`). */
  readonly traffic: TrafficCounters;
  /** The node's scrub, whose progress STATS reports and which SCRUB runs. */
  readonly scrubber: Scrubber;

  readonly #store: BlockStore;
  /** Recent DELETE request ids and their outcomes (docs/protocol.md, DELETE). */
  readonly #requests = new RequestMemory();
  readonly #pool: BufferPool;
  readonly #maxChunkSize: number;
  readonly #table: OpTable;
  /** The ops served, the only op names the traffic counters keep apart. */
  readonly #opNames: ReadonlySet<string>;
  readonly #log: LogSink;
  /** The run registry the server made for CODING (closed when it stops), if any. */
  readonly #ownRuns: RunRegistry | undefined;
  /** Connections to other nodes kept between coding runs (closed on shutdown). */
  readonly #peerClients: PeerClientPool;
  readonly #frames: FrameServer<DataNodeRequest>;
  readonly #bufferWaitMs: number | undefined;

  private constructor(
    options: DataNodeServerOptions,
    listener: NodeListener,
    nodeId: string,
  ) {
    this.addr = listener.addr;
    this.nodeId = nodeId;
    this.#store = options.store;
    this.#pool = options.pool;
    // Every chunk this node receives or serves lies in the pool's arena: hash it there rather
    // than through hash-wasm's copy (STORE as well as RETRIEVE, from the first request on).
    hashInPlace(options.pool.arena);
    this.#maxChunkSize = Math.min(
      options.pool.bufferSize - FRAME_HEADER_SIZE,
      MAX_CHUNK_SIZE,
      options.maxChunkSize ?? Infinity,
    );
    this.traffic = options.traffic ?? new TrafficCounters();
    this.scrubber = new Scrubber({
      ...options.scrub,
      store: options.store,
      nodeId,
      log: (record) => this.#emit(record),
    });
    let ops = options.ops ?? STANDARD_OPS;
    if (ops.includes(statsOp)) {
      const handler = createStatsOp(this.traffic, () => this.scrubber.status);
      ops = ops.map((op) => op === statsOp ? handler : op);
    }
    if (ops.includes(scrubOp)) {
      const handler = createScrubOp(this.scrubber);
      ops = ops.map((op) => op === scrubOp ? handler : op);
    }
    // Kept for half the idle timeout at most: the peers, set alike, close them after it.
    const idleMs = Math.min(30_000, (options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 2);
    this.#peerClients = new PeerClientPool({ idleMs });
    if (ops.includes(codingOp)) {
      // The standard CODING handler, made for this node: its modules, its run registry (one
      // per node, shared by its connections) and its timeouts for the other nodes.
      const runs = options.coding?.runs ?? (this.#ownRuns = new RunRegistry());
      const client: DataNodeClientOptions = {};
      if (options.secrets !== undefined) client.signer = new RequestSigner(options.secrets.full);
      if (options.idleTimeoutMs !== undefined) client.idleTimeoutMs = options.idleTimeoutMs;
      if (options.frameTimeoutMs !== undefined) client.frameTimeoutMs = options.frameTimeoutMs;
      if (options.clientTls !== undefined) client.tls = options.clientTls;
      const modules = options.coding?.modules;
      const handler = createCodingOp({
        runs,
        client,
        traffic: this.traffic,
        peerClients: this.#peerClients,
        peers: options.peers ?? defaultPeers(formatAddress(listener.addr)),
        peerFailed: (address, error) =>
          this.#event(
            "peer-unreachable",
            `${address}: ${error instanceof Error ? error.message : String(error)}`,
          ),
        ...(modules === undefined ? {} : { modules }),
        ...(options.coding?.codingDirs === undefined
          ? {}
          : { codingDirs: options.coding.codingDirs }),
      });
      ops = ops.map((op) => op === codingOp ? handler : op);
    }
    this.#table = new OpTable(ops);
    this.#opNames = new Set(this.#table.ops);
    this.#log = options.log ?? discardLog;
    this.#bufferWaitMs = options.bufferWaitMs;
    const minRate = options.minRate === undefined ? DEFAULT_MIN_RATE : options.minRate;
    this.#frames = new FrameServer({
      listener,
      idleTimeoutMs: options.idleTimeoutMs,
      frameTimeoutMs: options.frameTimeoutMs,
      maxConnections: options.maxConnections ?? defaultMaxConnections(),
      minRate: minRate ?? undefined,
      shutdownGraceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
      shutdownName: "the node's shutdown",
      auth: options.secrets === undefined ? undefined : {
        verifier: new RequestVerifier(options.secrets),
        readOnlyOps: DATANODE_READ_ONLY_OPS,
      },
    }, {
      request: (connection, conn, started) => ({
        connection,
        conn,
        started,
        store: this.#store,
        requests: this.#requests,
        pool: this.#pool,
        maxChunkSize: this.#maxChunkSize,
        nodeId: this.nodeId,
        signal: connection.signal,
        bufferWaitMs: this.#bufferWaitMs ?? DEFAULT_BUFFER_WAIT_MS,
        pressure: () => this.pressure,
        block: undefined,
        bytes: 0,
        streaming: false,
        frameOpen: false,
        run: null,
      }),
      serve: (request, raw, payloadLength) => this.#serve(request, raw, payloadLength),
      outcome: (outcome) => this.#logRequest(outcome),
      finished: (request, failed) => this.#finishRun(request, failed),
      acceptFailed: (error, unreported) =>
        this.#event(
          "error",
          `accept failed: ${error instanceof Error ? error.message : error}${
            unreported > 0 ? ` (and ${unreported} more times since the last report)` : ""
          }`,
        ),
      refused: (peer, max, unreported) =>
        this.#event(
          "busy",
          `refused ${peer}: ${max} connections open, the cap${
            unreported > 0 ? ` (and ${unreported} more refused since the last report)` : ""
          }`,
        ),
      connectionFailed: (connection, error) =>
        this.#event("error", `connection from ${connection.peer} failed`, error),
      stopped: () => {
        this.#ownRuns?.close();
        this.#peerClients.close();
        this.#event("stopped", "all connections closed");
      },
    });
    // Stopped with the server: its passes read the store the server's owner closes after.
    this.finished = this.#frames.finished.then(() => this.scrubber.stop());
  }

  /**
   * Binds the listener (or takes over `options.listener`) and starts serving.
   *
   * @example
   * Not run by `deno test --doc`: a fragment of a datanode's start-up (`store`, `pool`).
   * ```ts ignore
   * const server = DataNodeServer.listen({ store, pool, nodeId: "dn1", port: 0 });
   * ```
   *
   * @param options The store, pool, node id, address, timeouts and log sink.
   * @returns The running server.
   * @throws {CdfsError} `BAD_REQUEST` for a bad node id; `RangeError` for a pool whose buffers
   * cannot hold the smallest chunk; the listener's errors (e.g. `AddrInUse`).
   */
  static listen(options: DataNodeServerOptions): DataNodeServer {
    if (typeof options.nodeId === "string") validateNodeId(options.nodeId);
    if (options.pool.bufferSize < 4096 + FRAME_HEADER_SIZE) {
      throw new RangeError(
        `the pool's buffers (${options.pool.bufferSize} bytes) cannot hold a 4096-byte chunk ` +
          `and its frame header`,
      );
    }
    const listener = listenTcp(options, DEFAULT_DATANODE_PORT);
    let nodeId: string;
    try {
      nodeId = validateNodeId(
        typeof options.nodeId === "string" ? options.nodeId : options.nodeId(listener.addr),
      );
    } catch (e) {
      listener.close();
      throw e;
    }
    const server = new DataNodeServer(options, listener, nodeId);
    server.#event("listening", `${formatAddress(server.addr)} (node ${server.nodeId})`);
    server.scrubber.start();
    return server;
  }

  /** The number of open client connections. */
  get connections(): number {
    return this.#frames.connections;
  }

  /** The connections refused with BUSY (over the cap) since the node started. */
  get refused(): number {
    return this.#frames.refused;
  }

  /** The buffer pool's and the connections' pressure now (what PING reports). */
  get pressure(): NodePressure {
    const pool = this.#pool;
    return {
      pool: { inUse: pool.inUse, size: pool.capacity, waiting: pool.waiting },
      connections: { open: this.#frames.connections, max: this.#frames.maxConnections },
    };
  }

  /** Whether {@linkcode DataNodeServer.shutdown} was called. */
  get draining(): boolean {
    return this.#frames.draining;
  }

  /**
   * Stops the server: no new connections; connections between requests are closed now;
   * requests under way may finish within `graceMs`, after which their connections are closed
   * (an aborted STORE removes its temp file). Calling it again with a shorter grace period
   * shortens the wait (`0`: abort now).
   *
   * @example
   * Not run by `deno test --doc`: it serves until the process is stopped.
   * ```ts ignore
   * Deno.addSignalListener("SIGTERM", () => server.shutdown());
   * await server.finished;
   * ```
   *
   * @param graceMs How long requests under way may take to finish.
   * @returns {@linkcode DataNodeServer.finished}.
   */
  shutdown(graceMs?: number): Promise<void> {
    if (!this.#frames.draining) {
      const grace = graceMs ?? this.#frames.graceMs;
      this.#event(
        "shutdown",
        `stopping: ${this.#frames.busy} requests under way, grace ${grace} ms`,
      );
    }
    void this.scrubber.stop();
    this.#peerClients.close();
    return this.#frames.shutdown(graceMs).then(() => this.finished);
  }

  /** Stops at once (grace 0), for `await using server = DataNodeServer.listen(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown(0);
  }

  /** Serves one complete request through its op's handler. */
  async #serve(
    request: DataNodeRequest,
    raw: Record<string, unknown>,
    payloadLength: number,
  ): Promise<void> {
    const handler = this.#table.find(raw);
    request.streaming = handler.clientStreams;
    const run = raw.op === "CODING" && typeof raw.run === "string" && RUN_ID.test(raw.run)
      ? raw.run
      : null;
    if (run !== null) {
      // The run's bytes, live: its REQUEST frame, already read, and everything from here on.
      request.run = run;
      const meter = this.traffic.servedMeter(run);
      meter.bytesIn += FRAME_HEADER_SIZE + payloadLength;
      request.conn.meter = meter;
    }
    await handler.run(request, raw);
  }

  /** Stops counting a served CODING request's bytes on its run, and counts the request. */
  #finishRun(request: DataNodeRequest, failed: boolean): void {
    if (request.run === null) return;
    request.conn.meter = null;
    this.traffic.finishServed(request.run, performance.now() - request.started, failed);
  }

  #logRequest(outcome: FrameOutcome<DataNodeRequest>): void {
    const { connection, op, failure, request } = outcome;
    const ms = performance.now() - outcome.started;
    const traffic = connection.takeTraffic();
    if (traffic !== null) {
      // Names from the client become metric labels: only the ops served here are kept apart.
      const name = op !== null && this.#opNames.has(op) ? op : "other";
      this.traffic.recordRequest(name, { ...traffic, ms, failed: failure !== null });
    }
    const record: RequestLogRecord = {
      time: new Date().toISOString(),
      node: this.nodeId,
      peer: connection.peer,
      op,
      ...(request?.block === undefined ? {} : { block: request.block }),
      bytes: request?.bytes ?? 0,
      ms: Math.round(ms * 10) / 10,
      result: failure?.code ?? "ok",
    };
    if (failure !== null) {
      record.message = failure.fromPeer ? `from the client: ${failure.message}` : failure.message;
      if (failure.stack !== undefined) record.stack = failure.stack;
    }
    this.#emit(record);
  }

  #event(event: string, message: string, error?: unknown): void {
    const record: { time: string; node: string; event: string; message: string; stack?: string } = {
      time: new Date().toISOString(),
      node: this.nodeId,
      event,
      message,
    };
    if (error instanceof Error && error.stack) record.stack = error.stack;
    else if (error !== undefined) record.message += `: ${String(error)}`;
    this.#emit(record);
  }

  #emit(record: Parameters<LogSink>[0]): void {
    try {
      this.#log(record);
    } catch {
      // A broken sink must not break serving.
    }
  }
}

/**
 * `host:port`, with brackets around an IPv6 host.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./server.ts";
 * console.log(formatAddress({ transport: "tcp", hostname: "::1", port: 80 })); // "[::1]:80"
 * ```
 *
 * @param addr A network address.
 * @returns Its text form.
 */
export function formatAddress(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return formatNodeAddress(addr);
}
