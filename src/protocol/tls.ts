/**
 * TLS for every connection of wire format v1, in one place: the listener a TLS server binds
 * (`Deno.listenTls` with the node's certificate and key), the client's upgrade of a TCP
 * connection (`Deno.startTls` with the cluster's CA certificates, the peer's address checked
 * against its certificate), the server's handshake under a timeout, and errors that say which
 * side lacks TLS or which certificate is not trusted. The wire format inside TLS is unchanged
 * (docs/protocol.md §1).
 *
 * Like the request signer (`auth.ts`), the client side is passed through the options of the
 * dialers (`DialOptions.tls`), or else taken from the process's default
 * ({@linkcode setDefaultTls}), which the CLI sets from `--tls-ca`, `$CDFS_TLS_CA` or the
 * cluster file. This module reads no files: the PEM texts are handed to it.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { setListenerNoDelay } from "./listener_nodelay.ts";

/**
 * What a TLS server needs: its certificate chain and private key, PEM.
 *
 * @example
 * ```ts
 * import type { TlsServerConfig } from "./tls.ts";
 * const config: TlsServerConfig = { cert: "-----BEGIN CERTIFICATE-----...", key: "..." };
 * ```
 */
export interface TlsServerConfig {
  /** The certificate chain, PEM (the node's certificate first). */
  readonly cert: string;
  /** The private key, PEM (PKCS#8, RSA or EC). */
  readonly key: string;
}

/**
 * What a TLS client needs: the CA certificates that signed the nodes' certificates.
 *
 * @example
 * ```ts
 * import type { TlsClientConfig } from "./tls.ts";
 * const config: TlsClientConfig = { caCerts: ["-----BEGIN CERTIFICATE-----..."], source: "ca.pem" };
 * ```
 */
export interface TlsClientConfig {
  /** The CA certificates, PEM, trusted besides the system's roots. */
  readonly caCerts: readonly string[];
  /** Where they came from (`--tls-ca FILE`, ...), for the messages. */
  readonly source?: string;
}

/** A listener of a server of wire format v1: plain TCP, or TLS over TCP. */
export type NodeListener = Deno.TcpListener | Deno.TlsListener;

/**
 * Binds a server's listener: TLS when `tls` is given, else plain TCP. A TLS listener gets
 * `TCP_NODELAY`, which its connections inherit (`listener_nodelay.ts`: Deno offers no
 * `setNoDelay` on them, and without it a new connection's first reply waits ~40 ms); where that
 * cannot be set the node works the same, slower to answer a new TLS connection.
 *
 * @example
 * ```ts
 * import { listenNode } from "./tls.ts";
 * const listener = listenNode({ hostname: "127.0.0.1", port: 0 });
 * console.log(listener.addr.port > 0); // true
 * listener.close();
 * ```
 *
 * @param address Where to listen.
 * @param tls The certificate and key, or undefined for plain TCP.
 * @returns The listener.
 * @throws The listener's errors (e.g. `AddrInUse`, a certificate or key Deno cannot parse).
 */
export function listenNode(
  address: { hostname: string; port: number },
  tls?: TlsServerConfig,
): NodeListener {
  if (tls === undefined) return Deno.listen({ ...address, transport: "tcp" });
  const listener = Deno.listenTls({ ...address, transport: "tcp", cert: tls.cert, key: tls.key });
  setListenerNoDelay(listener.addr.port);
  return listener;
}

/**
 * Starts TLS on a client's TCP connection to `hostname` (an address the node's certificate
 * must name) and completes the handshake. The caller bounds the time: closing the returned
 * connection's TCP socket (`onStarted` hands it over) ends the handshake with an error.
 *
 * @example
 * Not run by `deno test --doc`: it needs a TLS server (`tests/protocol/tls_test.ts` has one).
 * ```ts ignore
 * import { startClientTls } from "./tls.ts";
 * const tcp = await Deno.connect({ hostname: "127.0.0.1", port: 13100 });
 * const conn = await startClientTls(tcp, "127.0.0.1", { caCerts: [ca] }, () => {});
 * conn.close();
 * ```
 *
 * @param socket The connected TCP socket (taken over).
 * @param hostname The address the certificate is checked against.
 * @param config The CA certificates.
 * @param onStarted Handed the TLS connection before the handshake, so a timer can close it.
 * @returns The TLS connection, handshake done.
 * @throws {CdfsError} {@linkcode clientTlsError}'s errors.
 */
