/**
 * The datanode server: one TCP listener, one task per connection, any number of requests per
 * connection (one at a time, as the protocol says), and a graceful shutdown.
 *
 * Each connection task does the preamble exchange, then loops: wait for a REQUEST frame
 * (bounded by the idle timeout), route it to its op's handler (dispatch.ts), and answer any
 * failure with an ERROR frame. Whether the connection survives an error follows
 * docs/protocol.md §4: errors answering a complete request that carries no data leave it
 * usable; errors during a data stream (any STORE, a RETRIEVE after its RESPONSE) and broken
 * frames close it, after a lingering close so the ERROR is not lost to a TCP reset.
 *
 * Memory is bounded by the shared buffer pool: a STORE or RETRIEVE holds one or two pooled
 * buffers for its duration, everything else a few small allocations, and a connection that
 * cannot get a buffer waits (which, through TCP flow control, slows its client down).
 *
 * Shutdown: stop accepting, close connections that are between requests, let requests under
 * way finish within a grace period, then abort them (closing their sockets; an aborted STORE
 * removes its temp file, so no half-written block is ever visible).
 *
 * @module
 */
import type { BufferPool } from "../buffer/pool.ts";
import type { CodingModule } from "../coding/program.ts";
import { RunRegistry } from "../coding/queues.ts";
import { hashInPlace } from "../checksum.ts";
import { CdfsError } from "../errors.ts";
import { FrameConnection } from "../protocol/connection.ts";
import { FRAME_HEADER_SIZE, FRAME_TYPE, frameTypeName, MAX_CHUNK_SIZE } from "../protocol/frame.ts";
import { validateNodeId } from "../protocol/messages.ts";
import type { BlockStore } from "../store/block_store.ts";
import { describeFailure, type Failure, OpTable, STANDARD_OPS } from "./dispatch.ts";
import { discardLog, type LogSink, type RequestLogRecord } from "./log.ts";
import type { OpContext, OpHandler } from "./op.ts";
import { codingOp, createCodingOp } from "./ops/coding.ts";
import { createStatsOp, statsOp } from "./ops/stats.ts";
import { TrafficCounters } from "./traffic.ts";

/**
 * The port a datanode listens on by default.
 *
 * @example
 * ```ts
 * import { DEFAULT_DATANODE_PORT } from "./server.ts";
 * console.log(DEFAULT_DATANODE_PORT); // 13100
 * ```
 */
export const DEFAULT_DATANODE_PORT = 13100;

/**
 * How long a shutdown lets requests under way finish before aborting them, by default.
 *
 * @example
 * ```ts
 * import { DEFAULT_SHUTDOWN_GRACE_MS } from "./server.ts";
 * console.log(DEFAULT_SHUTDOWN_GRACE_MS); // 10000
 * ```
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * Options of {@linkcode DataNodeServer.listen}.
 *
 * @example
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
  listener?: Deno.TcpListener;
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
}

/**
 * The CODING setup of a {@linkcode DataNodeServer}.
 *
 * @example
 * ```ts
 * import type { DataNodeCodingOptions } from "./server.ts";
 * import { loadCodingModule } from "../coding/loader.ts";
 * const options: DataNodeCodingOptions = {
 *   modules: new Map([["rapidraid", await loadCodingModule("rapidraid")]]),
 * };
 * ```
 */
export interface DataNodeCodingOptions {
  /** The modules served, by name (default: every built-in module, loaded on first use). */
  modules?: ReadonlyMap<string, CodingModule>;
  /** The node's run registry (default: the server's own). */
  runs?: RunRegistry;
}

