/**
 * The data stream of a full block report: one ASCII line `BLOCK_ID LENGTH\n` per block, cut
 * into DATA frames like any stream (docs/protocol.md §2.2), so a report of 100 000 blocks is
 * not bound by the 64 KiB of a REQUEST frame and is checksummed frame by frame. Lines may span
 * frames; the parser keeps at most one partial line.
 *
 * @module
 */
import { isValidBlockId } from "../core/block_id.ts";
import { quoteForMessage } from "../core/quote.ts";
import { CdfsError } from "../core/errors.ts";
import type { OutgoingChunk } from "../protocol/stream.ts";
import type { ReportedBlockEntry } from "./meta/model.ts";
import { MAX_REPORT_LINE } from "./requests.ts";

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
const SPACE = 0x20;

/**
 * The lines of a report, and their total length.
 *
 * @example
 * ```ts
 * import { encodeReport } from "./report_stream.ts";
 * const report = encodeReport([{ blockId: "f1.part0", length: 10 }]);
 * console.log(report.length, report.count); // 12 1
 * ```
 *
 * @param entries The blocks.
 * @returns The encoded lines, their count and total length.
 */
export function encodeReport(
  entries: readonly ReportedBlockEntry[],
): { readonly lines: readonly Uint8Array[]; readonly count: number; readonly length: number } {
  const lines = entries.map((e) => encoder.encode(`${e.blockId} ${e.length}\n`));
  return { lines, count: lines.length, length: lines.reduce((sum, l) => sum + l.length, 0) };
}

/**
 * Cuts encoded lines into canonical chunks of `chunkSize` bytes (the last may be shorter),
 * reusing one buffer: each chunk is valid until the next is asked for, as `sendChunks` wants.
 *
 * @example
 * ```ts
 * import { encodeReport, reportChunks } from "./report_stream.ts";
 * const { lines } = encodeReport([{ blockId: "f1.part0", length: 10 }]);
 * console.log([...reportChunks(lines, 4096)].length); // 1
 * ```
 *
 * @param lines The encoded lines.
 * @param chunkSize The chunk size.
 * @returns The chunks.
 */
export function* reportChunks(
  lines: readonly Uint8Array[],
  chunkSize: number,
): Generator<OutgoingChunk, void, undefined> {
  const buffer = new Uint8Array(chunkSize);
  let filled = 0;
  for (const line of lines) {
    let from = 0;
    while (from < line.length) {
      const n = Math.min(line.length - from, chunkSize - filled);
      buffer.set(line.subarray(from, from + n), filled);
      filled += n;
      from += n;
      if (filled === chunkSize) {
        yield { bytes: buffer };
        filled = 0;
      }
    }
  }
  if (filled > 0) yield { bytes: buffer.subarray(0, filled) };
}

/**
 * Parses a report's stream as its chunks arrive, holding at most one partial line.
 *
 * @example
 * ```ts
 * import { ReportParser } from "./report_stream.ts";
 * const parser = new ReportParser(2);
 * parser.push(new TextEncoder().encode("a 1\nb"));
 * parser.push(new TextEncoder().encode(" 2\n"));
 * console.log(parser.finish()); // [{ blockId: "a", length: 1 }, { blockId: "b", length: 2 }]
 * ```
 */
export class ReportParser {
  readonly #expected: number;
  readonly #entries: ReportedBlockEntry[] = [];
  readonly #partial = new Uint8Array(MAX_REPORT_LINE);
  #partialLength = 0;

  /**
   * A parser that expects `count` lines.
   *
   * @param count The number of lines the request announced.
   */
  constructor(count: number) {
    this.#expected = count;
  }

  /**
   * Takes the next chunk of the stream.
   *
   * @param bytes The chunk (read only during the call).
   * @throws {CdfsError} `BAD_REQUEST` for a malformed line, one too long, or more lines than
   * announced.
   */
  push(bytes: Uint8Array): void {
    let start = 0;
    while (start < bytes.length) {
      const end = bytes.indexOf(NEWLINE, start);
      const stop = end < 0 ? bytes.length : end;
      const piece = bytes.subarray(start, stop);
      if (this.#partialLength + piece.length >= MAX_REPORT_LINE) {
        throw new CdfsError(
          "BAD_REQUEST",
          `full report line ${this.#entries.length + 1} is longer than ${
            MAX_REPORT_LINE - 1
          } bytes`,
        );
      }
      this.#partial.set(piece, this.#partialLength);
      this.#partialLength += piece.length;
      if (end < 0) return;
      this.#line(this.#partial.subarray(0, this.#partialLength));
      this.#partialLength = 0;
      start = end + 1;
    }
  }

  /**
   * Ends the stream.
   *
   * @returns The entries, in stream order.
   * @throws {CdfsError} `BAD_REQUEST` for a last line without a newline or fewer lines than
   * announced.
   */
  finish(): ReportedBlockEntry[] {
    if (this.#partialLength > 0) {
      throw new CdfsError("BAD_REQUEST", "full report ends in the middle of a line");
    }
    if (this.#entries.length !== this.#expected) {
      throw new CdfsError(
        "BAD_REQUEST",
        `full report has ${this.#entries.length} lines, the request announced ${this.#expected}`,
      );
    }
    return this.#entries;
  }

  #line(line: Uint8Array): void {
    const number = this.#entries.length + 1;
    if (number > this.#expected) {
      throw new CdfsError(
        "BAD_REQUEST",
        `full report has more lines than the ${this.#expected} announced`,
      );
    }
    const space = line.indexOf(SPACE);
    // Block ids and lengths are ASCII: a byte is a character.
    const text = String.fromCharCode(...line);
    const blockId = text.slice(0, space);
    const digits = text.slice(space + 1);
    if (space <= 0 || !isValidBlockId(blockId) || !/^(0|[1-9][0-9]{0,15})$/.test(digits)) {
      throw new CdfsError(
        "BAD_REQUEST",
        `full report line ${number} ${quoteForMessage(text)} is not "BLOCK_ID LENGTH"`,
      );
    }
    const length = Number(digits);
    if (!Number.isSafeInteger(length)) {
      throw new CdfsError(
        "BAD_REQUEST",
        `full report line ${number}: length ${digits} is too large`,
      );
    }
    this.#entries.push({ blockId, length });
  }
}
