/**
 * The listener a server of wire format v1 serves on: one it was handed, or one it binds (TLS
 * when it is given a certificate, `tls.ts`).
 *
 * @module
 */
import { listenNode, type NodeListener, type TlsServerConfig } from "./tls.ts";

/**
 * Where a server listens: a listener bound already, or an address to bind.
 *
 * @example
 * ```ts
 * import type { ListenOptions } from "./listen.ts";
 * const options: ListenOptions = { hostname: "0.0.0.0", port: 13100 };
 * ```
 */
export interface ListenOptions {
  /** A listener bound already, which the server takes over (and closes when it stops). */
  readonly listener?: NodeListener | undefined;
  /** The address to listen on (default `127.0.0.1`). */
  readonly hostname?: string | undefined;
  /** The port (0 picks a free one). */
  readonly port?: number | undefined;
  /** Serve TLS with this certificate and key (ignored with `listener`: bind it with TLS). */
  readonly tls?: TlsServerConfig | undefined;
}

/**
 * The listener a server serves on: `options.listener`, or a new one bound to
 * `options.hostname` (default `127.0.0.1`) and `options.port` (default `defaultPort`), TLS
 * when `options.tls` is given.
 *
 * @example
 * ```ts
 * import { listenTcp } from "./listen.ts";
 * const listener = listenTcp({ port: 0 }, 13100);
 * console.log(listener.addr.hostname); // "127.0.0.1"
 * listener.close();
 * ```
 *
 * @param options The listener, or the address to bind.
 * @param defaultPort The port when none is given.
 * @returns The listener.
 * @throws The listener's errors (e.g. `AddrInUse`).
 */
export function listenTcp(options: ListenOptions, defaultPort: number): NodeListener {
  return options.listener ?? listenNode({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? defaultPort,
  }, options.tls);
}
