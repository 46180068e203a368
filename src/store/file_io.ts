/**
 * Whole-buffer reads and writes on `Deno.FsFile`, and directory fsync. The loops work on the
 * caller's own bytes (including views over a shared WebAssembly memory), so nothing is copied
 * or allocated per call.
 *
 * @module
 */

/**
 * Reads from the file's current position until `into` is full or the file ends.
 *
 * @example
 * ```ts
 * import { readFully } from "./file_io.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([1, 2, 3]));
 * using file = await Deno.open(path);
 * const into = new Uint8Array(8);
 * console.log(await readFully(file, into)); // 3
 * ```
 *
 * @param file An open file.
 * @param into Where the bytes go.
 * @returns How many bytes were read: `into.length` unless the file ended first.
 */
export async function readFully(file: Deno.FsFile, into: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < into.length) {
    const n = await file.read(filled === 0 ? into : into.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

/**
 * Writes all of `bytes` at the file's current position (`FsFile.write` may write less than
 * asked; this loops until everything is written).
 *
 * @example
 * ```ts
 * import { writeFully } from "./file_io.ts";
 * const path = await Deno.makeTempFile();
 * using file = await Deno.open(path, { write: true });
 * await writeFully(file, new TextEncoder().encode("hello"));
 * ```
 *
 * @param file A file open for writing.
 * @param bytes The bytes to write.
 */
export async function writeFully(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await file.write(written === 0 ? bytes : bytes.subarray(written));
  }
}

/**
 * Makes a directory's entries durable (fsync on the directory itself), so a file created,
 * renamed or removed in it survives a crash. Linux allows fsync on a directory opened
 * read-only; Deno's `FsFile.sync()` does exactly that (checked on this platform).
 *
 * @example
 * ```ts
 * import { syncDirectory } from "./file_io.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "a");
 * await syncDirectory(dir);
 * ```
 *
 * @param path The directory.
 */
export async function syncDirectory(path: string): Promise<void> {
  using dir = await Deno.open(path, { read: true });
  await dir.sync();
}

/**
 * Whether something exists at `path` (without following a final symbolic link).
 *
 * @example
 * ```ts
 * import { pathExists } from "./file_io.ts";
 * console.log(await pathExists("/")); // true
 * ```
 *
 * @param path The path.
 * @returns Whether it exists.
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
