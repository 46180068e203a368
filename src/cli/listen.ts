/**
 * Binding the ports of the serving commands (`datanode serve`, `namenode serve`) before they
 * create or print anything, with a failure (a busy port, an address not of this machine, a
 * privileged port) as one line naming the address.
 *
 * @module
 */
import { formatNodeAddress } from "../core/address.ts";
import { CdfsError } from "../core/errors.ts";
import { describeOsError } from "../format/os_error.ts";
import { listenNode, type NodeListener, type TlsServerConfig } from "../protocol/tls.ts";

/**
 * Binds a TCP listener, or a TLS one.
 *
 * @example
 * ```ts
 * import { bindListener } from "./listen.ts";
 * const listener = bindListener("127.0.0.1", 0);
 * console.log((listener.addr as Deno.NetAddr).port > 0); // true
 * listener.close();
 * ```
 *
 * @param hostname The address to listen on.
 * @param port The port (0: a free one).
 * @param option The option that named the address, for the message (none for `--listen`).
 * @param tls The certificate and key of a TLS listener (`--tls-cert`, `--tls-key`).
 * @returns The listener.
 * @throws {CdfsError} `UNAVAILABLE` `[--option: ]cannot listen on HOST:PORT: why`.
 */
export function bindListener(
  hostname: string,
  port: number,
  option = "",
  tls?: TlsServerConfig,
): NodeListener {
  try {
    return listenNode({ hostname, port }, tls);
  } catch (e) {
    throw listenError(e, hostname, port, option);
  }
}

/**
 * A failure to bind as one line naming the address, after the option that named it (for any
 * but `--listen`).
 *
 * @example
 * ```ts
 * import { listenError } from "./listen.ts";
 * const error = listenError(new Deno.errors.AddrInUse("in use"), "127.0.0.1", 9100, "--metrics");
 * console.log(error.message.startsWith("--metrics: cannot listen on 127.0.0.1:9100: ")); // true
 * ```
 *
 * @param error What binding threw.
 * @param hostname The address.
 * @param port The port.
 * @param option The option that named the address, or "".
 * @returns The error to throw.
 */
export function listenError(
  error: unknown,
  hostname: string,
  port: number,
  option = "",
): CdfsError {
  const address = formatNodeAddress({ hostname, port });
  return new CdfsError(
    "UNAVAILABLE",
    `${option === "" ? "" : `${option}: `}cannot listen on ${address}: ${describeOsError(error)}`,
    { cause: error },
  );
}
