/**
 * The CODING operation seen from the client (docs/protocol.md): {@linkcode runCoding} runs a
 * program of a coding module on a node and commits it, {@linkcode openCoding} reads a stream
 * program's output frame by frame into memory of the caller's choosing (a datanode pulling an
 * upstream program), and {@linkcode openCodingPush} sends a program its input stream (push
 * mode). Each goes out on a {@linkcode DataNodeClient}'s connection
 * ({@linkcode DataNodeClient.openExchange}), which serves nothing else until the run is
 * committed or aborted.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";
import { formatNodeAddress, parseNodeAddress } from "../../core/address.ts";
import type { FrameConnection } from "../../protocol/connection.ts";
import { FRAME_TYPE } from "../../protocol/frame.ts";
import { PeerError } from "../../protocol/peer_error.ts";
import { parseRequest } from "../../protocol/request_validation.ts";
import type { CodingRequest } from "../../protocol/requests.ts";
import { parseResponse } from "../../protocol/response_validation.ts";
import type {
  CodingCommittedResponse,
  CodingResponse,
  CodingStartResponse,
  CommittedBlock,
} from "../../protocol/responses.ts";
import { bufferPoolFor } from "../../client/buffer_pools.ts";
import type { DataNodeClient } from "../../client/datanode_client.ts";
import { isLostReply, nameNodeError } from "../../client/node_connection.ts";
import { PullStream } from "../../client/pull_stream.ts";
import {
  ABORT_LINGER_MS,
  ClientCodingPush,
  type CodingExchangeHost,
  type CodingPushStream,
  readCodingReply,
  readCommitReply,
} from "./push_stream.ts";

/**
 * What {@linkcode runCoding} reports while a program runs. Every handler is
 * optional; a handler that throws aborts the run (nothing it was writing becomes visible).
 *
 * @example
 * ```ts
 * import type { CodingHandlers } from "./coding_stream.ts";
 * let received = 0;
 * const handlers: CodingHandlers = {
 *   onResponse: (r) => console.log(`${r.program}: ${r.length} bytes`),
 *   onData: (bytes, length) => void (received += length),
 * };
 * ```
 */
export interface CodingHandlers {
  /** The node's first reply: the program, its stream length L, and whether it streams. */
  onResponse?: (response: CodingStartResponse) => void;
  /**
   * Each chunk a stream program sends, in order: `bytes` (exactly `length` bytes, a view on
   * pooled memory) is valid until the returned promise settles. Without it the chunks are
   * received, verified and dropped.
   */
  onData?: (bytes: Uint8Array, length: number) => void | Promise<void>;
  /**
   * A local program's progress: bytes of its stream done so far (the node reports at most
   * about ten times a second). Not called for stream programs: count `onData` instead.
   */
  onProgress?: (bytesDone: number) => void;
  /**
   * Called when the program and every program it pulled have finished and their blocks are
   * written but not yet visible; the commit is sent when it resolves, and the run is aborted
   * when it throws. Lets a client commit several programs of one run together (e.g. wait
   * until all are prepared). Default: commit at once.
   */
  onPrepared?: () => void | Promise<void>;
}

/**
 * What a CODING run did.
 *
 * @example
 * ```ts
 * import type { CodingResult } from "./coding_stream.ts";
 * const r: CodingResult = { program: "enc_node15", length: 0, stream: false, committed: [] };
 * ```
 */
export interface CodingResult {
  /** The program run. */
  program: string;
  /** Its stream length L. */
  length: number;
  /** Whether it was a stream program. */
  stream: boolean;
  /** The blocks it and the programs it pulled made visible, with their digests. */
  committed: CommittedBlock[];
}

/**
 * A CODING request in pull mode (see {@linkcode openCoding}): the stream of a
 * stream program read frame by frame, then the commit exchange.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const run = await openCoding(client, request);
 * const { length } = await run.response();
 * for (let n = await run.next(); n !== null; n = await run.next()) {
 *   await run.read(buffer.subarray(0, n));
 * }
 * await run.prepared();
 * const committed = await run.commit();
 * ```
 */
