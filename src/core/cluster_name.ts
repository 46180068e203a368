/**
 * The one rule for the name of a local cluster. It names the cluster's state directory and, for
 * an emulated network, its network namespaces (`cdfs-<name>-hub`, `cdfs-<name>-n<i>`), so the
 * cluster files and the namespaces test against the same rule and one name fits both.
 *
 * @module
 */
import { CdfsError } from "./errors.ts";

const CLUSTER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,30}[A-Za-z0-9])?$/;

/**
 * Checks a cluster name: 1-32 letters, digits, `-` and `_`, starting and ending with a letter
 * or digit (the same rule as the names of emulated networks, so one name fits both).
 *
 * @example
 * ```ts
 * import { validateClusterName } from "./cluster_name.ts";
 * validateClusterName("bench-16");
 * ```
 *
 * @param name The name.
 * @param what How to call it in the message.
 * @returns The name.
 * @throws {CdfsError} USAGE when it is not allowed.
 */
export function validateClusterName(name: string, what = "cluster name"): string {
  if (!isClusterName(name)) {
    throw new CdfsError(
      "USAGE",
      `${what} ${JSON.stringify(name)}: use 1-32 letters, digits, '-' or '_', starting and ` +
        "ending with a letter or digit",
    );
  }
  return name;
}

/**
 * Whether a name passes {@linkcode validateClusterName}, without throwing.
 *
 * @example
 * ```ts
 * import { isClusterName } from "./cluster_name.ts";
 * console.log(isClusterName("lab"), isClusterName("-lab")); // true false
 * ```
 *
 * @param name The name.
 * @returns Whether it is a valid cluster name.
 */
export function isClusterName(name: string): boolean {
  return CLUSTER_NAME.test(name);
}
