/**
 * The server side of wire format v1, shared by the datanode and the namenode: one TCP
 * listener, one task per connection, any number of requests per connection (one at a time, as
 * the protocol says), errors answered with ERROR frames, idle and frame timeouts, and a
 * graceful shutdown. A server built on it keeps only its ops and its own state: it hands a
 * {@linkcode FrameServerHandler} that serves one complete REQUEST and hears of every outcome.
 *
 * Each connection task does the preamble exchange, then loops: wait for a REQUEST frame
 * (bounded by the idle timeout), read its payload whole, parse it as a JSON object and hand it
 * to the handler, and answer any failure with an ERROR frame. Whether the connection survives
 * an error follows docs/protocol.md §4: errors answering a complete request that carries no
 * data leave it usable; errors during a data stream (the handler says so with
 * {@linkcode RequestState.streaming}), a frame left half written, and broken frames close it,
 * after a lingering close so the ERROR is not lost to a TCP reset.
 *
 * Pressure: at most `maxConnections` connections are served at once; one more is accepted all
 * the same, told `BUSY` in an ERROR frame and closed (never left in the listen backlog), unless
 * a connection that has sent nothing yet gives up its slot to it (the one that has waited
 * longest is told `BUSY` instead): silent connections cannot lock out real clients. A
 * minimum data rate cuts off peers that trickle a frame, and a connection that times out is
 * told `TIMEOUT` in an ERROR frame before it is closed. Accept failures and refusals are
 * reported at most once per {@linkcode PRESSURE_REPORT_INTERVAL_MS}, with the count of those
 * not reported.
 *
 * Shutdown: stop accepting, close connections that are between requests, let requests under
 * way finish within a grace period, then abort them (their signal, then their sockets).
 *
 * @module
 */
import { formatNodeAddress } from "../core/address.ts";
import { sharedChecksummer } from "../checksum/checksum.ts";
import { CdfsError } from "../core/errors.ts";
import { releaseMemory, StormMemoryRelease } from "../core/memory_release.ts";
import { FrameConnection, type FrameConnectionOptions } from "./connection.ts";
import { encodeErrorFrame } from "./error_body.ts";
import { describeFailure, type Failure } from "./failure.ts";
import { authorize, readRequestFrame, type RequestVerifier } from "./auth.ts";
import { decodeJsonObject } from "./json_payload.ts";
import type {
  FrameServerHandler,
  FrameTraffic,
  RequestState,
  ServerConnection,
} from "./frame_server_handler.ts";
import { DEFAULT_FRAME_TIMEOUT_MS, type MinDataRate, TimedSocket } from "./timed_socket.ts";
import { type NodeListener, serverTlsHandshake } from "./tls.ts";

/** An accepted connection: plain TCP, or TLS over TCP. */
type NodeConn = Deno.TcpConn | Deno.TlsConn;

/**
 * The least time between two reports of accept failures, or of refused connections, 10 s.
 */
export const PRESSURE_REPORT_INTERVAL_MS = 10_000;

/**
 * How many refused connections may be closing at once (each holds a descriptor while it is
 * told BUSY); past that, accepting waits for one of them to finish.
 */
const MAX_REFUSING = 64;

/** How long a refused connection is drained after its BUSY frame, so no reset destroys it. */
const REFUSE_LINGER_MS = 250;

/**
 * Options of a {@linkcode FrameServer}.
 *
 * @example
 * ```ts
 * import type { FrameServerOptions } from "./frame_server.ts";
 * const options: Partial<FrameServerOptions> = { idleTimeoutMs: 60_000, shutdownGraceMs: 10_000 };
 * ```
 */