/** One client connection and what shutdown needs to know about it. */
interface Session {
  readonly socket: Deno.TcpConn;
  readonly peer: string;
  conn: FrameConnection | null;
  /** Waiting for the handshake or the next request: may be closed at once on shutdown. */
  idle: boolean;
  /** Closed by the node (shutdown), so the errors that follow are not the client's. */
  closing: boolean;
  /** The connection's frame bytes read and written before the current request. */
  bytesReadMark: number;
  bytesWrittenMark: number;
  readonly abort: AbortController;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A run id as CODING requests carry it (32 lower-case hex digits). */
const RUN_ID = /^[0-9a-f]{32}$/;

/**
 * A running datanode. Start one with {@linkcode DataNodeServer.listen}; stop it with
 * {@linkcode DataNodeServer.shutdown}.
 *
 * @example
 * ```ts ignore
 * import { BufferPool } from "../buffer/pool.ts";
 * import { BlockStore } from "../store/block_store.ts";
 * import { DataNodeServer } from "./server.ts";
 * const server = DataNodeServer.listen({
 *   store: await BlockStore.open(await Deno.makeTempDir()),
 *   pool: new BufferPool({ bufferSize: (1 << 20) + 64, maxBuffers: 8 }),
 *   nodeId: "dn1",
 *   port: 0,
 * });
 * console.log(`listening on ${server.addr.port}`);
 * await server.shutdown();
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

  readonly #listener: Deno.TcpListener;
  readonly #store: BlockStore;
  readonly #pool: BufferPool;
  readonly #maxChunkSize: number;
  readonly #table: OpTable;
  /** The ops served, the only op names the traffic counters keep apart. */
  readonly #opNames: ReadonlySet<string>;
  readonly #log: LogSink;
  readonly #idleTimeoutMs: number | undefined;
  readonly #frameTimeoutMs: number | undefined;
  readonly #graceMs: number;
  /** The run registry the server made for CODING (closed when it stops), if any. */
  readonly #ownRuns: RunRegistry | undefined;
  readonly #sessions = new Set<Session>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #acceptLoop: Promise<void>;
  #draining = false;
  #stopped = false;
  #abortAt = Infinity;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #resolveFinished!: () => void;

