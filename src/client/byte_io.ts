/**
 * The byte sources and sinks the client moves blocks between: anything with `read(view)` (a
 * `Deno.FsFile`, `Deno.stdin`, a socket) or `write(view)` (a file, `Deno.stdout`), plus
 * adapters for async iterables of chunks.
 *
 * @module
 */

/**
 * A source read into a caller's buffer: `Deno.FsFile`, `Deno.stdin`, `Deno.Conn`.
 *
 * @example
 * ```ts
 * import type { ByteReader } from "./byte_io.ts";
 * const reader: ByteReader = Deno.stdin;
 * ```
 */
export interface ByteReader {
  /** Reads up to `view.length` bytes into `view`; null at the end. */
  read(view: Uint8Array): Promise<number | null>;
}

/**
 * A sink that may accept fewer bytes than offered: `Deno.FsFile`, `Deno.stdout`.
 *
 * @example
 * ```ts
 * import type { ByteWriter } from "./byte_io.ts";
 * const writer: ByteWriter = Deno.stdout;
 * ```
 */
export interface ByteWriter {
  /** Writes some of `view` and returns how many bytes it took. */
  write(view: Uint8Array): Promise<number>;
}

/**
 * Tells a {@linkcode ByteReader} apart from an iterable of chunks.
 *
 * @example
 * ```ts
 * import { isByteReader } from "./byte_io.ts";
 * console.log(isByteReader(Deno.stdin), isByteReader([new Uint8Array(1)])); // true false
 * ```
 *
 * @param value A reader or an iterable.
 * @returns Whether it has a `read` method.
 */
export function isByteReader(value: unknown): value is ByteReader {
  return typeof value === "object" && value !== null &&
    typeof (value as { read?: unknown }).read === "function";
}

/**
 * Writes every byte of `bytes`, calling `write` until the sink took them all.
 *
 * @example
 * ```ts
 * import { writeFully } from "./byte_io.ts";
 * await writeFully(Deno.stdout, new TextEncoder().encode("hello\n"));
 * ```
 *
 * @param writer The sink.
 * @param bytes What to write (a view on WebAssembly memory works).
 */
export async function writeFully(writer: ByteWriter, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await writer.write(bytes.subarray(written));
}

/**
 * Adapts an iterable of chunks of any sizes (empty ones included) to a {@linkcode ByteReader},
 * so that it can be cut into canonical chunks like a file. Each byte is copied once, into the
 * reader's buffer; a chunk must stay unchanged until the reader has asked for the next one.
 *
 * @example
 * ```ts
 * import { iterableReader } from "./byte_io.ts";
 * const reader = iterableReader([new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
 * const view = new Uint8Array(2);
 * console.log(await reader.read(view), view); // 2 Uint8Array(2) [ 1, 2 ]
 * ```
 *
 * @param chunks The chunks, sync or async.
 * @returns A reader over their concatenation.
 */
export function iterableReader(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): ByteReader {
  const iterator = Symbol.asyncIterator in chunks
    ? chunks[Symbol.asyncIterator]()
    : chunks[Symbol.iterator]();
  let current: Uint8Array = new Uint8Array(0);
  let at = 0;
  let ended = false;
  return {
    async read(view) {
      while (at === current.length) {
        if (ended) return null;
        const next = await iterator.next();
        if (next.done) {
          ended = true;
          return null;
        }
        current = next.value;
        at = 0;
      }
      const n = Math.min(view.length, current.length - at);
      view.set(current.subarray(at, at + n));
      at += n;
      return n;
    },
  };
}
