/**
 * The namenode server: one TCP listener, one task per connection, the cdfs framed protocol
 * (preamble, then REQUEST / RESPONSE / ERROR frames, one request at a time per connection:
 * `src/protocol/connection.ts`, as the datanode speaks it), the namenode's ops
 * (docs/namenode.md) over a {@linkcode MetadataStore}, and a background loop that marks silent
 * datanodes dead and expires abandoned files. It holds metadata only: no block byte ever
 * passes through it.
 *
 * Connection handling follows the datanode server (docs/protocol.md §4): an ERROR answering a
 * complete request leaves the connection usable; an error in a full block report's data
 * stream, a broken frame or a timeout closes it, after a lingering close so the ERROR is not
 * lost to a TCP reset. Shutdown: stop accepting, close idle connections, let requests under way
 * finish within a grace period, stop the loop, close the store if the server opened it.
 *
 * @module
 */
import { formatNodeAddress } from "../address.ts";
import { CdfsError, type ErrorCode } from "../errors.ts";
import { FrameConnection, PeerError } from "../protocol/connection.ts";
import { FRAME_TYPE, frameTypeName } from "../protocol/frame.ts";
import { receiveChunks } from "../protocol/stream.ts";
import { CodeCatalog, type ModuleLoader } from "./code_analysis.ts";
import { blockReport } from "./datanode_ops.ts";
import { handleRequest, type NameNodeResponse } from "./dispatch.ts";
import { DecisionLog, type NameNodeLogSink } from "./log.ts";
import { Maintenance } from "./maintenance.ts";
import { type MetaSpec, openMetadataStore } from "./meta/open.ts";
import type { MetadataStore } from "./meta/store.ts";
import { ReportParser } from "./report_stream.ts";
import { type FullReportRequest, parseNameNodeRequest } from "./requests.ts";
import { NameNodeState } from "./state.ts";

/**
 * The port a namenode listens on by default (datanodes use 13100 and up).
 *
 * @example
 * ```ts
 * import { DEFAULT_NAMENODE_PORT } from "./server.ts";
 * console.log(DEFAULT_NAMENODE_PORT); // 13000
 * ```
 */
export const DEFAULT_NAMENODE_PORT = 13000;

