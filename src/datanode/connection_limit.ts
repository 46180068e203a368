/**
 * The default cap on a datanode's connections: below its file-descriptor limit, so that the
 * node always has descriptors left to refuse a connection with `BUSY` (instead of leaving it in
 * the listen backlog), and for its block files and its own connections to other nodes.
 *
 * @module
 */

/**
 * The cap when the descriptor limit cannot be read, and the most the default ever is.
 */
export const FALLBACK_MAX_CONNECTIONS = 1024;

/** Descriptors kept for the runtime, the listener, logs and connections being refused. */
const RESERVED_DESCRIPTORS = 96;

/**
 * The soft limit on open files of this process, from `/proc/self/limits` (Linux), or undefined
 * when that cannot be read or says "unlimited".
 *
 * @example
 * ```ts
 * import { openFileLimit } from "./connection_limit.ts";
 * const text = "Limit  Soft Limit  Hard Limit  Units\nMax open files  256  4096  files\n";
 * console.log(openFileLimit(text)); // 256
 * ```
 *
 * @param limits The text of `/proc/self/limits` (default: read it).
 * @returns The soft limit, or undefined.
 */
export function openFileLimit(limits?: string): number | undefined {
  let text = limits;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/proc/self/limits");
    } catch {
      return undefined;
    }
  }
  const match = /^Max open files\s+(\d+)\s/m.exec(text);
  if (match === null) return undefined;
  const soft = Number(match[1]);
  return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
}

/**
 * The default `--max-connections`: half of what the descriptor limit leaves after a reserve
 * (each connection may hold a block file besides its socket), at least 8, at most
 * {@linkcode FALLBACK_MAX_CONNECTIONS}, which is also the cap when the limit is unknown.
 *
 * @example
 * ```ts
 * import { defaultMaxConnections } from "./connection_limit.ts";
 * console.log(defaultMaxConnections(256)); // 80
 * ```
 *
 * @param limit The soft limit on open files (default: this process's, see
 * {@linkcode openFileLimit}).
 * @returns The cap.
 */
export function defaultMaxConnections(limit: number | undefined = openFileLimit()): number {
  if (limit === undefined) return FALLBACK_MAX_CONNECTIONS;
  const cap = Math.floor((limit - RESERVED_DESCRIPTORS) / 2);
  return Math.min(FALLBACK_MAX_CONNECTIONS, Math.max(8, cap));
}