  private constructor(
    options: DataNodeServerOptions,
    listener: Deno.TcpListener,
    nodeId: string,
  ) {
    this.#listener = listener;
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
    let ops = options.ops ?? STANDARD_OPS;
    if (ops.includes(statsOp)) {
      const handler = createStatsOp(this.traffic);
      ops = ops.map((op) => op === statsOp ? handler : op);
    }
    if (ops.includes(codingOp)) {
      // The standard CODING handler, made for this node: its modules, its run registry (one
      // per node, shared by its connections) and its timeouts for the other nodes.
      const runs = options.coding?.runs ?? (this.#ownRuns = new RunRegistry());
      const client: { idleTimeoutMs?: number; frameTimeoutMs?: number } = {};
      if (options.idleTimeoutMs !== undefined) client.idleTimeoutMs = options.idleTimeoutMs;
      if (options.frameTimeoutMs !== undefined) client.frameTimeoutMs = options.frameTimeoutMs;
      const modules = options.coding?.modules;
      const handler = createCodingOp({
        runs,
        client,
        traffic: this.traffic,
        ...(modules === undefined ? {} : { modules }),
      });
      ops = ops.map((op) => op === codingOp ? handler : op);
    }
    this.#table = new OpTable(ops);
    this.#opNames = new Set(this.#table.ops);
    this.#log = options.log ?? discardLog;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#frameTimeoutMs = options.frameTimeoutMs;
    this.#graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    this.#acceptLoop = this.#accept();
  }

  /**
   * Binds the listener (or takes over `options.listener`) and starts serving.
   *
   * @example
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
    const listener = options.listener ?? Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? DEFAULT_DATANODE_PORT,
      transport: "tcp",
    });
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
    return server;
  }

  /** The number of open client connections. */
  get connections(): number {
    return this.#sessions.size;
  }

  /** Whether {@linkcode DataNodeServer.shutdown} was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Stops the server: no new connections; connections between requests are closed now;
   * requests under way may finish within `graceMs`, after which their connections are closed
   * (an aborted STORE removes its temp file). Calling it again with a shorter grace period
   * shortens the wait (`0`: abort now).
   *
   * @example
   * ```ts ignore
   * Deno.addSignalListener("SIGTERM", () => server.shutdown());
   * await server.finished;
   * ```
   *
   * @param graceMs How long requests under way may take to finish.
   * @returns {@linkcode DataNodeServer.finished}.
   */
  shutdown(graceMs: number = this.#graceMs): Promise<void> {
    if (this.#stopped) return this.finished;
    const abortAt = performance.now() + Math.max(0, graceMs);
    if (!this.#draining) {
      this.#draining = true;
      const busy = [...this.#sessions].filter((s) => !s.idle).length;
      this.#event("shutdown", `stopping: ${busy} requests under way, grace ${graceMs} ms`);
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
      for (const session of this.#sessions) {
        if (session.idle) this.#closeSession(session);
      }
      this.#waitForConnections();
    }
    if (abortAt < this.#abortAt) {
      this.#abortAt = abortAt;
      clearTimeout(this.#graceTimer);
      this.#graceTimer = setTimeout(() => {
        for (const session of this.#sessions) this.#closeSession(session);
      }, Math.max(0, abortAt - performance.now()));
    }
    return this.finished;
  }

  /** Stops at once (grace 0), for `await using server = DataNodeServer.listen(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown(0);
  }

  async #accept(): Promise<void> {
    while (!this.#draining) {
      let socket: Deno.TcpConn;
      try {
        socket = await this.#listener.accept();
      } catch (e) {
        if (this.#draining || e instanceof Deno.errors.BadResource) break;
        // E.g. out of file descriptors: say so, back off a little, keep serving.
        this.#event("error", `accept failed: ${e instanceof Error ? e.message : String(e)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.#draining) {
        socket.close();
        break;
      }
      this.#startSession(socket);
    }
  }

  #startSession(socket: Deno.TcpConn): void {
    const session: Session = {
      socket,
      peer: formatAddress(socket.remoteAddr),
      conn: null,
      idle: true,
      closing: false,
      bytesReadMark: 0,
      bytesWrittenMark: 0,
      abort: new AbortController(),
    };
    this.#sessions.add(session);
    const task: Promise<void> = this.#serveConnection(session)
      .catch((e) => this.#event("error", `connection from ${session.peer} failed`, e))
      .finally(() => {
        session.conn?.close();
        try {
          socket.close();
        } catch {
          // Closed already, by the FrameConnection.
        }
        this.#sessions.delete(session);
        this.#tasks.delete(task);
      });
    this.#tasks.add(task);
  }

  async #serveConnection(session: Session): Promise<void> {
    try {
      // Requests and replies are small writes that must not wait for Nagle's algorithm.
      session.socket.setNoDelay(true);
    } catch {
      // Not fatal: only latency suffers.
    }
    const options: { idleTimeoutMs?: number; frameTimeoutMs?: number } = {};
    if (this.#idleTimeoutMs !== undefined) options.idleTimeoutMs = this.#idleTimeoutMs;
    if (this.#frameTimeoutMs !== undefined) options.frameTimeoutMs = this.#frameTimeoutMs;
    const conn = await FrameConnection.create(session.socket, options);
    session.conn = conn;
    if (session.closing) return;
    const started = performance.now();
    try {
      if (!await conn.serverHandshake()) return;
    } catch (e) {
      // serverHandshake has answered a bad preamble and closed; a timeout closed it too.
      if (!session.closing) this.#logRequest(session, null, {}, describeFailure(e), started);
      return;
    }
    while (!this.#draining && await this.#serveRequest(session, conn));
  }

  /** Serves one request; resolves to whether the connection stays open. */
  async #serveRequest(session: Session, conn: FrameConnection): Promise<boolean> {
    session.idle = true;
    session.bytesReadMark = conn.bytesRead;
    session.bytesWrittenMark = conn.bytesWritten;
    let waitStarted = performance.now();
    let header;
    try {
      header = await conn.readFrameHeader();
    } catch (e) {
      session.idle = false;
      return await this.#breakConnection(session, conn, e, waitStarted);
    }
    session.idle = false;
    if (header === null) return false; // the client closed between requests
    waitStarted = performance.now();
    if (header.type === FRAME_TYPE.ERROR) {
      // The client gave up on something: its ERROR is logged, not answered with another.
      const error = await conn.readErrorPayload(header).catch((e) => e);
      return await this.#breakConnection(session, conn, error, waitStarted);
    }
    if (header.type !== FRAME_TYPE.REQUEST) {
      const error = new CdfsError(
        "BAD_REQUEST",
        `expected a REQUEST frame, got ${frameTypeName(header.type)}`,
      );
      return await this.#breakConnection(session, conn, error, waitStarted);
    }
    // Bounded by the header check (64 KiB); JSON is parsed from a regular buffer.
    const payload = new Uint8Array(header.length);
    try {
      await conn.readPayloadInto(payload);
    } catch (e) {
      return await this.#breakConnection(session, conn, e, waitStarted);
    }
    // From here the frame is complete: a bad request is answered and the connection kept,
    // unless the handler says a data stream is under way.
    const ctx: OpContext = {
      conn,
      store: this.#store,
      pool: this.#pool,
      maxChunkSize: this.#maxChunkSize,
      nodeId: this.nodeId,
      signal: session.abort.signal,
      block: undefined,
      bytes: 0,
      streaming: false,
      frameOpen: false,
    };
    let op: string | null = null;
    let run: string | null = null;
    try {
      const raw = decodeRequest(payload);
      op = typeof raw.op === "string" ? raw.op.slice(0, 40) : null;
      const handler = this.#table.find(raw);
      ctx.streaming = handler.clientStreams;
      run = op === "CODING" && typeof raw.run === "string" && RUN_ID.test(raw.run) ? raw.run : null;
      if (run !== null) {
        // The run's bytes, live: its REQUEST frame, already read, and everything from here on.
        const meter = this.traffic.servedMeter(run);
        meter.bytesIn += FRAME_HEADER_SIZE + payload.length;
        conn.meter = meter;
      }
      await handler.run(ctx, raw);
    } catch (e) {
      const keepOpen = await this.#answerFailure(session, conn, ctx, op, e, waitStarted);
      this.#finishRun(conn, run, waitStarted, true);
      return keepOpen;
    }
    this.#finishRun(conn, run, waitStarted, false);
    this.#logRequest(session, op, ctx, null, waitStarted);
    return true;
  }

  /** Stops counting a served CODING request's bytes on its run, and counts the request. */
  #finishRun(conn: FrameConnection, run: string | null, started: number, failed: boolean): void {
    if (run === null) return;
    conn.meter = null;
    this.traffic.finishServed(run, performance.now() - started, failed);
  }

  /** Answers a request that failed; resolves to whether the connection stays open. */
  async #answerFailure(
    session: Session,
    conn: FrameConnection,
    ctx: OpContext,
    op: string | null,
    error: unknown,
    started: number,
  ): Promise<boolean> {
    const failure = this.#failureOf(session, error);
    const keepOpen = !ctx.streaming && !ctx.frameOpen && !conn.closed && !failure.fromPeer;
    if (!conn.closed && !ctx.frameOpen && !failure.fromPeer) {
      await conn.writeError(failure.code, failure.message).catch(() => {});
    }
    this.#logRequest(session, op, ctx, failure, started);
    if (!keepOpen) await conn.closeGracefully();
    return keepOpen;
  }

