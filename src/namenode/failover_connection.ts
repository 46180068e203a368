/**
 * {@linkcode FailoverConnection}: the connection of a namenode client to one of several
 * namenodes, sending one request at a time and reading its validated reply.
 *
 * **Failover.** It is given every namenode's address (several namenodes may share one etcd
 * store). It connects to the first that answers, in order, and stays there. When that
 * connection is lost, the next request connects again, trying the same namenode first and then
 * the others in turn. A request that was sent when the connection broke is retried on another
 * namenode only if it only reads (PING, GET_FILE, LIST_*, FSCK, ORPHANS): a lost reply to a
 * CREATE_FILE or COMMIT_FILE may or may not have been applied, so those fail with
 * `UNAVAILABLE` and the caller decides (GET_FILE by id tells).
 *
 * One request at a time per connection (the protocol has no multiplexing); concurrent calls
 * are queued.
 *
 * @module
 */
import { formatNodeAddress, type NodeAddress } from "../core/address.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "../client/node_connection.ts";
import type { FrameConnection } from "../protocol/connection.ts";
import { PeerError } from "../protocol/peer_error.ts";
import type { RequestSigner } from "../protocol/auth.ts";
import { dialFrameConnection } from "../protocol/dial.ts";
import type { TlsClientConfig } from "../protocol/tls.ts";
import { FRAME_TYPE } from "../protocol/frame.ts";
import { type NameNodeOp, type NameNodeRequest, requestToJson } from "./requests.ts";
import type { NameNodeResponseOf } from "./responses.ts";
import { parseNameNodeResponse } from "./parse_response.ts";

/**
 * Timeouts and cancellation of a {@linkcode FailoverConnection}.
 *
 * @example
 * ```ts
 * import type { FailoverOptions } from "./failover_connection.ts";
 * const options: FailoverOptions = { connectTimeoutMs: 2000 };
 * ```
 */
export interface FailoverOptions {
  /**
   * How long to wait for a TCP connection and the preamble exchange, per namenode (default
   * {@linkcode DEFAULT_CONNECT_TIMEOUT_MS}, as for a datanode).
   */
  readonly connectTimeoutMs?: number;
  /** How long to wait for a reply to start (default 60 s). */
  readonly idleTimeoutMs?: number;
  /** How long a started frame may take (default 30 s). */
  readonly frameTimeoutMs?: number;
  /**
   * Abandons connecting once aborted: a connection being made fails at once with
   * `UNAVAILABLE`, and none is made after (a datanode that stops must not wait out
   * `connectTimeoutMs` on a namenode that does not answer). Requests on an open connection
   * are cut by {@linkcode FailoverConnection.close}.
   */
  readonly signal?: AbortSignal;
  /** Signs the requests (default: the process's `defaultSigner()`, `auth.ts`). */
  readonly signer?: RequestSigner | null;
  /** TLS: the CA certificates, or null for plain TCP (default: `defaultTls()`, `tls.ts`). */
  readonly tls?: TlsClientConfig | null;
}

/**
 * The ops that only read: safe to send again to another namenode after a lost reply, and the
 * ops a read-only credential may use (`auth.ts`).
 */
export const READ_ONLY_OPS: ReadonlySet<NameNodeOp> = new Set([
  "PING",
  "GET_FILE",
  "LIST_FILES",
  "LIST_DATANODES",
  "FSCK",
  "ORPHANS",
  "STATUS",
]);

/**
 * A connection to one of several namenodes that fails over to the next when it is lost.
 *
 * @example
 * ```ts
 * import { parseNodeAddress } from "../core/address.ts";
 * import { FailoverConnection } from "./failover_connection.ts";
 * import { NameNodeServer } from "./server.ts";
 * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
 * const targets = ["127.0.0.1:1", server.address].map((a) => parseNodeAddress(a));
 * using link = new FailoverConnection(targets, {});
 * console.log((await link.call({ op: "PING" })).service, link.address === server.address); // "namenode" true
 * ```
 */
export class FailoverConnection {
  /** Every namenode's address, in the order they are tried. */
  readonly addresses: readonly string[];
  readonly #targets: readonly NodeAddress[];
  readonly #options: FailoverOptions;
  #current = 0;
  #conn: FrameConnection | null = null;
  #opened = 0;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Makes the connection; the first request (or {@linkcode FailoverConnection.open}) dials.
   *
   * @param targets Every namenode, in the order they are tried.
   * @param options Timeouts.
   */
  constructor(targets: readonly NodeAddress[], options: FailoverOptions) {
    this.#targets = targets;
    this.addresses = targets.map(formatNodeAddress);
    this.#options = options;
  }

