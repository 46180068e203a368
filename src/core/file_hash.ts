/**
 * The SHA-256 of a local file, streamed a buffer at a time (a file may be larger than memory).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { CdfsError } from "./errors.ts";

/** How many bytes of the file are read at a time. */
const HASH_BUFFER_SIZE = 1 << 20;

/**
 * The SHA-256 of a file, streamed.
 *
 * @example
 * ```ts
 * import { hashFile } from "./file_hash.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "abc");
 * console.log(await hashFile(path));
 * // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @returns 64 lowercase hex digits.
 * @throws {CdfsError} NOT_FOUND or UNAVAILABLE naming the file when it cannot be opened.
 */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await openForHash(path);
  const buffer = new Uint8Array(HASH_BUFFER_SIZE);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return hash.digest("hex");
    hash.update(buffer.subarray(0, n));
  }
}

async function openForHash(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/ \(os error \d+\).*$/, "") : "";
    const code = error instanceof Deno.errors.NotFound ? "NOT_FOUND" : "UNAVAILABLE";
    throw new CdfsError(code, `cannot read ${path}: ${reason}`, { cause: error });
  }
}