export interface CodingStream {
  /** The node's start reply (read once, in the background from the start). */
  response(): Promise<CodingStartResponse>;
  /** A stream program's next DATA frame length, or null after its END (verified). */
  next(): Promise<number | null>;
  /** Reads the pending frame's payload into `view` (exactly its length) and verifies it. */
  read(view: Uint8Array): Promise<void>;
  /**
   * Waits for the node's prepared reply (after a stream program's END, or after a local
   * program's progress replies, which go to `onProgress`).
   */
  prepared(onProgress?: (bytesDone: number) => void): Promise<void>;
  /** Sends the commit and returns the blocks made visible; the connection is free again. */
  commit(): Promise<CommittedBlock[]>;
  /**
   * Abandons the run: sends an ERROR with `reason` when possible and closes the connection,
   * so the node aborts (nothing of the run becomes visible there). Idempotent.
   */
  abort(reason?: unknown): void;
}

/**
 * Runs a program of a coding module on the node (the CODING operation, docs/protocol.md):
 * the node pulls what the program needs from the other nodes of `request.nodes`, writes its
 * blocks and, for a stream program, streams its output here (`onData`). When the program
 * and everything it pulled has finished, the client commits (after `onPrepared`, if given)
 * and the blocks become visible; any failure before that leaves nothing visible anywhere. A
 * commit whose reply is lost (the connection closed or broke) is asked for again with the same
 * run id, once, for a program that does not stream back: the node reports its first commit.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * using client = await DataNodeClient.connect(nodes[15]!);
 * const result = await runCoding(client, {
 *   op: "CODING",
 *   module: "rapidraid",
 *   program: "enc_node15",
 *   object: "file1",
 *   run: "0123456789abcdef0123456789abcdef",
 *   nodes,
 *   chunkSize: 1 << 20,
 * }, { onProgress: (done) => console.log(done) });
 * console.log(result.committed.map((b) => b.block));
 * ```
 *
 * @param client The client of the node to run the program on.
 * @param request The CODING request (validated here first).
 * @param handlers Start reply, stream data, progress, the commit hook.
 * @returns The program's length and the committed blocks.
 * @throws {CdfsError} The first failure: an error of a node of the run names it (`node 7
 * (127.0.0.1:13107): ...`); so does a failure of this client's own connection (its node
 * stalled: `TIMEOUT`, or went away), by the node's index in `request.nodes` when the list
 * holds its address once, else by address alone; a handler's own error is thrown as it is.
 */
export async function runCoding(
  client: DataNodeClient,
  request: CodingRequest,
  handlers: CodingHandlers = {},
): Promise<CodingResult> {
  try {
    return await runAndCommit(client, request, handlers);
  } catch (e) {
    throw runNodeError(client.address, e, request.nodes);
  }
}

async function runAndCommit(
  client: DataNodeClient,
  request: CodingRequest,
  handlers: CodingHandlers,
): Promise<CodingResult> {
  const run = await openCoding(client, request);
  let start: CodingStartResponse;
  try {
    start = await run.response();
    handlers.onResponse?.(start);
    if (start.stream) {
      const { onData } = handlers;
      await pullAll(
        run,
        request.chunkSize,
        onData && (async (bytes, n) => await onData(bytes, n)),
      );
    }
    await run.prepared(handlers.onProgress);
    await handlers.onPrepared?.();
  } catch (e) {
    run.abort(e);
    throw e;
  }
  let committed: CommittedBlock[];
  try {
    committed = await run.commit();
  } catch (e) {
    run.abort(e);
    // A stream sent back or a pushed stream cannot be asked for again (the node answers
    // EXISTS): only a program that writes its blocks where it runs is.
    if (!isLostReply(e) || start.stream || request.push !== undefined) throw e;
    committed = await commitAgain(client, request);
  }
  return { program: start.program, length: start.length, stream: start.stream, committed };
}

/**
 * The COMMIT of a program went out, or may have, and no reply came: asks for the same program
 * of the same run again, on a new connection. A node that committed it answers from its memory
 * of the run with the blocks of the first commit, computing and writing nothing (docs/protocol.md,
 * "the same run again"); a node that did not (the COMMIT was lost on the way, so it aborted)
 * runs it again, and the commit makes its blocks visible as the first one would have.
 */