export async function startClientTls(
  socket: Deno.TcpConn,
  hostname: string,
  config: TlsClientConfig,
  onStarted: (conn: Deno.TlsConn) => void,
): Promise<Deno.TlsConn> {
  let conn: Deno.TlsConn;
  try {
    conn = await Deno.startTls(socket, {
      hostname: hostname.replace(/^\[|\]$/g, ""),
      caCerts: [...config.caCerts],
    });
  } catch (error) {
    closeQuietly(socket);
    throw clientTlsError(error, config);
  }
  onStarted(conn);
  try {
    await conn.handshake();
  } catch (error) {
    closeQuietly(conn);
    throw clientTlsError(error, config);
  }
  return conn;
}

/**
 * A client's failed TLS handshake as one line saying what to do: a node that answers in plain
 * TCP, a certificate the CA does not vouch for (or that names another address), or another
 * failure with Deno's words.
 *
 * @example
 * ```ts
 * import { clientTlsError } from "./tls.ts";
 * const error = clientTlsError(
 *   new Deno.errors.InvalidData("invalid peer certificate: UnknownIssuer"),
 *   { caCerts: [], source: "--tls-ca ca.pem" },
 * );
 * console.log(error.code); // "UNAUTHENTICATED"
 * ```
 *
 * @param error What the handshake threw.
 * @param config The client's CA certificates (their source names them).
 * @returns `UNAVAILABLE` for a node without TLS or a handshake cut short, `UNAUTHENTICATED` for
 * a certificate not trusted.
 */
export function clientTlsError(error: unknown, config: TlsClientConfig): CdfsError {
  const message = error instanceof Error ? error.message : String(error);
  const from = config.source === undefined ? "" : ` of ${config.source}`;
  if (/InvalidContentType|corrupt message|InvalidMessage/i.test(message)) {
    return new CdfsError(
      "UNAVAILABLE",
      "answers without TLS (its first bytes are not a TLS handshake): start it with " +
        "--tls-cert and --tls-key, or connect without a CA (--tls-ca, CDFS_TLS_CA)",
      { cause: error },
    );
  }
  const certificate = /invalid peer certificate: (.*)/.exec(message);
  if (certificate !== null) {
    const reason = certificate[1]!;
    const hint = /NotValidForName|not valid for name/.test(reason)
      ? "it does not name the address connected to"
      : `is it signed by the CA${from}?`;
    return new CdfsError(
      "UNAUTHENTICATED",
      `its TLS certificate is not trusted (${oneLine(reason).slice(0, 160)}): ${hint}`,
      { cause: error },
    );
  }
  if (/eof|close_notify|reset|broken pipe|bad resource/i.test(message)) {
    return new CdfsError("UNAVAILABLE", "closed the connection during the TLS handshake", {
      cause: error,
    });
  }
  return new CdfsError("UNAVAILABLE", `TLS handshake failed: ${oneLine(message)}`, {
    cause: error,
  });
}

/**
 * The server side of a TLS handshake, when the connection is TLS (else nothing), within
 * `timeoutMs`: a client that does not finish it in time is closed.
 *
 * @example
 * ```ts
 * import { serverTlsHandshake } from "./tls.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const server = await listener.accept();
 * await serverTlsHandshake(server, 1000); // plain TCP: nothing to do
 * server.close();
 * client.close();
 * listener.close();
 * ```
 *
 * @param socket The accepted connection.
 * @param timeoutMs How long the handshake may take.
 * @throws {CdfsError} `TIMEOUT`; `BAD_REQUEST` for a client that does not speak TLS or does not
 * trust this node's certificate; `UNAVAILABLE` for a client that left.
 */
