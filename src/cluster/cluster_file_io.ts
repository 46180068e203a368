/**
 * Reading and writing cluster files: reads are checked (a regular file, of a sane size, UTF-8,
 * valid), writes are atomic (a temporary file beside it, flushed, renamed over it) and private.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { CdfsError } from "../core/errors.ts";
import { CLUSTER_FILE_NAME, type ClusterFile, formatClusterFile } from "./cluster_file.ts";
import { parseClusterFile } from "./cluster_file_parse.ts";

/** The largest cluster file read (a 10 000-node file is about 3 MB). */
const MAX_CLUSTER_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Reads and validates a cluster file.
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { readClusterFile } from "./cluster_file_io.ts";
 * const cluster = await readClusterFile("/run/user/1000/cdfs/local/cluster.json");
 * console.log(cluster.nodes.length);
 * ```
 *
 * @param path The file.
 * @returns The cluster file.
 * @throws {CdfsError} NOT_FOUND when there is no such file (the cluster is down or the path
 * is wrong); USAGE when it is not a valid cluster file.
 */
export async function readClusterFile(path: string): Promise<ClusterFile> {
  let bytes: Uint8Array;
  try {
    checkFileInfo(await Deno.stat(path), path);
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw readError(e, path);
  }
  return decodeClusterFile(bytes, path);
}

/**
 * Reads and validates a cluster file, synchronously (for option parsing that is not async).
 *
 * @example
 * Not run by `deno test --doc`: it needs a cluster started by `cdfs cluster up`.
 * ```ts ignore
 * import { readClusterFileSync } from "./cluster_file_io.ts";
 * const cluster = readClusterFileSync("/run/user/1000/cdfs/local/cluster.json");
 * console.log(cluster.nodes.length);
 * ```
 *
 * @param path The file.
 * @returns The cluster file.
 * @throws {CdfsError} As {@linkcode readClusterFile}.
 */
export function readClusterFileSync(path: string): ClusterFile {
  let bytes: Uint8Array;
  try {
    checkFileInfo(Deno.statSync(path), path);
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw readError(e, path);
  }
  return decodeClusterFile(bytes, path);
}

function checkFileInfo(info: Deno.FileInfo, path: string): void {
  if (!info.isFile) throw new CdfsError("USAGE", `cluster file ${path}: not a regular file`);
  if (info.size > MAX_CLUSTER_FILE_BYTES) {
    throw new CdfsError(
      "USAGE",
      `cluster file ${path}: ${info.size} bytes, larger than any cluster file ` +
        `(${MAX_CLUSTER_FILE_BYTES})`,
    );
  }
}

function readError(e: unknown, path: string): CdfsError {
  if (e instanceof CdfsError) return e;
  if (e instanceof Deno.errors.NotFound) {
    return new CdfsError(
      "NOT_FOUND",
      `cluster file ${path} does not exist (is the cluster up? 'cdfs cluster up' prints its path)`,
    );
  }
  return new CdfsError("USAGE", `cluster file ${path}: ${(e as Error).message}`);
}

function decodeClusterFile(bytes: Uint8Array, path: string): ClusterFile {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CdfsError("USAGE", `cluster file ${path}: not UTF-8 text`);
  }
  return parseClusterFile(text, path);
}

/**
 * Writes a cluster file atomically: a temporary file beside it, flushed, then renamed over
 * it. The file is readable by its owner only (it names processes to signal).
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { writeClusterFile } from "./cluster_file_io.ts";
 * await writeClusterFile("/tmp/cdfs-0/local/cluster.json", cluster);
 * ```
 *
 * @param path Where it goes.
 * @param cluster The content (validated before it is written).
 */
export async function writeClusterFile(path: string, cluster: ClusterFile): Promise<void> {
  const text = formatClusterFile(cluster);
  parseClusterFile(text, path); // never write what could not be read back
  const temp = join(dirname(path), `.${CLUSTER_FILE_NAME}.${crypto.randomUUID()}.tmp`);
  try {
    using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}
