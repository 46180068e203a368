/**
 * {@linkcode OrderedFileDigest}: the SHA-256 of a file that is written several parts at once,
 * each part at its own offset, computed in file order while the parts are still arriving, so
 * that the digest is ready about when the last byte lands instead of one more pass over the
 * finished file (a `get` of 256 MiB spent a third of its time in that pass).
 *
 * SHA-256 is sequential: part j can only be hashed after parts 0..j−1. The bytes of the part at
 * the head, arriving right where the hash stands, are hashed from memory as they come
 * ({@linkcode OrderedFileDigest.offer}, while the file write of the same bytes runs on another
 * thread); the bytes of a part that arrives ahead of its turn wait in the file (in the page
 * cache), not in memory, and are read back in order once their turn comes, up to what has been
 * written. What is left when the last byte lands is what lay behind the slowest part: with
 * every part read at once, parts finish close together and that is most of the file, but it is
 * hashed while the finished file is synced (`finishFile`), which takes about as long, instead of
 * after it.
 *
 * A part written again from its start (its copy failed part-way and another copy is read)
 * after some of its bytes were hashed spoils the running hash: {@linkcode
 * OrderedFileDigest.digest} then hashes the whole finished file, as before. The digest is of
 * the bytes in the file, read back after they were written: a damaged part still shows up as a
 * digest that differs from the record's.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { hashFile } from "../../core/file_hash.ts";
import { openFile } from "./local_file.ts";

/** Bytes read back and hashed per step. */
const STEP = 1 << 20;

/**
 * The bytes of each part that hold the file (the last part's padding left out): what
 * a read of its parts writes of each, in order.
 *
 * @example
 * ```ts
 * import { partSpans } from "./ordered_digest.ts";
 * console.log(partSpans(10, 4)); // [ 4, 4, 2 ]
 * ```
 *
 * @param length The file's length.
 * @param partLength The length of each part.
 * @returns One length per part that holds any of the file.
 */
export function partSpans(length: number, partLength: number): number[] {
  const k = partLength === 0 ? 0 : Math.ceil(length / partLength);
  return Array.from({ length: k }, (_, j) => Math.min(partLength, length - j * partLength));
}

/**
 * The running SHA-256 of a file written part by part. Offer it each piece of a part as it
 * arrives ({@linkcode OrderedFileDigest.offer}, optional) and tell it how much of each part is
 * in the file ({@linkcode OrderedFileDigest.written}), then ask for the digest once every part
 * is.
 *
 * @example
 * ```ts
 * import { OrderedFileDigest } from "./ordered_digest.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array(10));
 * const digest = new OrderedFileDigest(path, [4, 4, 2]);
 * // The parts as they land, in any order:
 * digest.written(2, 2);
 * digest.written(0, 4);
 * digest.written(1, 4);
 * console.log((await digest.digest()).length); // 64
 * await Deno.remove(path);
 * ```
 */
export class OrderedFileDigest {
  readonly #path: string;
  readonly #starts: number[];
  readonly #lengths: readonly number[];
  readonly #written: number[];
  readonly #hash: Hash = createHash("sha256");
  /** The part being hashed. */
  #head = 0;
  /** Bytes of the file hashed so far (from its start). */
  #hashed = 0;
  /** Bytes of the file hashed or being read to be hashed. */
  #claimed = 0;
  /** Bytes hashed from memory as they were offered (the rest was read back). */
  #offered = 0;
  #spoiled = false;
  #closed = false;
  #wake: (() => void) | null = null;
  readonly #loop: Promise<void>;

  /**
   * Starts following a file. Its parts lie one after another from byte 0: part j starts at the
   * sum of the lengths before it.
   *
   * @param path The file (it exists; the parts are written into it by others).
   * @param lengths The length of each part, in file order.
   */
  constructor(path: string, lengths: readonly number[]) {
    this.#path = path;
    this.#lengths = lengths;
    this.#written = lengths.map(() => 0);
    this.#starts = [];
    let at = 0;
    for (const length of lengths) {
      this.#starts.push(at);
      at += length;
    }
    this.#loop = this.#run();
    // Its failure is reported by digest(); nothing may go unhandled before that.
    this.#loop.catch(() => {});
  }

  /** Bytes hashed so far (while the parts arrive: tests, benchmarks). */
  get hashedSoFar(): number {
    return this.#hashed;
  }

  /** Of those, the bytes hashed from memory as they were offered, not read back. */
  get hashedAsOffered(): number {
    return this.#offered;
  }

