/**
 * `TCP_NODELAY` for the connections a TLS listener accepts. Deno turns Nagle's algorithm off
 * only on plain TCP connections (`setNoDelay`); an accepted TLS connection has no such method
 * and keeps it on, so a node's small replies can wait for the peer's delayed acknowledgement:
 * measured, ~40 ms before the first reply on every new TLS connection (the node's preamble
 * waits behind its TLS 1.3 session tickets). Linux gives an accepted socket the listening
 * socket's `TCP_NODELAY`, so setting it once on the listener covers every connection: this
 * module finds the listener's descriptor among the process's open sockets (its inode, from
 * `/proc/net/tcp` and `/proc/net/tcp6`, matched against `/proc/self/fd`) and calls libc's
 * `setsockopt` through FFI. Elsewhere, or without `--allow-ffi` and `--allow-read`, it says why
 * it could not, and the node works as before, only slower to answer a new TLS connection.
 *
 * @module
 */
import { libc } from "../core/libc.ts";

/** `IPPROTO_TCP` and `TCP_NODELAY` of Linux. */
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
/** The state column of `/proc/net/tcp` for a listening socket. */
const TCP_LISTEN = "0A";

/**
 * Which TCP sockets to look for: listening on `port`, or connected from `port` to a peer's
 * `remotePort`.
 *
 * @example
 * ```ts
 * import type { SocketMatch } from "./listener_nodelay.ts";
 * const listening: SocketMatch = { port: 13100 };
 * const accepted: SocketMatch = { port: 13100, remotePort: 51234 };
 * ```
 */
export interface SocketMatch {
  /** The local port. */
  readonly port: number;
  /** The peer's port of a connected socket; absent: the listening socket. */
  readonly remotePort?: number;
}

/**
 * The descriptors of this process's TCP sockets (IPv4 and IPv6) that match, found through
 * `/proc` (Linux).
 *
 * @example
 * ```ts
 * import { socketDescriptors } from "./listener_nodelay.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(socketDescriptors({ port: listener.addr.port }).length); // 1
 * listener.close();
 * ```
 *
 * @param match The local port, and the peer's port for a connected socket.
 * @returns The descriptors (empty when none match).
 * @throws When `/proc` cannot be read (not Linux, or no `--allow-read`).
 */
export function socketDescriptors(match: SocketMatch): number[] {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(table);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // no IPv6
      throw e;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const [, local, remote, state] = fields;
      if (portOf(local!) !== match.port) continue;
      const wanted = match.remotePort === undefined
        ? state === TCP_LISTEN
        : state !== TCP_LISTEN && portOf(remote!) === match.remotePort;
      if (wanted) inodes.add(fields[9]!);
    }
  }
  const descriptors: number[] = [];
  if (inodes.size === 0) return descriptors;
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/self/fd/${entry.name}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) descriptors.push(Number(entry.name));
  }
  return descriptors;
}

/** The port of an `ADDRESS:PORT` column of `/proc/net/tcp` (hexadecimal). */
function portOf(column: string): number {
  return parseInt(column.slice(column.lastIndexOf(":") + 1), 16);
}

/**
 * Turns Nagle's algorithm off on this process's listening socket on `port`, so that every
 * connection it accepts has `TCP_NODELAY` (Linux copies it to accepted sockets). Meant for a
 * TLS listener, whose connections offer no `setNoDelay`.
 *
 * @example
 * ```ts
 * import { setListenerNoDelay } from "./listener_nodelay.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(setListenerNoDelay(listener.addr.port)); // null
 * listener.close();
 * ```
 *
 * @param port The listener's port.
 * @returns Null when done, else why it could not be (one line).
 */
export function setListenerNoDelay(port: number): string | null {
  if (Deno.build.os !== "linux") return `TCP_NODELAY on a listener is set on Linux only`;
  try {
    const descriptors = socketDescriptors({ port });
    if (descriptors.length === 0) return `no listening socket of this process on port ${port}`;
    const { setsockopt } = libc();
    const one = new Int32Array([1]);
    for (const fd of descriptors) {
      if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4) !== 0) {
        return `setsockopt(TCP_NODELAY) failed on descriptor ${fd}`;
      }
    }
    return null;
  } catch (e) {
    return `cannot set TCP_NODELAY: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`;
  }
}

/**
 * Whether a socket of this process has `TCP_NODELAY` (for tests and diagnostics).
 *
 * @example
 * ```ts
 * import { hasNoDelay, socketDescriptors } from "./listener_nodelay.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(hasNoDelay(socketDescriptors({ port: listener.addr.port })[0]!)); // false
 * listener.close();
 * ```
 *
 * @param fd The socket's descriptor.
 * @returns Whether Nagle's algorithm is off on it.
 * @throws When libc cannot be opened (no `--allow-ffi`) or the call fails.
 */
export function hasNoDelay(fd: number): boolean {
  const { getsockopt } = libc();
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, value, length) !== 0) {
    throw new Error(`getsockopt(TCP_NODELAY) failed on descriptor ${fd}`);
  }
  return value[0] !== 0;
}
