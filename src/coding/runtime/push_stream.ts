/**
 * {@linkcode CodingPushStream}: the sending side of a push-mode CODING request
 * (docs/protocol.md, CODING, push mode). A node of a push chain opens one to the node of the
 * next program and sends its output there: the REQUEST, then DATA frames (with `{"progress"}`
 * keepalives while it waits for its own inputs), then END; meanwhile it reads the next node's
 * replies (start, progress, prepared) in the background, and finally commits.
 *
 * @module
 */
import type { FrameConnection } from "../../protocol/connection.ts";
import type { EndTrailer } from "../../protocol/frame.ts";
import { FRAME_TYPE } from "../../protocol/frame.ts";
import type { CodingRequest } from "../../protocol/requests.ts";
import { parseResponse } from "../../protocol/response_validation.ts";
import type {
  CodingCommittedResponse,
  CodingResponse,
  CodingStartResponse,
  CommittedBlock,
} from "../../protocol/responses.ts";
import { PeerError } from "../../protocol/peer_error.ts";
import { ProgressWriter } from "../../protocol/progress_writer.ts";
import { CdfsError } from "../../core/errors.ts";

/**
 * A push-mode CODING request in progress (see `openCodingPush` in `coding_stream.ts`).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const push = await openCodingPush(client, request, (done) => console.log(done));
 * for (const chunk of chunks) await push.send(chunk);
 * await push.end({ length, digest });
 * await push.prepared();
 * const committed = await push.commit();
 * ```
 */
export interface CodingPushStream {
  /** The next node's start reply (read in the background from the start). */
  response(): Promise<CodingStartResponse>;
  /** Sends one DATA frame (after any frame in flight); resolves to its checksum. */
  send(bytes: Uint8Array): Promise<bigint>;
  /** Sends the END frame; no keepalive follows it. */
  end(trailer: EndTrailer): Promise<void>;
  /** Waits for the next node's prepared reply (its progress replies go to `onProgress`). */
  prepared(): Promise<void>;
  /** Sends the commit and returns the blocks the rest of the chain made visible. */
  commit(): Promise<CommittedBlock[]>;
  /** Abandons the run: an ERROR with `reason` when possible, then the connection closes. */
  abort(reason?: unknown): void;
}

/**
 * What a {@linkcode ClientCodingPush} asks of its client.
 *
 * @example
 * ```ts
 * import type { CodingExchangeHost } from "./push_stream.ts";
 * const host: CodingExchangeHost = { error: (e) => e, done: () => {}, detach: () => {} };
 * ```
 */
export interface CodingExchangeHost {
  /** Names an error (the client's node, unless it names a node of the run already). */
  error(error: unknown): unknown;
  /** The exchange completed: the connection is free for the next request. */
  done(): void;
  /** The exchange broke off: the client must not use the connection again (it is closed). */
  detach(): void;
}

/**
 * Reads the next reply of a CODING exchange (a RESPONSE; an ERROR is thrown as the peer's).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { readCodingReply } from "./push_stream.ts";
 * const reply = await readCodingReply(conn);
 * if ("prepared" in reply) console.log("prepared");
 * ```
 *
 * @param conn The connection.
 * @returns The reply, validated.
 * @throws {CdfsError} `UNAVAILABLE` when the node closed the connection; its ERROR.
 */
export async function readCodingReply(conn: FrameConnection): Promise<CodingResponse> {
  const body = await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
  if (body === null) {
    throw new CdfsError("UNAVAILABLE", "the node closed the connection during the CODING run");
  }
  return parseResponse("CODING", body);
}

/**
 * Reads the reply to a COMMIT: the `{"committed": [...]}` reply (or the ERROR, thrown), after
 * the `{"progress"}` keepalives the node sends while it commits and waits for the commits of
 * the programs it pulled or pushed to.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { readCommitReply } from "./push_stream.ts";
 * await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "COMMIT", run });
 * const reply = await readCommitReply(conn);
 * ```
 *
 * @param conn The connection, right after the COMMIT was sent.
 * @returns The first reply that is not a keepalive.
 * @throws {CdfsError} As {@linkcode readCodingReply}.
 */
export async function readCommitReply(conn: FrameConnection): Promise<CodingResponse> {
  let reply = await readCodingReply(conn);
  while ("progress" in reply) reply = await readCodingReply(conn);
  return reply;
}

/** How long an aborting side tries to tell the other why before closing. */
export const ABORT_LINGER_MS = 200;

/**
 * How long a failed send waits for the next node's own error, which says more than a broken
 * connection does.
 */
const PEER_ERROR_WAIT_MS = 500;

/**
 * The push-mode exchange of one connection (see {@linkcode CodingPushStream}).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const push = new ClientCodingPush(conn, request, host, (done) => {});
 * ```
 */