async function commitAgain(
  client: DataNodeClient,
  request: CodingRequest,
): Promise<CommittedBlock[]> {
  const again = await openCoding(client, request);
  try {
    const start = await again.response();
    if (start.stream) {
      throw nameNodeError(
        client.address,
        new CdfsError("BAD_REQUEST", "asked again after a lost commit, the program streams"),
      );
    }
    await again.prepared();
    return await again.commit();
  } catch (e) {
    again.abort(e);
    throw e;
  }
}

/**
 * Sends a CODING request and returns at once (the reply is read in the background), for a
 * caller that reads the stream frame by frame into memory of its own (a datanode pulling an
 * upstream program into its buffer pool). {@linkcode runCoding} is the simple form. The client serves nothing else until the stream is committed or aborted.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const run = await openCoding(client, request);
 * console.log((await run.response()).length);
 * run.abort();
 * ```
 *
 * @param client The client of the node to run the program on.
 * @param request The CODING request (validated here first).
 * @returns The run in pull mode.
 * @throws {CdfsError} `BAD_REQUEST` for an invalid request, connection errors.
 */
export async function openCoding(
  client: DataNodeClient,
  request: CodingRequest,
): Promise<CodingStream> {
  const { conn, checked, host } = await sendCoding(client, request, false);
  return new ClientCodingStream(conn, checked, host);
}

/**
 * Sends a push-mode CODING request (`request.push` set, for a program after the chain's
 * first) and returns at once: the caller then sends the program's input stream with
 * {@linkcode CodingPushStream.send} and `end`, waits for `prepared` and commits. The next
 * node's replies are read in the background; its progress goes to `onProgress`. The client
 * serves nothing else until the run is committed or aborted.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * const push = await openCodingPush(client, { ...request, program: "enc_node1", push });
 * await push.send(chunk);
 * await push.end({ length: chunk.length, digest });
 * await push.prepared();
 * console.log(await push.commit());
 * ```
 *
 * @param client The client of the node the stream goes to.
 * @param request The CODING request, with `push` (validated here first).
 * @param onProgress Told the progress the node reports.
 * @returns The sending side of the run.
 * @throws {CdfsError} `BAD_REQUEST` for an invalid request or one without `push`, connection
 * errors.
 */
export async function openCodingPush(
  client: DataNodeClient,
  request: CodingRequest,
  onProgress?: (done: number) => void,
): Promise<CodingPushStream> {
  const { conn, checked, host } = await sendCoding(client, request, true);
  return new ClientCodingPush(conn, checked, host, onProgress);
}

/**
 * Validates and sends a CODING request (`pushing`: one followed by a pushed stream); returns
 * the connection and the hooks of the exchange that follows.
 */
async function sendCoding(
  client: DataNodeClient,
  request: CodingRequest,
  pushing: boolean,
): Promise<{ conn: FrameConnection; checked: CodingRequest; host: CodingExchangeHost }> {
  let checked: CodingRequest;
  try {
    checked = parseRequest(request) as CodingRequest;
    if (checked.op !== "CODING") throw new CdfsError("BAD_REQUEST", "not a CODING request");
    if (pushing !== (checked.push?.length !== undefined)) {
      throw new CdfsError(
        "BAD_REQUEST",
        pushing
          ? "not a CODING request that pushes a stream (push.length missing)"
          : "a CODING request with push.length is followed by a stream: use openCodingPush",
      );
    }
  } catch (e) {
    throw nameNodeError(client.address, e);
  }
  // The run's stall timeout holds for this exchange; the connection's own ones after it.
  const exchange = await client.openExchange(checked, checked.timeoutMs);
  const host: CodingExchangeHost = {
    error: (e) => codingError(e, exchange.error),
    done: () => exchange.done(),
    detach: () => exchange.detach(),
  };
  return { conn: exchange.conn, checked, host };
}

/**
 * A failure the client saw on its own connection to the node `address` (a timeout or the
 * connection lost, named `node HOST:PORT: ...` by {@linkcode nameNodeError}) renamed after the
 * node's index in the run's node list, `node 15 (HOST:PORT): ...`, the way the nodes name each
 * other: the client is the neighbour that notices when the node it talks to stalls. What the
 * node said itself, and anything else, passes unchanged.
 */