  /**
   * Ends a connection whose frames can no longer be followed (a bad or truncated frame, a
   * timeout, a lost socket): answers ERROR if the socket still takes it, then closes.
   */
  async #breakConnection(
    session: Session,
    conn: FrameConnection,
    error: unknown,
    started: number,
  ): Promise<false> {
    if (session.closing) return false; // closed by the node's shutdown, not the client's fault
    const failure = this.#failureOf(session, error);
    if (!conn.closed && !failure.fromPeer) {
      await conn.writeError(failure.code, failure.message).catch(() => {});
    }
    this.#logRequest(session, null, {}, failure, started);
    await conn.closeGracefully();
    return false;
  }

  #failureOf(session: Session, error: unknown): Failure {
    const failure = describeFailure(error);
    if (session.closing) {
      failure.message = `aborted by the node's shutdown (${failure.message})`;
    }
    return failure;
  }

  #closeSession(session: Session): void {
    if (session.closing) return;
    session.closing = true;
    session.abort.abort(new CdfsError("UNAVAILABLE", "the node is shutting down"));
    if (session.conn !== null) {
      session.conn.close();
    } else {
      try {
        session.socket.close();
      } catch {
        // Already closed.
      }
    }
  }

  #waitForConnections(): void {
    (async () => {
      await this.#acceptLoop;
      while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
      clearTimeout(this.#graceTimer);
      this.#ownRuns?.close();
      this.#stopped = true;
      this.#event("stopped", "all connections closed");
      this.#resolveFinished();
    })();
  }

  #logRequest(
    session: Session,
    op: string | null,
    ctx: { block?: string | undefined; bytes?: number },
    failure: Failure | null,
    started: number,
  ): void {
    const ms = performance.now() - started;
    const conn = session.conn;
    if (conn !== null) {
      // Names from the client become metric labels: only the ops served here are kept apart.
      const name = op !== null && this.#opNames.has(op) ? op : "other";
      this.traffic.recordRequest(name, {
        bytesIn: conn.bytesRead - session.bytesReadMark,
        bytesOut: conn.bytesWritten - session.bytesWrittenMark,
        ms,
        failed: failure !== null,
      });
      session.bytesReadMark = conn.bytesRead;
      session.bytesWrittenMark = conn.bytesWritten;
    }
    const record: RequestLogRecord = {
      time: new Date().toISOString(),
      node: this.nodeId,
      peer: session.peer,
      op,
      ...(ctx.block === undefined ? {} : { block: ctx.block }),
      bytes: ctx.bytes ?? 0,
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
 * Parses a REQUEST payload into a JSON object (field validation is the handler's job).
 *
 * @throws {CdfsError} `BAD_REQUEST` when it is not UTF-8, not JSON, or not an object.
 */
function decodeRequest(payload: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    throw new CdfsError("BAD_REQUEST", "REQUEST payload is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CdfsError("BAD_REQUEST", "REQUEST payload is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CdfsError("BAD_REQUEST", "REQUEST payload must be a JSON object");
  }
  return value as Record<string, unknown>;
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
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${host}:${addr.port}`;
}