  /** The namenode it talks to now (or will try first). */
  get address(): string {
    return this.addresses[this.#current]!;
  }

  /** How many connections it has opened so far. */
  get connections(): number {
    return this.#opened;
  }

  /**
   * Connects now, to the first namenode that answers.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await link.open();
   * ```
   *
   * @throws {CdfsError} `UNAVAILABLE` (or `TIMEOUT`) naming why each namenode could not be
   * reached.
   */
  async open(): Promise<void> {
    await this.#connection();
  }

  /**
   * Closes the connection; idempotent. Later calls fail.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * link.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    this.#drop();
  }

  /** Closes the connection (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Sends a request (then its data stream, if any) and reads the validated reply, after the
   * calls before it.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { id, version } = await link.call({ op: "PING" });
   * ```
   *
   * @param request The request.
   * @param stream Sends the request's data stream, if it has one.
   * @returns The reply.
   * @throws {CdfsError} The namenode's refusal; `UNAVAILABLE` when the connection was lost
   * (after one more try on another namenode for a request that only reads).
   */
  call<K extends NameNodeOp>(
    request: NameNodeRequest & { op: K },
    stream?: (conn: FrameConnection) => Promise<void>,
  ): Promise<NameNodeResponseOf[K]> {
    const run = this.#queue.then(() => this.#exchange<K>(request, stream));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #exchange<K extends NameNodeOp>(
    request: NameNodeRequest & { op: K },
    stream: ((conn: FrameConnection) => Promise<void>) | undefined,
  ): Promise<NameNodeResponseOf[K]> {
    const payload = requestToJson(request);
    for (let attempt = 1;; attempt++) {
      const conn = await this.#connection();
      try {
        await conn.writeJsonFrame(FRAME_TYPE.REQUEST, payload);
        if (stream !== undefined) await stream(conn);
        const raw = await conn.readJsonFrame(FRAME_TYPE.RESPONSE);
        if (raw === null) {
          throw new CdfsError("UNAVAILABLE", "the namenode closed the connection");
        }
        const response = parseNameNodeResponse(request.op, raw);
        conn.prefetchHeader();
        return response;
      } catch (error) {
        if (error instanceof PeerError) {
          // A refusal of a request without data leaves the connection usable.
          if (stream === undefined) conn.prefetchHeader();
          else this.#drop();
          throw error;
        }
        this.#drop();
        const lost = !isCdfsError(error) || error.code === "UNAVAILABLE" ||
          error.code === "TIMEOUT";
        if (lost && READ_ONLY_OPS.has(request.op) && attempt === 1) {
          this.#current = (this.#current + 1) % this.#targets.length;
          continue;
        }
        if (lost) {
          throw new CdfsError(
            isCdfsError(error) ? error.code : "UNAVAILABLE",
            `namenode ${this.address}: ${messageOf(error)}${
              READ_ONLY_OPS.has(request.op)
                ? ""
                : ` (${request.op} may or may not have been applied)`
            }`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  }

  /** The live connection, or a new one to the first namenode that answers from the current. */
  async #connection(): Promise<FrameConnection> {
    if (this.#closed) throw new CdfsError("UNAVAILABLE", "the namenode client was closed");
    const current = this.#conn;
    if (current !== null && !current.closed && !current.peerSentData) return current;
    this.#drop();
    const failures: string[] = [];
    for (let tried = 0; tried < this.#targets.length; tried++) {
      if (this.#options.signal?.aborted) {
        throw new CdfsError("UNAVAILABLE", "connecting to the namenode was abandoned");
      }
      const index = (this.#current + tried) % this.#targets.length;
      try {
        const conn = await openConnection(this.#targets[index]!, this.#options);
        if (this.#closed) {
          conn.close();
          throw new CdfsError("UNAVAILABLE", "the namenode client was closed");
        }
        this.#current = index;
        this.#conn = conn;
        this.#opened++;
        return conn;
      } catch (error) {
        if (this.#closed) throw error;
        failures.push(`${this.addresses[index]}: ${messageOf(error)}`);
      }
    }
    throw new CdfsError(
      "UNAVAILABLE",
      `no namenode answers (${failures.join("; ")})`,
    );
  }

  #drop(): void {
    this.#conn?.close();
    this.#conn = null;
  }
}

function openConnection(
  target: NodeAddress,
  options: FailoverOptions,
): Promise<FrameConnection> {
  return dialFrameConnection(target, {
    timeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    unreachable: "",
    peer: "",
    signal: options.signal,
    abandoned: "connecting to the namenode was abandoned",
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
    ...(options.signer === undefined ? {} : { signer: options.signer }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