export interface FrameServerOptions {
  /** The listener to serve on (closed when the server stops); TLS for a TLS server. */
  readonly listener: NodeListener;
  /** How long a connection may wait for its next frame (default 60 s). */
  readonly idleTimeoutMs?: number | undefined;
  /** How long a started frame may take to arrive or to be written (default 30 s). */
  readonly frameTimeoutMs?: number | undefined;
  /** Default grace period of {@linkcode FrameServer.shutdown}. */
  readonly shutdownGraceMs: number;
  /** The shutdown, as failures of aborted requests name it (default `the shutdown`). */
  readonly shutdownName?: string;
  /**
   * Requests must be signed (`auth.ts`): the verifier of their AUTH frames, and the ops a
   * read-only credential may use (others are `FORBIDDEN`). Without it any request is served.
   */
  readonly auth?: { verifier: RequestVerifier; readOnlyOps: ReadonlySet<string> } | undefined;
  /** The most connections served at once (default: no cap); more are refused with BUSY. */
  readonly maxConnections?: number | undefined;
  /** The slowest a started frame may arrive (default: only the frame timeout bounds it). */
  readonly minRate?: MinDataRate | undefined;
  /** Gives memory back once a storm is over (default `releaseMemory()`; null: never). */
  readonly releaseMemory?: (() => void) | null | undefined;
}

/** One client connection and what shutdown needs to know about it. */
class Session implements ServerConnection {
  readonly peer: string;
  conn: FrameConnection | null = null;
  /** Waiting for the handshake or the next request: may be closed at once on shutdown. */
  idle = true;
  closing = false;
  /** Its slot was taken back for a newcomer before it sent its preamble (told BUSY). */
  evicted = false;
  readonly abort = new AbortController();
  #readMark = 0;
  #writtenMark = 0;

  constructor(readonly socket: NodeConn) {
    this.peer = formatNodeAddress(socket.remoteAddr);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  takeTraffic(): FrameTraffic | null {
    const conn = this.conn;
    if (conn === null) return null;
    const traffic = {
      bytesIn: conn.bytesRead - this.#readMark,
      bytesOut: conn.bytesWritten - this.#writtenMark,
    };
    this.#readMark = conn.bytesRead;
    this.#writtenMark = conn.bytesWritten;
    return traffic;
  }
}

/**
 * A running server of wire format v1 on one listener; a datanode or namenode holds one and
 * gives it a {@linkcode FrameServerHandler}.
 *
 * @example
 * ```ts
 * import { FRAME_TYPE } from "./frame.ts";
 * import { FrameServer } from "./frame_server.ts";
 * import { listenTcp } from "./listen.ts";
 * const server = new FrameServer({ listener: listenTcp({ port: 0 }, 0), shutdownGraceMs: 0 }, {
 *   request: (_connection, conn) => ({ conn, streaming: false, frameOpen: false }),
 *   serve: (request, raw) => request.conn.writeJsonFrame(FRAME_TYPE.RESPONSE, raw),
 *   outcome: () => {},
 *   acceptFailed: () => {},
 *   connectionFailed: () => {},
 * });
 * await server.shutdown();
 * ```
 */
export class FrameServer<R extends RequestState> {
  /** Settles once the server has stopped: listener closed, every connection ended. */
  readonly finished: Promise<void>;

  readonly #listener: NodeListener;
  readonly #handler: FrameServerHandler<R>;
  readonly #connectionOptions: FrameConnectionOptions;
  readonly #readOnlyOps: ReadonlySet<string> | null;
  readonly #graceMs: number;
  readonly #frameTimeoutMs: number;
  readonly #shutdownName: string;
  readonly #sessions = new Set<Session>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #acceptLoop: Promise<void>;
  #draining = false;
  #stopped = false;
  #abortAt = Infinity;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #resolveFinished!: () => void;
  readonly #maxConnections: number;
  /** Memory given back after a storm of connections, or null. */
  readonly #afterStorms: StormMemoryRelease | null;
  readonly #refusing = new Set<Promise<void>>();
  /** Sessions waiting for their client's preamble, the longest-waiting first. */
  readonly #awaitingPreamble = new Set<Session>();
  /** Evicted sessions still closing: they no longer count against the cap. */
  #evicting = 0;
  #refused = 0;
  /** When accept failures and refusals were last reported, and how many were not since. */
  readonly #reports = {
    accept: { at: -Infinity, quiet: 0 },
    refused: { at: -Infinity, quiet: 0 },
  };