export class ClientCodingPush implements CodingPushStream {
  readonly #conn: FrameConnection;
  readonly #request: CodingRequest;
  readonly #host: CodingExchangeHost;
  readonly #writer: ProgressWriter;
  readonly #start: Promise<CodingStartResponse>;
  readonly #prepared: Promise<void>;
  #resolveStart!: (start: CodingStartResponse) => void;
  /** A failure before the start reply (after it, this does nothing). */
  #rejectStart!: (error: unknown) => void;
  #ended = false;
  #finished = false;
  #failure: unknown = undefined;

  /**
   * Starts the exchange on a connection whose REQUEST was just written.
   *
   * @param conn The connection.
   * @param request The request sent.
   * @param host The client's hooks.
   * @param onProgress Told the progress the next node reports (bytes through the chain's end).
   */
  constructor(
    conn: FrameConnection,
    request: CodingRequest,
    host: CodingExchangeHost,
    onProgress?: (done: number) => void,
  ) {
    this.#conn = conn;
    this.#request = request;
    this.#host = host;
    this.#writer = new ProgressWriter(conn, { reportProgress: false });
    this.#writer.start();
    this.#start = new Promise((resolve, reject) => {
      this.#resolveStart = resolve;
      this.#rejectStart = reject;
    });
    this.#start.catch(() => {});
    this.#prepared = this.#readReplies(onProgress);
    this.#prepared.catch(() => {});
  }

  response(): Promise<CodingStartResponse> {
    return this.#start;
  }

  async send(bytes: Uint8Array): Promise<bigint> {
    try {
      return await this.#writer.write(() => this.#conn.writeDataFrame(bytes));
    } catch (e) {
      throw await this.#failed(e);
    }
  }

  async end(trailer: EndTrailer): Promise<void> {
    try {
      await this.#writer.write(() => this.#conn.writeEnd(trailer));
      this.#ended = true;
      // The next frame of this side is the commit (a REQUEST): no keepalive may come between.
      this.#writer.stop();
    } catch (e) {
      throw await this.#failed(e);
    }
  }

  async prepared(): Promise<void> {
    if (!this.#ended) {
      throw this.#fail(new CdfsError("INTERNAL", "prepared() before the end of the stream"));
    }
    await this.#prepared;
  }

  async commit(): Promise<CommittedBlock[]> {
    try {
      await this.#prepared;
      await this.#conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "COMMIT", run: this.#request.run });
      const reply = await readCommitReply(this.#conn);
      if (!("committed" in reply)) {
        throw new CdfsError("BAD_REQUEST", `unexpected CODING reply ${JSON.stringify(reply)}`);
      }
      this.#finished = true;
      this.#host.done();
      return (reply as CodingCommittedResponse).committed;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  abort(reason?: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#writer.stop();
    const conn = this.#conn;
    this.#host.detach();
    if (conn.closed) return;
    // Best effort, and without waiting: the close is what makes the next node abort.
    const message = reason instanceof Error ? reason.message : String(reason ?? "aborted");
    const timer = setTimeout(() => conn.close(), ABORT_LINGER_MS);
    this.#writer.write(() => conn.writeError("UNAVAILABLE", `the run was aborted: ${message}`))
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        conn.close();
      });
  }

  /** Reads the start reply, progress replies and the prepared reply. */
  async #readReplies(onProgress?: (done: number) => void): Promise<void> {
    try {
      let start = await this.#readReply();
      // Keepalives of a node still setting up (connecting to the next node of the chain).
      while ("progress" in start) start = await this.#readReply();
      if (!("program" in start) || start.program !== this.#request.program) {
        throw new CdfsError(
          "BAD_REQUEST",
          `expected the start reply of program '${this.#request.program}', got ${
            JSON.stringify(start)
          }`,
        );
      }
      this.#resolveStart(start);
      while (true) {
        const reply = await this.#readReply();
        if ("prepared" in reply) return;
        if (!("progress" in reply)) {
          throw new CdfsError("BAD_REQUEST", `unexpected CODING reply ${JSON.stringify(reply)}`);
        }
        onProgress?.(reply.progress);
      }
    } catch (e) {
      this.#failure ??= e;
      const error = this.#fail(e);
      this.#rejectStart(error);
      throw error;
    }
  }

  #readReply(): Promise<CodingResponse> {
    return readCodingReply(this.#conn);
  }

  /**
   * The error to throw for a failed write: the next node's own (an ERROR frame the reader
   * finds within a moment) rather than the broken connection it caused.
   */
  async #failed(error: unknown): Promise<unknown> {
    if (this.#failure === undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#prepared.catch(() => {}),
        new Promise((resolve) => timer = setTimeout(resolve, PEER_ERROR_WAIT_MS)),
      ]);
      clearTimeout(timer);
    }
    const cause = this.#failure instanceof PeerError ? this.#failure : error;
    return this.#fail(cause);
  }

  /** Ends the exchange after an error and returns the error to throw. */
  #fail(error: unknown): unknown {
    if (!this.#finished) {
      this.#finished = true;
      this.#writer.stop();
      this.#host.detach();
      this.#conn.close();
    }
    return this.#host.error(error);
  }
}