export async function serverTlsHandshake(socket: Deno.Conn, timeoutMs: number): Promise<void> {
  if (!("handshake" in socket) || typeof socket.handshake !== "function") return;
  const tls = socket as Deno.TlsConn;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    closeQuietly(tls);
  }, timeoutMs);
  try {
    await tls.handshake();
  } catch (error) {
    if (timedOut) {
      throw new CdfsError("TIMEOUT", `no TLS handshake within ${timeoutMs} ms`);
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/InvalidContentType|corrupt message|InvalidMessage/i.test(message)) {
      throw new CdfsError(
        "BAD_REQUEST",
        "a client without TLS (its first bytes are not a TLS handshake)",
        { cause: error },
      );
    }
    const alert = /received fatal alert: (\w+)/.exec(message);
    if (alert !== null) {
      throw new CdfsError(
        "BAD_REQUEST",
        `the client refused this node's TLS certificate (alert ${alert[1]})`,
        { cause: error },
      );
    }
    throw new CdfsError("UNAVAILABLE", `TLS handshake failed: ${oneLine(message)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether bytes read where a cdfs preamble was expected start a TLS record (a handshake or
 * an alert, version 3.x): the peer speaks TLS and this side does not.
 *
 * @example
 * ```ts
 * import { startsTlsRecord } from "./tls.ts";
 * console.log(startsTlsRecord(new Uint8Array([0x15, 0x03, 0x03]), 3)); // true
 * console.log(startsTlsRecord(new TextEncoder().encode("CDFS"), 4)); // false
 * ```
 *
 * @param bytes The bytes.
 * @param count How many of them were read.
 * @returns True for the start of a TLS record.
 */
export function startsTlsRecord(bytes: Uint8Array, count: number): boolean {
  if (count < 1 || (bytes[0] !== 0x15 && bytes[0] !== 0x16)) return false;
  return count < 2 || bytes[1] === 0x03;
}

/**
 * Whether a read failed only because a TLS peer closed without a close_notify alert (as
 * Deno's `close()` does): between frames, the end of the stream all the same.
 *
 * @example
 * ```ts
 * import { closedWithoutNotify } from "./tls.ts";
 * const eof = new Deno.errors.UnexpectedEof("peer closed connection without sending TLS close_notify");
 * console.log(closedWithoutNotify(eof)); // true
 * ```
 *
 * @param error What the read threw.
 * @returns True for a TLS end of stream without close_notify.
 */
export function closedWithoutNotify(error: unknown): boolean {
  return error instanceof Error && /without sending TLS close_notify/.test(error.message);
}

let processTls: TlsClientConfig | null = null;

/**
 * Sets the TLS configuration of this process's client connections that name none
 * (`DialOptions.tls`): the CLI sets it from `--tls-ca`, `$CDFS_TLS_CA` or the cluster file.
 *
 * @example
 * ```ts
 * import { defaultTls, setDefaultTls } from "./tls.ts";
 * const before = setDefaultTls({ caCerts: ["-----BEGIN CERTIFICATE-----..."] });
 * console.log(defaultTls()?.caCerts.length); // 1
 * setDefaultTls(before);
 * ```
 *
 * @param config The CA certificates, or null for plain TCP.
 * @returns The configuration set before.
 */
export function setDefaultTls(config: TlsClientConfig | null): TlsClientConfig | null {
  const before = processTls;
  processTls = config;
  return before;
}

/**
 * The TLS configuration of this process's client connections that name none
 * ({@linkcode setDefaultTls}); null for plain TCP.
 *
 * @example
 * ```ts
 * import { defaultTls } from "./tls.ts";
 * console.log(defaultTls()); // null
 * ```
 *
 * @returns The configuration, or null.
 */
export function defaultTls(): TlsClientConfig | null {
  return processTls;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").slice(0, 200);
}
