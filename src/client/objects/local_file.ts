/**
 * Local file helpers of the object operations and the file reads of `files/`: open, stat and
 * hash a file, finish a file written out of order, copy a verified one to a writer, and name
 * the file in any failure.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";
import { hashFile } from "../../core/file_hash.ts";
import { type ByteWriter, writeFully } from "../byte_io.ts";
import type { OrderedFileDigest } from "./ordered_digest.ts";

/**
 * The buffer of local file reads (hashing, copying), 1 MiB.
 */
export const FILE_BUFFER_SIZE = 1 << 20;

/**
 * Stats a regular file.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { statFile } from "./local_file.ts";
 * console.log((await statFile("movie.mkv")).size);
 * ```
 *
 * @param path The file.
 * @returns Its info.
 * @throws {CdfsError} NOT_FOUND, UNAVAILABLE, BAD_REQUEST (not a regular file), naming it.
 */
export async function statFile(path: string): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw localError(error, path, "read");
  }
  if (!info.isFile) throw new CdfsError("BAD_REQUEST", `${path} is not a regular file`);
  return info;
}

/**
 * Opens a file for reading.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { openFile } from "./local_file.ts";
 * using file = await openFile("movie.mkv");
 * ```
 *
 * @param path The file.
 * @returns It, open.
 * @throws {CdfsError} NOT_FOUND or UNAVAILABLE naming the file.
 */
export async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (error) {
    throw localError(error, path, "read");
  }
}

/**
 * A failure on a local file, as a CdfsError that says which file.
 *
 * @example
 * ```ts
 * import { localError } from "./local_file.ts";
 * const e = localError(new Deno.errors.NotFound("No such file"), "a.bin", "read");
 * console.log(e.code, e.message); // NOT_FOUND cannot read a.bin: No such file
 * ```
 *
 * @param error What the file system threw.
 * @param path The file.
 * @param verb What was done ("read", "create", "write").
 * @returns The error to throw.
 */
export function localError(error: unknown, path: string, verb: string): CdfsError {
  if (error instanceof CdfsError) return error;
  const reason = error instanceof Error ? error.message.replace(/ \(os error \d+\).*$/, "") : "";
  const code = error instanceof Deno.errors.NotFound ? "NOT_FOUND" : "UNAVAILABLE";
  return new CdfsError(code, `cannot ${verb} ${path}: ${reason}`, { cause: error });
}

/**
 * Cuts a file written out of order (parts at their offsets) to its length, makes it durable
 * and hashes it (SHA-256): the last step before it is checked and renamed into place. Also
 * used by the file reads of `files/`. With a digest that followed the writes
 * ({@linkcode OrderedFileDigest}), its end is awaited (while the file is synced) instead of a
 * pass over the whole file.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { finishFile } from "./local_file.ts";
 * const sha256 = await finishFile(".movie.mkv.123.part", 1 << 20);
 * ```
 *
 * @param path The file.
 * @param length Its length.
 * @param digest The running digest of its parts, when one was kept.
 * @returns Its SHA-256, 64 lowercase hex digits.
 */
export async function finishFile(
  path: string,
  length: number,
  digest?: OrderedFileDigest,
): Promise<string> {
  using file = await Deno.open(path, { write: true });
  await file.truncate(length);
  if (digest === undefined) {
    await file.syncData();
    return await hashFile(path);
  }
  const [, sha256] = await Promise.all([file.syncData(), digest.digest()]);
  return sha256;
}

/**
 * Copies a (verified) local file to a writer: how a decoded object reaches standard output.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { copyFile } from "./local_file.ts";
 * await copyFile("/tmp/cdfs-decode-123", Deno.stdout);
 * ```
 *
 * @param path The file.
 * @param writer Where its bytes go.
 */
export async function copyFile(path: string, writer: ByteWriter): Promise<void> {
  using file = await openFile(path);
  const buffer = new Uint8Array(FILE_BUFFER_SIZE);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return;
    await writeFully(writer, buffer.subarray(0, n));
  }
}