  /**
   * Starts accepting connections on `options.listener`.
   *
   * @param options The listener, timeouts and default grace period.
   * @param handler The server's ops and log.
   */
  constructor(options: FrameServerOptions, handler: FrameServerHandler<R>) {
    this.#listener = options.listener;
    this.#handler = handler;
    this.#connectionOptions = {
      sendTimeoutError: true,
      ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
      verifier: options.auth?.verifier ?? null,
      ...(options.minRate === undefined ? {} : { minRate: options.minRate }),
    };
    this.#readOnlyOps = options.auth?.readOnlyOps ?? null;
    const max = options.maxConnections ?? Infinity;
    if (max !== Infinity && (!Number.isSafeInteger(max) || max < 1)) {
      throw new RangeError(`maxConnections must be a positive integer, got ${max}`);
    }
    this.#maxConnections = max;
    const release = options.releaseMemory === undefined ? releaseMemory() : options.releaseMemory;
    this.#afterStorms = release === null ? null : new StormMemoryRelease({ release });
    this.#graceMs = options.shutdownGraceMs;
    this.#frameTimeoutMs = options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS;
    this.#shutdownName = options.shutdownName ?? "the shutdown";
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    this.#acceptLoop = this.#accept();
  }

  /** The address the listener is bound to (with the real port when 0 was asked for). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** The number of open client connections. */
  get connections(): number {
    return this.#sessions.size;
  }

  /** The most connections served at once (`Infinity`: no cap). */
  get maxConnections(): number {
    return this.#maxConnections;
  }

  /** The connections refused with BUSY (over the cap) since the server started. */
  get refused(): number {
    return this.#refused;
  }

  /** The number of connections with a request under way. */
  get busy(): number {
    return [...this.#sessions].filter((s) => !s.idle).length;
  }

  /** The default grace period of {@linkcode FrameServer.shutdown}, ms. */
  get graceMs(): number {
    return this.#graceMs;
  }

  /** Whether {@linkcode FrameServer.shutdown} was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Whether the server has stopped (every connection ended). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Stops the server: no new connections; connections between requests are closed now;
   * requests under way may finish within `graceMs`, after which their signal is aborted and
   * their connections closed. Calling it again with a shorter grace period shortens the wait
   * (`0`: abort now).
   *
   * @example
   * Not run by `deno test --doc`: it serves until the process is stopped.
   * ```ts ignore
   * Deno.addSignalListener("SIGTERM", () => server.shutdown());
   * await server.finished;
   * ```
   *
   * @param graceMs How long requests under way may take to finish.
   * @returns {@linkcode FrameServer.finished}.
   */
  shutdown(graceMs: number = this.#graceMs): Promise<void> {
    if (this.#stopped) return this.finished;
    const abortAt = performance.now() + Math.max(0, graceMs);
    if (!this.#draining) {
      this.#draining = true;
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
      for (const session of this.#sessions) {
        if (session.idle) this.#closeSession(session);
      }
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

  async #finish(): Promise<void> {
    try {
      await this.#acceptLoop;
      await Promise.allSettled([...this.#refusing]);
      while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
      clearTimeout(this.#graceTimer);
      this.#stopped = true;
      await this.#handler.stopped?.();
    } finally {
      this.#resolveFinished();
    }
  }

  async #accept(): Promise<void> {
    while (!this.#draining) {
      let socket: NodeConn;
      try {
        socket = await this.#listener.accept();
      } catch (error) {
        if (this.#draining || error instanceof Deno.errors.BadResource) break;
        // E.g. out of file descriptors: say so (not ten times a second), back off, go on.
        const quiet = this.#shouldReport("accept");
        if (quiet !== null) this.#handler.acceptFailed(error, quiet);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.#draining) {
        socket.close();
        break;
      }
      if (this.#sessions.size - this.#evicting >= this.#maxConnections && !this.#evictOne()) {
        this.#refuse(socket);
        // Each refusal holds a descriptor for a moment: a storm is refused at that pace.
        if (this.#refusing.size >= MAX_REFUSING) await Promise.race(this.#refusing);
        continue;
      }
      this.#startSession(socket);
    }
  }

  /** Null when a report of this kind was made lately (it is counted), else the count skipped. */
  #shouldReport(kind: "accept" | "refused"): number | null {
    const report = this.#reports[kind];
    const now = performance.now();
    if (now - report.at < PRESSURE_REPORT_INTERVAL_MS) {
      report.quiet++;
      return null;
    }
    const quiet = report.quiet;
    report.at = now;
    report.quiet = 0;
    return quiet;
  }

  /**
   * Tells a connection over the cap BUSY and closes it: the ERROR frame goes out at once (a
   * client reads it where it expects the preamble), then a short lingering close.
   */
  #refuse(socket: NodeConn): void {
    let peer = "?";
    try {
      peer = formatNodeAddress(socket.remoteAddr);
    } catch {
      // Not needed to refuse it.
    }
    this.#countRefusal(peer);
    const refusal: Promise<void> = this.#sayBusy(socket).finally(() => {
      this.#refusing.delete(refusal);
      this.#afterStorms?.ended(this.#sessions.size);
    });
    this.#refusing.add(refusal);
  }

  /** Counts a connection turned away at the cap, and reports it unless one was lately. */
  #countRefusal(peer: string): void {
    this.#refused++;
    const quiet = this.#shouldReport("refused");
    if (quiet !== null) this.#handler.refused?.(peer, this.#maxConnections, quiet);
  }

  /**
   * At the cap, takes back the slot of the connection that has waited longest for its
   * client's preamble, for a newcomer: a real client sends its preamble as soon as it
   * connects, so connections that say nothing (a storm of them) cannot lock the node's real
   * clients and peers out. The one evicted is told BUSY (the client retries). Connections past
   * their preamble keep their slots: when all are, the newcomer is refused instead.
   *
   * @returns Whether a slot was freed.
   */
  #evictOne(): boolean {
    for (const session of this.#awaitingPreamble) {
      this.#awaitingPreamble.delete(session);
      const busy = new CdfsError("BUSY", this.#busyMessage());
      const conn = session.conn;
      if (session.closing || conn === null || !conn.silent || !conn.cutShort(busy)) continue;
      session.evicted = true;
      this.#evicting++;
      this.#countRefusal(session.peer);
      return true;
    }
    return false;
  }

  #busyMessage(): string {
    return `the node serves its limit of ${this.#maxConnections} connections; retry later`;
  }

  async #sayBusy(socket: NodeConn): Promise<void> {
    const timed = new TimedSocket(socket, { frameTimeoutMs: REFUSE_LINGER_MS });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const checksummer = await sharedChecksummer();
      const frame = encodeErrorFrame(
        "BUSY",
        this.#busyMessage(),
        (payload) => checksummer.checksum(payload),
      );
      const write = async () => {
        let written = 0;
        while (written < frame.length) written += await socket.write(frame.subarray(written));
      };
      const late = new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("the peer does not read")), REFUSE_LINGER_MS)
      );
      await Promise.race([write(), late]);
      await timed.closeGracefully(REFUSE_LINGER_MS);
    } catch {
      // The peer left already, or does not read: nothing more to tell it.
    } finally {
      clearTimeout(timer);
      timed.close();
    }
  }

  #startSession(socket: NodeConn): void {
    const session = new Session(socket);
    this.#sessions.add(session);
    this.#afterStorms?.opened(this.#sessions.size);
    const task: Promise<void> = this.#serveConnection(session)
      .catch((error) => this.#handler.connectionFailed(session, error))
      .finally(() => {
        session.conn?.close();
        try {
          socket.close();
        } catch {
          // Closed already, by the FrameConnection.
        }
        this.#sessions.delete(session);
        this.#afterStorms?.ended(this.#sessions.size);
        this.#awaitingPreamble.delete(session);
        if (session.evicted) this.#evicting--;
        this.#tasks.delete(task);
      });
    this.#tasks.add(task);
  }

  async #serveConnection(session: Session): Promise<void> {
    try {
      // Requests and replies are small frames that must not wait for Nagle's algorithm.
      if ("setNoDelay" in session.socket) session.socket.setNoDelay(true);
    } catch {
      // Not fatal: only latency suffers.
    }
    const started = performance.now();
    try {
      // A TLS connection's handshake first, within the frame timeout (`tls.ts`).
      await serverTlsHandshake(session.socket, this.#frameTimeoutMs);
    } catch (error) {
      if (!session.closing) {
        this.#outcome(session, null, null, this.#failureOf(session, error), started);
      }
      return;
    }
    const conn = await FrameConnection.create(session.socket, this.#connectionOptions);
    session.conn = conn;
    if (session.closing) return;
    // Until its preamble is in, the connection's slot may go to a newcomer (#evictOne).
    this.#awaitingPreamble.add(session);
    try {
      if (!await conn.serverHandshake()) return;
    } catch (error) {
      // serverHandshake has answered a bad preamble and closed; a timeout closed it too; an
      // evicted one was counted as refused.
      if (!session.closing && !session.evicted) {
        this.#outcome(session, null, null, this.#failureOf(session, error), started);
      }
      return;
    } finally {
      this.#awaitingPreamble.delete(session);
    }
    while (!this.#draining && await this.#serveRequest(session, conn));
  }

  /** Serves one request; resolves to whether the connection stays open. */
  async #serveRequest(session: Session, conn: FrameConnection): Promise<boolean> {
    session.idle = true;
    session.takeTraffic();
    let started = performance.now();
    let header;
    try {
      header = await conn.readFrameHeader();
    } catch (error) {
      session.idle = false;
      return await this.#breakConnection(session, conn, error, started);
    }
    session.idle = false;
    if (header === null) return false; // the client closed between requests
    started = performance.now();
    // An AUTH frame, then the REQUEST: checked before the payload is read (`auth.ts`). An
    // ERROR from the client (it gave up on something) is logged, not answered with another.
    let signed;
    try {
      signed = await readRequestFrame(conn, header, conn.verifier);
    } catch (error) {
      return await this.#breakConnection(session, conn, error, started);
    }
    const { payload, access } = signed;
    // From here the frame is complete: a refused request is answered and the connection
    // kept, unless the handler says a data stream is under way or a frame is half written.
    const request = this.#handler.request(session, conn, started);
    let op: string | null = null;
    try {
      const raw = decodeJsonObject(payload, "REQUEST");
      op = typeof raw.op === "string" ? raw.op.slice(0, 40) : null;
      if (this.#readOnlyOps !== null) authorize(access, op ?? "", this.#readOnlyOps);
      await this.#handler.serve(request, raw, payload.length);
    } catch (error) {
      const failure = this.#failureOf(session, error);
      // A FORBIDDEN request may have sent its data stream already: close.
      const keepOpen = !request.streaming && !request.frameOpen && !conn.closed &&
        !failure.fromPeer && failure.code !== "FORBIDDEN";
      if (!conn.closed && !request.frameOpen && !failure.fromPeer) {
        await conn.writeError(failure.code, failure.message).catch(() => {});
      }
      this.#outcome(session, request, op, failure, started);
      if (!keepOpen) await conn.closeGracefully();
      this.#handler.finished?.(request, true);
      return keepOpen;
    }
    this.#outcome(session, request, op, null, started);
    this.#handler.finished?.(request, false);
    return true;
  }

  /**
   * Ends a connection whose frames can no longer be followed (a bad or truncated frame, a
   * timeout, a lost socket, an ERROR from the client): answers ERROR if the socket still takes
   * it, then closes.
   */
  async #breakConnection(
    session: Session,
    conn: FrameConnection,
    error: unknown,
    started: number,
  ): Promise<false> {
    if (session.closing) return false; // closed by the server's shutdown, not the client's fault
    const failure = this.#failureOf(session, error);
    if (!conn.closed && !failure.fromPeer) {
      await conn.writeError(failure.code, failure.message).catch(() => {});
    }
    this.#outcome(session, null, null, failure, started);
    await conn.closeGracefully();
    return false;
  }

  #outcome(
    connection: Session,
    request: R | null,
    op: string | null,
    failure: Failure | null,
    started: number,
  ): void {
    try {
      this.#handler.outcome({ connection, request, op, failure, started });
    } catch {
      // A broken log must not break serving.
    }
  }

  #failureOf(session: Session, error: unknown): Failure {
    const failure = describeFailure(error);
    if (session.closing) {
      failure.message = `aborted by ${this.#shutdownName} (${failure.message})`;
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
}