  /**
   * Offers a piece of a part as it arrives, before (or while) it is written: hashed at once,
   * from memory, when it is next in the file (the head part, right where the hash stands) and
   * no bytes are being read back; else left to be read back from the file once written. Say
   * {@linkcode OrderedFileDigest.written} once it is in the file, either way.
   *
   * @param part The part's index.
   * @param offset Where the piece starts in the part.
   * @param bytes The piece (only read, during the call).
   */
  offer(part: number, offset: number, bytes: Uint8Array): void {
    this.#advance();
    if (this.#closed || this.#spoiled || part !== this.#head) return;
    if (this.#claimed !== this.#hashed || this.#starts[part]! + offset !== this.#hashed) return;
    const n = Math.min(bytes.length, this.#lengths[part]! - offset);
    if (n <= 0) return;
    this.#hash.update(n === bytes.length ? bytes : bytes.subarray(0, n));
    this.#hashed += n;
    this.#claimed = this.#hashed;
    this.#offered += n;
  }

  /** Whether a part was written again after it was partly hashed (the digest rehashes all). */
  get spoiled(): boolean {
    return this.#spoiled;
  }

  /**
   * Says that the first `bytes` bytes of a part are in the file (written, not only received).
   * Counts only grow within one copy's attempt; see {@linkcode OrderedFileDigest.restart}.
   *
   * @param part The part's index.
   * @param bytes How many of its bytes, from its start.
   */
  written(part: number, bytes: number): void {
    if (bytes <= this.#written[part]!) return;
    this.#written[part] = Math.min(bytes, this.#lengths[part]!);
    if (part === this.#head) this.#wake?.();
  }

  /**
   * Says that a part will be written again from its start (another copy of it is read): what
   * was said written of it no longer counts, and if any of it was hashed the running hash is
   * given up for one pass over the finished file.
   *
   * @param part The part's index.
   */
  restart(part: number): void {
    if (part < this.#head || (part === this.#head && this.#claimed > this.#starts[part]!)) {
      this.#spoiled = true;
      this.#wake?.();
    }
    this.#written[part] = 0;
  }

  /**
   * The SHA-256 of the file, once every part is written whole (call it after the writes are
   * done): what is left to hash is hashed now; after a {@linkcode OrderedFileDigest.restart}
   * that spoiled the running hash, the whole file is.
   *
   * @returns 64 lowercase hex digits.
   * @throws {CdfsError} NOT_FOUND or UNAVAILABLE when the file cannot be read; `Error` when a
   * part was not said to be written whole.
   */
  async digest(): Promise<string> {
    const missing = this.#written.findIndex((w, j) => w < this.#lengths[j]!);
    if (missing >= 0 && !this.#spoiled) {
      this.close();
      throw new Error(`part ${missing} of ${this.#path} is not written whole`);
    }
    await this.#loop;
    if (this.#spoiled) return await hashFile(this.#path);
    return this.#hash.digest("hex");
  }

  /** Stops following the file (a read that failed): the hashing loop ends. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** Reads the file back in order, as far as it is written, and hashes it. */
  async #run(): Promise<void> {
    // Nothing is opened before the first byte is there to hash.
    await this.#waitForHead();
    if (this.#closed || this.#spoiled) return;
    using file = await openFile(this.#path);
    const buffer = new Uint8Array(STEP);
    // Where the file's position is (offered bytes move the hash on without reading).
    let position = 0;
    while (!this.#closed && !this.#spoiled && this.#head < this.#lengths.length) {
      const head = this.#head;
      const end = this.#starts[head]! + this.#written[head]!;
      if (this.#hashed < end) {
        const want = Math.min(STEP, end - this.#hashed);
        this.#claimed = this.#hashed + want;
        if (position !== this.#hashed) {
          position = this.#hashed;
          await file.seek(position, Deno.SeekMode.Start);
        }
        const n = await file.read(buffer.subarray(0, want));
        if (n === null) throw new Error(`${this.#path} ended at byte ${this.#hashed}`);
        // A restart during the read spoiled the hash: those bytes may be the old copy's.
        if (this.#spoiled) return;
        this.#hash.update(buffer.subarray(0, n));
        this.#hashed += n;
        this.#claimed = this.#hashed;
        position = this.#hashed;
      } else if (this.#written[head] === this.#lengths[head]) {
        this.#advance();
      } else {
        await this.#waitForHead();
      }
    }
  }

  /** Moves the head past the parts written and hashed whole. */
  #advance(): void {
    while (
      this.#head < this.#lengths.length &&
      this.#written[this.#head] === this.#lengths[this.#head] &&
      this.#hashed === this.#starts[this.#head]! + this.#lengths[this.#head]!
    ) {
      this.#head++;
    }
  }

  /** Waits until the head part has bytes not hashed yet, or is done, or this is closed. */
  #waitForHead(): Promise<void> {
    const ready = () =>
      this.#closed || this.#spoiled || this.#head >= this.#lengths.length ||
      this.#starts[this.#head]! + this.#written[this.#head]! > this.#hashed ||
      this.#written[this.#head] === this.#lengths[this.#head];
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = () => {
        if (!ready()) return;
        this.#wake = null;
        resolve();
      };
    });
  }
}