function runNodeError(address: string, error: unknown, nodes: readonly string[]): unknown {
  const prefix = `node ${address}: `;
  if (!(error instanceof CdfsError) || !error.message.startsWith(prefix)) return error;
  // The node's own word, or a request found invalid before it was sent, is no stall.
  if (error.cause instanceof PeerError) return error;
  if (error.code !== "TIMEOUT" && error.code !== "UNAVAILABLE") return error;
  const at: number[] = [];
  nodes.forEach((node, i) => {
    try {
      if (formatNodeAddress(parseNodeAddress(node)) === address) at.push(i);
    } catch {
      // Not an address (the request was refused for it): not this node.
    }
  });
  if (at.length !== 1) return error;
  return new CdfsError(
    error.code,
    `node ${at[0]} (${address}): ${error.message.slice(prefix.length)}`,
    { cause: error },
  );
}

/** A node error; one that already names a node of a coding run passes unchanged. */
function codingError(error: unknown, nodeError: (error: unknown) => unknown): unknown {
  if (error instanceof CdfsError && NAMED_CODING_ERROR.test(error.message)) {
    return error instanceof PeerError ? new CdfsError(error.code, error.message) : error;
  }
  return nodeError(error);
}

/** The message of an error that names the node of a coding run it happened on. */
const NAMED_CODING_ERROR = /^node \d+ \(/;

const enum CodingPhase {
  Start,
  Stream,
  Prepare,
  Commit,
  Done,
  Failed,
}

/** The pull-mode CODING exchange of one connection (see {@linkcode CodingStream}). */
class ClientCodingStream implements CodingStream {
  readonly #conn: FrameConnection;
  readonly #request: CodingRequest;
  readonly #host: CodingExchangeHost;
  readonly #start: Promise<CodingStartResponse>;
  #phase = CodingPhase.Start;
  #stream: PullStream | null = null;

  constructor(conn: FrameConnection, request: CodingRequest, host: CodingExchangeHost) {
    this.#conn = conn;
    this.#request = request;
    this.#host = host;
    this.#start = this.#readStart();
    this.#start.catch(() => {}); // observed by whoever asks; never "unhandled"
  }

  response(): Promise<CodingStartResponse> {
    return this.#start;
  }

  async next(): Promise<number | null> {
    const start = await this.#start;
    try {
      if (!start.stream) {
        throw new CdfsError("INTERNAL", `program '${start.program}' is not a stream program`);
      }
      if (this.#phase !== CodingPhase.Start && this.#phase !== CodingPhase.Stream) {
        throw new CdfsError("INTERNAL", "next() after the end of the coding stream");
      }
      this.#phase = CodingPhase.Stream;
      this.#stream ??= await PullStream.create(this.#conn, {
        chunkSize: this.#request.chunkSize,
        length: start.length,
        // A node waiting for its own inputs says it is alive with progress replies.
        onReply: (body) => {
          if (!("progress" in parseResponse("CODING", body))) {
            throw new CdfsError("BAD_REQUEST", `unexpected CODING reply ${JSON.stringify(body)}`);
          }
        },
      });
      const n = await this.#stream.next();
      if (n === null) this.#phase = CodingPhase.Prepare;
      return n;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async read(view: Uint8Array): Promise<void> {
    try {
      if (this.#stream === null) throw new CdfsError("INTERNAL", "read() before next()");
      await this.#stream.read(view);
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async prepared(onProgress?: (bytesDone: number) => void): Promise<void> {
    const start = await this.#start;
    try {
      if (start.stream ? this.#phase !== CodingPhase.Prepare : this.#phase !== CodingPhase.Start) {
        throw new CdfsError("INTERNAL", "prepared() out of turn");
      }
      while (true) {
        const reply = await this.#readReply();
        if ("prepared" in reply) break;
        if (!("progress" in reply)) {
          throw new CdfsError("BAD_REQUEST", `unexpected CODING reply ${JSON.stringify(reply)}`);
        }
        // A stream program's progress replies are keepalives (its data counts the bytes).
        if (!start.stream) onProgress?.(reply.progress);
      }
      this.#phase = CodingPhase.Commit;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  async commit(): Promise<CommittedBlock[]> {
    try {
      if (this.#phase !== CodingPhase.Commit) {
        throw new CdfsError("INTERNAL", "commit() before the program was prepared");
      }
      await this.#conn.writeJsonFrame(FRAME_TYPE.REQUEST, {
        op: "COMMIT",
        run: this.#request.run,
      });
      const reply = await readCommitReply(this.#conn);
      if (!("committed" in reply)) {
        throw new CdfsError("BAD_REQUEST", `unexpected CODING reply ${JSON.stringify(reply)}`);
      }
      this.#phase = CodingPhase.Done;
      this.#host.done();
      return (reply as CodingCommittedResponse).committed;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  abort(reason?: unknown): void {
    if (this.#phase === CodingPhase.Done || this.#phase === CodingPhase.Failed) return;
    this.#phase = CodingPhase.Failed;
    const conn = this.#conn;
    this.#host.detach();
    if (conn.closed) return;
    // Best effort, and without waiting: the close is what makes the node abort (and what
    // ends a read pending on the connection), so it comes soon whatever the write does.
    const message = reason instanceof Error ? reason.message : String(reason ?? "aborted");
    const timer = setTimeout(() => conn.close(), ABORT_LINGER_MS);
    conn.writeError("UNAVAILABLE", `the client aborted the run: ${message}`)
      .catch(() => {})
      .finally(() => {
        clearTimeout(timer);
        conn.close();
      });
  }

  async #readStart(): Promise<CodingStartResponse> {
    try {
      let reply = await this.#readReply();
      // Keepalives of a node still opening its inputs (connecting to the other nodes).
      while ("progress" in reply) reply = await this.#readReply();
      if (!("program" in reply)) {
        throw new CdfsError(
          "BAD_REQUEST",
          `expected the CODING start reply, got ${JSON.stringify(reply)}`,
        );
      }
      if (reply.program !== this.#request.program) {
        throw new CdfsError(
          "BAD_REQUEST",
          `CODING of program '${this.#request.program}' was answered for '${reply.program}'`,
        );
      }
      return reply;
    } catch (e) {
      // Refused before it started (a bad request, a missing block): the connection stays usable.
      if (e instanceof PeerError && this.#phase === CodingPhase.Start) {
        this.#phase = CodingPhase.Failed;
        this.#host.done();
        throw this.#host.error(e);
      }
      throw this.#fail(e);
    }
  }

  #readReply(): Promise<CodingResponse> {
    return readCodingReply(this.#conn);
  }

  /** Ends the exchange after an error and returns the error to throw. */
  #fail(error: unknown): unknown {
    if (this.#phase !== CodingPhase.Failed && this.#phase !== CodingPhase.Done) {
      this.#phase = CodingPhase.Failed;
      this.#host.detach();
      this.#conn.close();
    }
    return this.#host.error(error);
  }
}

/**
 * Reads a stream program's frames into two pooled buffers in turn (the next frame arrives
 * while the consumer works on the previous one) and hands each to `consume`.
 */
async function pullAll(
  run: CodingStream,
  chunkSize: number,
  consume: ((bytes: Uint8Array, length: number) => Promise<void>) | undefined,
): Promise<void> {
  const pool = bufferPoolFor(chunkSize);
  const buffers = [await pool.acquire()];
  // A second buffer only when one is free: waiting could starve another stream of the run.
  const spare = pool.tryAcquire();
  if (spare !== undefined) buffers.push(spare);
  let consuming: Promise<void> | null = null;
  try {
    for (let i = 0;; i++) {
      const n = await run.next();
      if (n === null) break;
      const view = buffers[i % buffers.length]!.bytes.subarray(0, n);
      if (buffers.length === 1 && consuming !== null) await consuming;
      await run.read(view);
      if (consume === undefined) continue;
      if (consuming !== null) await consuming;
      consuming = consume(view, n);
      consuming.catch(() => {}); // rethrown by the next await
    }
    if (consuming !== null) await consuming;
  } finally {
    if (consuming !== null) await (consuming as Promise<void>).catch(() => {});
    for (const buffer of buffers) buffer.release();
  }
}