/**
 * The defaults of the namenode's timing (HDFS's are 3 s heartbeats and a node dead after about
 * 10 minutes; cdfs clusters are small and repairs cheap to start, so 30 s).
 *
 * @example
 * ```ts
 * import { NAMENODE_DEFAULTS } from "./server.ts";
 * console.log(NAMENODE_DEFAULTS.deadAfterMs); // 30000
 * ```
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
  readonly listener?: Deno.TcpListener;
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
}

interface Session {
  readonly socket: Deno.TcpConn;
  readonly peer: string;
  conn: FrameConnection | null;
  /** Waiting for the handshake or the next request: may be closed at once on shutdown. */
  idle: boolean;
  /** Closed by the server (shutdown): the errors that follow are not the client's. */
  closing: boolean;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

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

  readonly #listener: Deno.TcpListener;
  readonly #state: NameNodeState;
  readonly #log: DecisionLog;
  readonly #maintenance: Maintenance;
  readonly #ownsStore: boolean;
  readonly #idleTimeoutMs: number | undefined;
  readonly #frameTimeoutMs: number | undefined;
  readonly #graceMs: number;
  readonly #sessions = new Set<Session>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #acceptLoop: Promise<void>;
  #draining = false;
  #abortAt = Infinity;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #resolveFinished!: () => void;

  private constructor(
    options: NameNodeServerOptions,
    listener: Deno.TcpListener,
    store: MetadataStore,
    deadAfterMs: number,
  ) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.address = formatNodeAddress(this.addr);
    this.id = options.id ?? `nn@${this.address}`;
    this.store = store;
    this.#ownsStore = options.store === undefined;
    this.#log = new DecisionLog(this.id, options.log);
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
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#frameTimeoutMs = options.frameTimeoutMs;
    this.#graceMs = options.shutdownGraceMs ?? NAMENODE_DEFAULTS.shutdownGraceMs;
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    this.#maintenance.start();
    this.#acceptLoop = this.#accept();
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
    const listener = options.listener ?? Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? DEFAULT_NAMENODE_PORT,
      transport: "tcp",
    });
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
    return server;
  }

  /** The number of open client connections. */
  get connections(): number {
    return this.#sessions.size;
  }

  /**
   * Runs the background round now (mark silent datanodes dead; expire pending files when due),
   * instead of waiting for the timer.
   *
   * @example
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
   * Stops the server: no new connections; idle ones are closed now; requests under way may
   * finish within `graceMs`, then their connections are closed. Then the loop stops and a
   * store the server opened is closed. Calling it again with a shorter grace shortens the wait.
   *
   * @example
   * ```ts ignore
   * Deno.addSignalListener("SIGTERM", () => server.shutdown());
   * await server.finished;
   * ```
   *
   * @param graceMs How long requests under way may take to finish.
   * @returns {@linkcode NameNodeServer.finished}.
   */
  shutdown(graceMs: number = this.#graceMs): Promise<void> {
    const abortAt = performance.now() + Math.max(0, graceMs);
    if (!this.#draining) {
      this.#draining = true;
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
      for (const session of this.#sessions) if (session.idle) this.#closeSession(session);
      void this.#finish();
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

  /** Stops at once (grace 0), for `await using server = await NameNodeServer.start(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown(0);
  }

  async #finish(): Promise<void> {
    await this.#acceptLoop;
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    clearTimeout(this.#graceTimer);
    await this.#maintenance.stop();
    if (this.#ownsStore) await this.store.close().catch(() => {});
    this.#log.emit("stopped", { address: this.address });
    this.#resolveFinished();
  }

  async #accept(): Promise<void> {
    while (!this.#draining) {
      let socket: Deno.TcpConn;
      try {
        socket = await this.#listener.accept();
      } catch (error) {
        if (this.#draining || error instanceof Deno.errors.BadResource) break;
        // E.g. out of file descriptors: say so, back off a little, keep serving.
        this.#log.emit("error", { message: `accept failed: ${messageOf(error)}` });
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
      peer: formatNodeAddress(socket.remoteAddr),
      conn: null,
      idle: true,
      closing: false,
    };
    this.#sessions.add(session);
    const task: Promise<void> = this.#serveConnection(session)
      .catch((error) => {
        if (!session.closing) {
          this.#log.emit("error", {
            message: `connection from ${session.peer}: ${messageOf(error)}`,
          });
        }
      })
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
      // Requests and replies are small frames that must not wait for Nagle's algorithm.
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
    try {
      if (!await conn.serverHandshake()) return;
    } catch (error) {
      // serverHandshake answered a bad preamble and closed; a timeout closed it too.
      if (!session.closing) this.#failed(session, null, error);
      return;
    }
    while (!this.#draining && await this.#serveRequest(session, conn));
  }

  /** Serves one request; resolves to whether the connection stays open. */
  async #serveRequest(session: Session, conn: FrameConnection): Promise<boolean> {
    session.idle = true;
    let header;
    try {
      header = await conn.readFrameHeader();
    } catch (error) {
      session.idle = false;
      return await this.#breakConnection(session, conn, null, error);
    }
    session.idle = false;
    if (header === null) return false; // the client closed between requests
    if (header.type === FRAME_TYPE.ERROR) {
      // The client gave up on something: its ERROR is logged, not answered with another.
      const error = await conn.readErrorPayload(header).catch((e) => e);
      return await this.#breakConnection(session, conn, null, error);
    }
    if (header.type !== FRAME_TYPE.REQUEST) {
      const error = new CdfsError(
        "BAD_REQUEST",
        `expected a REQUEST frame, got ${frameTypeName(header.type)}`,
      );
      return await this.#breakConnection(session, conn, null, error);
    }
    // Bounded by the header check (64 KiB).
    const payload = new Uint8Array(header.length);
    try {
      await conn.readPayloadInto(payload);
    } catch (error) {
      return await this.#breakConnection(session, conn, null, error);
    }
    // From here the frame is complete: a refused request is answered and the connection kept,
    // unless a data stream (a full block report) was under way.
    let op: string | null = null;
    let streaming = false;
    try {
      const raw = decodeRequest(payload);
      op = typeof raw.op === "string" ? raw.op.slice(0, 40) : null;
      // A full report's data stream follows its request unasked, even a malformed request: once
      // refused, the connection cannot be followed and is closed.
      streaming = raw.op === "BLOCK_REPORT" && raw.kind === "full";
      const request = parseNameNodeRequest(raw);
      let response: NameNodeResponse;
      if (request.op === "BLOCK_REPORT" && request.kind === "full") {
        response = await this.#fullReport(conn, request);
        streaming = false;
      } else {
        response = await handleRequest(this.#state, request);
      }
      await conn.writeJsonFrame(FRAME_TYPE.RESPONSE, response);
      return true;
    } catch (error) {
      const failure = this.#failed(session, op, error);
      const keepOpen = !streaming && !conn.closed && !failure.fromPeer;
      if (!conn.closed && !failure.fromPeer) {
        await conn.writeError(failure.code, failure.message).catch(() => {});
      }
      if (!keepOpen) await conn.closeGracefully();
      return keepOpen;
    }
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

  /** Ends a connection whose frames can no longer be followed: ERROR if possible, then close. */
  async #breakConnection(
    session: Session,
    conn: FrameConnection,
    op: string | null,
    error: unknown,
  ): Promise<false> {
    if (session.closing) return false; // closed by the shutdown, not the client's fault
    const failure = this.#failed(session, op, error);
    if (!conn.closed && !failure.fromPeer) {
      await conn.writeError(failure.code, failure.message).catch(() => {});
    }
    await conn.closeGracefully();
    return false;
  }

  /** Describes a failure and logs it. */
  #failed(session: Session, op: string | null, error: unknown): Failure {
    const failure = describeFailure(error);
    if (session.closing) failure.message = `aborted by the shutdown (${failure.message})`;
    this.#log.emit(failure.code === "INTERNAL" ? "error" : "request-failed", {
      peer: session.peer,
      op,
      code: failure.code,
      message: failure.fromPeer ? `from the client: ${failure.message}` : failure.message,
      ...(failure.stack === undefined ? {} : { stack: failure.stack }),
    });
    return failure;
  }

  #closeSession(session: Session): void {
    if (session.closing) return;
    session.closing = true;
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
}

interface Failure {
  code: ErrorCode;
  message: string;
  fromPeer: boolean;
  stack?: string;
}

/** A thrown value as an ERROR frame's code and message (a bug is INTERNAL, its stack logged). */
function describeFailure(error: unknown): Failure {
  if (error instanceof CdfsError) {
    return { code: error.code, message: error.message, fromPeer: error instanceof PeerError };
  }
  const name = error instanceof Error ? error.name : typeof error;
  const failure: Failure = {
    code: "INTERNAL",
    message: `internal error: ${name}: ${messageOf(error).split("\n")[0]!.slice(0, 200)}`,
    fromPeer: false,
  };
  if (error instanceof Error && error.stack) failure.stack = error.stack;
  return failure;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Parses a REQUEST payload into a JSON object (field validation is the next step).
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
