/**
 * Structured log records of a datanode: one JSON object per request, plus a few events
 * (listening, shutdown, unexpected errors). The server never writes anywhere itself: it hands
 * records to a {@linkcode LogSink} that its owner (the `datanode serve` command) wires to a
 * file or to standard error.
 *
 * @module
 */
import type { ErrorCode } from "../core/errors.ts";

/**
 * The record of one request (or of a connection that broke before a request was read).
 *
 * @example
 * ```ts
 * import type { RequestLogRecord } from "./log.ts";
 * const record: RequestLogRecord = {
 *   time: "2025-06-01T12:00:00.000Z",
 *   node: "dn1",
 *   peer: "127.0.0.1:50312",
 *   op: "STORE",
 *   block: "b1",
 *   bytes: 1048576,
 *   ms: 3.1,
 *   result: "ok",
 * };
 * ```
 */
export interface RequestLogRecord {
  /** When the request ended, ISO-8601. */
  time: string;
  /** The node id. */
  node: string;
  /** The client's address, `host:port`. */
  peer: string;
  /**
   * The op of the request, or null when no request could be read (a bad preamble, a broken
   * frame, a timeout while waiting for the request).
   */
  op: string | null;
  /** The block the request named, when it named a valid one. */
  block?: string;
  /** Data bytes moved: received for STORE, sent for RETRIEVE, 0 otherwise. */
  bytes: number;
  /** How long the request took, in milliseconds (from its first byte to its last). */
  ms: number;
  /** `"ok"` or the code of the error the request ended with. */
  result: "ok" | ErrorCode;
  /** The error message, when the request failed. */
  message?: string;
  /** The stack of an unexpected exception (never sent to the client). */
  stack?: string;
}

/**
 * A record of something that is not a request: the node started, is stopping, stopped, or
 * met an unexpected error outside any request.
 *
 * @example
 * ```ts
 * import type { EventLogRecord } from "./log.ts";
 * const record: EventLogRecord = {
 *   time: "2025-06-01T12:00:00.000Z",
 *   node: "dn1",
 *   event: "listening",
 *   message: "127.0.0.1:13100",
 * };
 * ```
 */
export interface EventLogRecord {
  /** When it happened, ISO-8601. */
  time: string;
  /** The node id. */
  node: string;
  /**
   * What happened, a short fixed word: `listening`, `shutdown`, `stopped`, `error`, `busy`,
   * `recovered`, `peer-unreachable`, `block-corrupt` (a read or the scrub found a block's
   * bytes not matching its checksums and quarantined it: `block`, and `chunk` and `offset`
   * when one chunk was bad), `gf-backend` (at start: the GF(2^8) kernels used, and why when
   * `auto` did not pick ISA-L), ...
   */
  event: string;
  /** Details for a person. */
  message?: string;
  /** The block it is about (`block-corrupt`). */
  block?: string;
  /** The chunk of that block it is about (`block-corrupt`). */
  chunk?: number;
  /** That chunk's offset in the block, in bytes (`block-corrupt`). */
  offset?: number;
  /** The stack of an unexpected exception. */
  stack?: string;
}

/**
 * Any datanode log record.
 *
 * @example
 * ```ts
 * import type { LogRecord } from "./log.ts";
 * function isRequest(r: LogRecord): boolean {
 *   return "op" in r;
 * }
 * ```
 */
export type LogRecord = RequestLogRecord | EventLogRecord;

/**
 * Where log records go. Called synchronously on the server's hot path, so it must be quick
 * and must not throw (a sink that throws is ignored by the server).
 *
 * @example
 * ```ts
 * import type { LogRecord, LogSink } from "./log.ts";
 * const records: LogRecord[] = [];
 * const sink: LogSink = (record) => records.push(record);
 * ```
 */
export type LogSink = (record: LogRecord) => void;

/**
 * A sink that drops everything (the default of a server given none).
 *
 * @example
 * ```ts
 * import { discardLog } from "./log.ts";
 * discardLog({ time: new Date().toISOString(), node: "dn1", event: "stopped" });
 * ```
 *
 * @param _record Ignored.
 */
export function discardLog(_record: LogRecord): void {}

/**
 * Formats a record as one JSON line (with the trailing newline), the on-disk log format.
 *
 * @example
 * ```ts
 * import { formatLogLine } from "./log.ts";
 * const line = formatLogLine({ time: "2025-06-01T12:00:00.000Z", node: "dn1", event: "stopped" });
 * console.log(line); // {"time":"2025-06-01T12:00:00.000Z","node":"dn1","event":"stopped"}\n
 * ```
 *
 * @param record The record.
 * @returns One line of JSON ending in `\n`.
 */
export function formatLogLine(record: LogRecord): string {
  return JSON.stringify(record) + "\n";
}

/**
 * A sink that writes each record as a JSON line through `write` (e.g. a terminal context's
 * stderr, or a file's synchronous write). Errors of `write` are swallowed: losing a log line
 * must not take a request down with it.
 *
 * @example
 * ```ts
 * import { jsonLineSink } from "./log.ts";
 * const lines: string[] = [];
 * const sink = jsonLineSink((text) => lines.push(text));
 * sink({ time: new Date().toISOString(), node: "dn1", event: "listening" });
 * console.log(lines.length); // 1
 * ```
 *
 * @param write Writes a piece of text.
 * @returns The sink.
 */
export function jsonLineSink(write: (text: string) => void): LogSink {
  return (record) => {
    try {
      write(formatLogLine(record));
    } catch {
      // A full disk or a closed stderr: the request itself still succeeded or failed on its own.
    }
  };
}
