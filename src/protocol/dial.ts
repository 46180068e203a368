/**
 * Opening a connection of wire format v1, the client side shared by the datanode and the
 * namenode clients: TCP connect, then the preamble exchange, both within one connect timeout
 * (a server that accepts but never answers is as unreachable as one that does not accept),
 * and optionally abandoned through a signal. Its requests are signed with `options.signer`, or
 * else with the process's `defaultSigner()` (`auth.ts`). With TLS (`options.tls`, or else the
 * process's `defaultTls()`, `tls.ts`) the TLS handshake comes between the two, within the same
 * timeout.
 *
 * @module
 */
import type { NodeAddress } from "../core/address.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { describeOsError } from "../format/os_error.ts";
import { defaultSigner } from "./auth.ts";
import { FrameConnection, type FrameConnectionOptions } from "./connection.ts";
import { defaultTls, startClientTls, type TlsClientConfig } from "./tls.ts";

/**
 * Options of {@linkcode dialFrameConnection}.
 *
 * @example
 * ```ts
 * import type { DialOptions } from "./dial.ts";
 * const options: DialOptions = {
 *   timeoutMs: 5000,
 *   unreachable: "cannot reach node 127.0.0.1:13100: ",
 *   peer: "node 127.0.0.1:13100: ",
 * };
 * ```
 */
export interface DialOptions extends FrameConnectionOptions {
  /** How long the TCP connection and the preamble exchange may take together, ms. */
  readonly timeoutMs: number;
  /** Put before the reason the TCP connection failed (`cannot reach node HOST:PORT: `). */
  readonly unreachable: string;
  /** Put before the reason the preamble exchange failed (`node HOST:PORT: `). */
  readonly peer: string;
  /** Abandons the attempt: it then fails with {@linkcode DialOptions.abandoned}. */
  readonly signal?: AbortSignal | undefined;
  /** The message of an abandoned attempt (default `connecting was abandoned`). */
  readonly abandoned?: string;
  /**
   * TLS: the CA certificates the server's certificate must be signed by; null for plain TCP
   * (default: the process's `defaultTls()`, `tls.ts`).
   */
  readonly tls?: TlsClientConfig | null | undefined;
}

/**
 * Connects to a server and exchanges preambles.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * import { dialFrameConnection } from "./dial.ts";
 * const conn = await dialFrameConnection({ hostname: "127.0.0.1", port: 13100 }, {
 *   timeoutMs: 5000,
 *   unreachable: "cannot reach node 127.0.0.1:13100: ",
 *   peer: "node 127.0.0.1:13100: ",
 * });
 * conn.close();
 * ```
 *
 * @param target The server's address.
 * @param options The connect timeout, the frame connection's options, the words of the errors.
 * @returns The connection, ready for requests.
 * @throws {CdfsError} `TIMEOUT` when the connection or the preamble takes longer than
 * `timeoutMs`; `UNAVAILABLE` when the server cannot be reached or the attempt was abandoned;
 * the server's error when it refuses the preamble.
 */
export async function dialFrameConnection(
  target: NodeAddress,
  options: DialOptions,
): Promise<FrameConnection> {
  const { timeoutMs, signal: abandoned } = options;
  const started = performance.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  const abandonedError = () =>
    new CdfsError("UNAVAILABLE", options.abandoned ?? "connecting was abandoned");
  if (abandoned?.aborted) throw abandonedError();
  let socket: Deno.TcpConn;
  try {
    socket = await Deno.connect({
      hostname: target.hostname,
      port: target.port,
      transport: "tcp",
      signal: abandoned === undefined ? timeout : AbortSignal.any([timeout, abandoned]),
    });
  } catch (error) {
    if (abandoned?.aborted) throw abandonedError();
    if (timeout.aborted) {
      throw new CdfsError("TIMEOUT", `${options.unreachable}no answer in ${timeoutMs} ms`);
    }
    throw new CdfsError("UNAVAILABLE", `${options.unreachable}${describeOsError(error)}`, {
      cause: error,
    });
  }
  // Requests and replies are small frames that must not wait for Nagle's algorithm.
  socket.setNoDelay(true);
  const tls = options.tls === undefined ? defaultTls() : options.tls;
  // The TLS handshake and the preamble are part of connecting: a server that accepts but
  // never answers is as unreachable as one that does not accept.
  let open: Deno.Conn = socket;
  let conn: FrameConnection | null = null;
  let timedOut = false;
  const close = () => {
    try {
      if (conn !== null) conn.close();
      else open.close();
    } catch {
      // Closed already.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    close();
  }, Math.max(0, timeoutMs - (performance.now() - started)));
  abandoned?.addEventListener("abort", close);
  // Aborted while the connection was being set up: the event is gone, the close is not.
  if (abandoned?.aborted) close();
  try {
    if (tls !== null) {
      open = await startClientTls(socket, target.hostname, tls, (wrapped) => {
        open = wrapped;
        if (timedOut || abandoned?.aborted) close();
      });
    }
    conn = await FrameConnection.create(open, {
      ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
      ...(options.meter === undefined ? {} : { meter: options.meter }),
      signer: options.signer === undefined ? defaultSigner() : options.signer,
    });
    if (timedOut || abandoned?.aborted) close();
    await conn.clientHandshake();
  } catch (error) {
    close();
    if (abandoned?.aborted) throw abandonedError();
    if (timedOut) {
      const what = tls !== null && conn === null ? "TLS handshake" : "preamble";
      throw new CdfsError("TIMEOUT", `${options.peer}no ${what} within ${timeoutMs} ms`);
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new CdfsError(isCdfsError(error) ? error.code : "UNAVAILABLE", options.peer + message, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    abandoned?.removeEventListener("abort", close);
  }
  return conn;
}
