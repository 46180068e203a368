/**
 * Where local clusters keep their state: the state root (`$CDFS_STATE_DIR`, else
 * `$XDG_RUNTIME_DIR/cdfs`, else `<temp dir>/cdfs-<uid>`), one directory per cluster name in it
 * holding the cluster's file, and how `--cluster NAME|FILE` finds that file.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { validateClusterName } from "../core/cluster_name.ts";
import { CdfsError } from "../core/errors.ts";
import { CLUSTER_FILE_NAME } from "./cluster_file.ts";

/**
 * The directory where clusters keep their state by default: `$CDFS_STATE_DIR`, else
 * `$XDG_RUNTIME_DIR/cdfs` (private to the user and emptied at logout or reboot, which is
 * when local clusters end anyway), else `<temp dir>/cdfs-<uid>`.
 *
 * @example
 * ```ts
 * import { defaultStateRoot } from "./state_root.ts";
 * const env = (name: string) => ({ XDG_RUNTIME_DIR: "/run/user/1000" } as Record<string, string>)[name];
 * console.log(defaultStateRoot(env)); // "/run/user/1000/cdfs"
 * ```
 *
 * @param env Reads an environment variable.
 * @returns The absolute path.
 */
export function defaultStateRoot(env: (name: string) => string | undefined): string {
  const explicit = env("CDFS_STATE_DIR");
  if (explicit !== undefined && explicit !== "") return absolute(explicit);
  const runtime = env("XDG_RUNTIME_DIR");
  if (runtime !== undefined && isAbsolute(runtime)) return join(runtime, "cdfs");
  const temp = env("TMPDIR");
  const uid = Deno.uid() ?? "user";
  return join(temp !== undefined && isAbsolute(temp) ? temp : "/tmp", `cdfs-${uid}`);
}

/**
 * The cluster file of a named cluster under a state root.
 *
 * @example
 * ```ts
 * import { clusterFilePath } from "./state_root.ts";
 * console.log(clusterFilePath("/tmp/cdfs-0", "local")); // "/tmp/cdfs-0/local/cluster.json"
 * ```
 *
 * @param stateRoot The state root.
 * @param name The cluster name.
 * @returns The path.
 */
export function clusterFilePath(stateRoot: string, name: string): string {
  return join(stateRoot, validateClusterName(name), CLUSTER_FILE_NAME);
}

/**
 * Turns what a person passed as `--cluster` into a cluster file path: a path (anything with a
 * `/` or ending in `.json`) is taken as it is; a bare cluster name means that cluster's file
 * under the state root.
 *
 * @example
 * ```ts
 * import { resolveClusterPath } from "./state_root.ts";
 * console.log(resolveClusterPath("local", "/tmp/cdfs-0")); // "/tmp/cdfs-0/local/cluster.json"
 * console.log(resolveClusterPath("./c.json", "/tmp/cdfs-0").endsWith("/c.json")); // true
 * ```
 *
 * @param value The `--cluster` value.
 * @param stateRoot The state root for names.
 * @returns An absolute path.
 * @throws {CdfsError} USAGE for an empty value or a name that is not a valid cluster name.
 */
export function resolveClusterPath(value: string, stateRoot: string): string {
  if (value === "") throw new CdfsError("USAGE", "--cluster: empty; give a cluster file or name");
  if (value.includes("/") || value.endsWith(".json")) return absolute(value);
  return clusterFilePath(stateRoot, validateClusterName(value, "--cluster"));
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : join(Deno.cwd(), path);
}

/**
 * Creates the state root if needed and checks that it is private: a directory (not a
 * symbolic link) owned by this user and writable by no one else, since the cluster files in
 * it name processes that `down` and `clean` signal.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { ensureStateRoot } from "./state_root.ts";
 * await ensureStateRoot("/tmp/cdfs-1000");
 * ```
 *
 * @param stateRoot The state root.
 * @throws {CdfsError} USAGE when it exists but is not private.
 */
export async function ensureStateRoot(stateRoot: string): Promise<void> {
  await Deno.mkdir(stateRoot, { recursive: true, mode: 0o700 });
  const info = await Deno.lstat(stateRoot);
  const uid = Deno.uid();
  const problem = !info.isDirectory
    ? "is not a directory"
    : uid !== null && info.uid !== null && info.uid !== uid
    ? `belongs to uid ${info.uid}, not ${uid}`
    : info.mode !== null && (info.mode & 0o022) !== 0
    ? `is writable by others (mode ${(info.mode & 0o777).toString(8)})`
    : undefined;
  if (problem !== undefined) {
    throw new CdfsError(
      "USAGE",
      `cluster state directory ${stateRoot} ${problem}; set CDFS_STATE_DIR or --state-dir to a ` +
        "private directory",
    );
  }
}
