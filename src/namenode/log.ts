/**
 * Structured log records of a namenode: one JSON object per decision (a datanode registered,
 * was marked dead, came back; a file was created, committed, aborted, deleted, expired; a block
 * was moved, added or dropped; a report said copies are missing), per failed request, and per
 * server event (listening, stopped, an unexpected error). The namenode never writes anywhere
 * itself: it hands records to a {@linkcode NameNodeLogSink} its owner wires to a file or to
 * standard error (the shape of the datanode's `LogSink`, so `jsonLineSink` of
 * `src/datanode/log.ts`-style sinks work alike).
 *
 * @module
 */

/**
 * A value a log record may carry.
 *
 * @example
 * ```ts
 * import type { LogValue } from "./log.ts";
 * const values: LogValue[] = ["dn3", 7, true, null, ["f7.part0"]];
 * ```
 */
export type LogValue = string | number | boolean | null | readonly string[];

/**
 * One namenode log record: when, which namenode, what happened, and the details of the
 * decision.
 *
 * @example
 * ```ts
 * import type { NameNodeLogRecord } from "./log.ts";
 * const record: NameNodeLogRecord = {
 *   time: "2026-01-01T00:00:00.000Z",
 *   namenode: "nn1",
 *   event: "datanode-dead",
 *   node: "dn3",
 *   silentMs: 31000,
 * };
 * ```
 */
export interface NameNodeLogRecord {
  /** When, ISO-8601. */
  readonly time: string;
  /** The namenode's id. */
  readonly namenode: string;
  /**
   * What happened, a short fixed word: `listening`, `stopped`, `error`, `request-failed`,
   * `datanode-registered`, `datanode-alive-again`, `datanode-dead`, `blocks-missing`,
   * `file-created`, `file-committed`, `file-aborted`, `file-deleted`, `file-expired`,
   * `blocks-added`, `blocks-dropped`, `block-moved`, `http-listening` (the status page); and
   * from the repair loop of `namenode serve` (`src/client/files/auto_repair.ts`):
   * `repair-queued`, `repair-started`, `repair-finished`, `repair-failed`, `gc-removed`.
   */
  readonly event: string;
  /** The details. */
  readonly [detail: string]: LogValue | undefined;
}

/**
 * Where records go. Called synchronously; it must be quick and must not throw (a sink that
 * throws is ignored).
 *
 * @example
 * ```ts
 * import type { NameNodeLogRecord, NameNodeLogSink } from "./log.ts";
 * const records: NameNodeLogRecord[] = [];
 * const sink: NameNodeLogSink = (record) => records.push(record);
 * ```
 */
export type NameNodeLogSink = (record: NameNodeLogRecord) => void;

/**
 * A sink that drops everything (the default).
 *
 * @example
 * ```ts
 * import { discardNameNodeLog } from "./log.ts";
 * discardNameNodeLog({ time: new Date().toISOString(), namenode: "nn1", event: "stopped" });
 * ```
 *
 * @param _record Ignored.
 */
export function discardNameNodeLog(_record: NameNodeLogRecord): void {}

/**
 * A sink writing each record as one JSON line through `write`; errors of `write` are
 * swallowed (losing a log line must not fail a request).
 *
 * @example
 * ```ts
 * import { nameNodeJsonLineSink } from "./log.ts";
 * const lines: string[] = [];
 * const sink = nameNodeJsonLineSink((text) => lines.push(text));
 * sink({ time: new Date().toISOString(), namenode: "nn1", event: "listening" });
 * console.log(lines[0]?.endsWith("\n")); // true
 * ```
 *
 * @param write Writes a piece of text.
 * @returns The sink.
 */
export function nameNodeJsonLineSink(write: (text: string) => void): NameNodeLogSink {
  return (record) => {
    try {
      write(JSON.stringify(record) + "\n");
    } catch {
      // A full disk or a closed stderr: the decision itself stands.
    }
  };
}

/**
 * A sink that hands records to `sink` a moment later, all of one turn of the event loop at
 * once (at `setImmediate`), so that formatting and writing log lines happens after the
 * replies of that turn are on their way, not before them. `flush` hands over what waits at
 * once: call it before closing what `sink` writes to. A process killed with SIGKILL loses the
 * lines of its last turn.
 *
 * @example
 * ```ts
 * import { deferredSink, type NameNodeLogRecord } from "./log.ts";
 * const seen: NameNodeLogRecord[] = [];
 * const log = deferredSink((record) => seen.push(record));
 * log.sink({ time: "2026-01-01T00:00:00.000Z", namenode: "nn1", event: "listening" });
 * console.log(seen.length); // 0
 * log.flush();
 * console.log(seen.length); // 1
 * ```
 *
 * @param sink Where the records go.
 * @returns The deferring sink and its flush.
 */
export function deferredSink(
  sink: NameNodeLogSink,
): { sink: NameNodeLogSink; flush(): void } {
  let waiting: NameNodeLogRecord[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const records = waiting;
    waiting = [];
    for (const record of records) {
      try {
        sink(record);
      } catch {
        // As any sink: a lost log line must not break serving.
      }
    }
  };
  return {
    sink(record) {
      waiting.push(record);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/**
 * A record as one line of text for people: time, event, then `key=value` details (strings
 * bare when they hold no space or quote, else JSON-quoted).
 *
 * @example
 * ```ts
 * import { nameNodeTextLine } from "./log.ts";
 * console.log(nameNodeTextLine({ time: "2026-01-01T00:00:00.000Z", namenode: "nn1", event: "datanode-dead", node: "dn3", silentMs: 31000 }));
 * // "2026-01-01T00:00:00.000Z nn1 datanode-dead node=dn3 silentMs=31000"
 * ```
 *
 * @param record The record.
 * @returns The line, without its newline.
 */
export function nameNodeTextLine(record: NameNodeLogRecord): string {
  const details = Object.entries(record)
    .filter(([key, value]) =>
      key !== "time" && key !== "namenode" && key !== "event" && value !== undefined
    )
    .map(([key, value]) =>
      `${key}=${
        typeof value === "string" && /^[\x21-\x7e]+$/.test(value) && !/["\\]/.test(value)
          ? value
          : JSON.stringify(value)
      }`
    );
  return [record.time, record.namenode, record.event, ...details].join(" ");
}

/**
 * Emits records stamped with the time and the namenode's id; a sink that throws is ignored.
 *
 * @example
 * ```ts
 * import { DecisionLog } from "./log.ts";
 * const log = new DecisionLog("nn1", (r) => console.log(r.event));
 * log.emit("file-committed", { fileId: 7, name: "a.bin" }); // file-committed
 * ```
 */
export class DecisionLog {
  readonly #namenode: string;
  readonly #sink: NameNodeLogSink;

  /**
   * A log of one namenode's decisions.
   *
   * @param namenode The namenode's id.
   * @param sink Where records go.
   */
  constructor(namenode: string, sink: NameNodeLogSink = discardNameNodeLog) {
    this.#namenode = namenode;
    this.#sink = sink;
  }

  /**
   * Emits one record.
   *
   * @param event What happened.
   * @param details The details.
   */
  emit(event: string, details: Record<string, LogValue | undefined> = {}): void {
    try {
      this.#sink({ time: new Date().toISOString(), namenode: this.#namenode, event, ...details });
    } catch {
      // A broken sink must not break serving.
    }
  }
}
