/**
 * Where a benchmark's results go and how their paths are shown: `bench/out/<bench>/` of the
 * source tree when run from a source checkout, else `./cdfs-bench-<bench>`.
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { isCompiledBinary } from "../../src/cluster/node_process.ts";

/**
 * Where a benchmark's results go by default: `bench/out/<bench>/` of the source tree when
 * running from a source checkout with the working directory inside it, else
 * `./cdfs-bench-<bench>`.
 *
 * @example
 * ```ts
 * import { defaultOutDir } from "./out_dir.ts";
 * console.log(defaultOutDir("/home/me/elsewhere")); // "/home/me/elsewhere/cdfs-bench-rapidraid"
 * console.log(defaultOutDir("/home/me/elsewhere", "namenode")); // "/home/me/elsewhere/cdfs-bench-namenode"
 * ```
 *
 * @param cwd The working directory.
 * @param bench The benchmark's name (default `rapidraid`).
 * @returns The directory.
 */
export function defaultOutDir(cwd: string, bench = "rapidraid"): string {
  if (!isCompiledBinary()) {
    const root = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
    const inside = relative(root, cwd);
    if (!inside.startsWith("..") && !inside.startsWith("/")) {
      return join(root, "bench", "out", bench);
    }
  }
  return join(cwd, `cdfs-bench-${bench}`);
}

/**
 * A path relative to `cwd` when it lies inside it, else as it is: the files a benchmark wrote,
 * as its last progress line names them.
 *
 * @example
 * ```ts
 * import { shortPath } from "./out_dir.ts";
 * console.log(shortPath("/repo/bench/out/x.md", "/repo")); // "bench/out/x.md"
 * console.log(shortPath("/elsewhere/x.md", "/repo")); // "/elsewhere/x.md"
 * ```
 *
 * @param path The absolute path.
 * @param cwd The working directory.
 * @returns The path to show.
 */
export function shortPath(path: string, cwd: string): string {
  const inside = relative(cwd, path);
  return inside === "" || inside.startsWith("..") ? path : inside;
}

/**
 * Writes a benchmark's result files into `dir` (created if missing), in order.
 *
 * @example
 * ```ts
 * import { writeResultFiles } from "./out_dir.ts";
 * const dir = await Deno.makeTempDir();
 * const paths = await writeResultFiles(dir, [["results.md", "# results\n"]]);
 * console.log(paths.length); // 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param dir The output directory.
 * @param files Each file's name in `dir` and its text.
 * @returns The paths written, in the order of `files`.
 */
export async function writeResultFiles(
  dir: string,
  files: readonly (readonly [name: string, text: string])[],
): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await Deno.writeTextFile(path, text);
    paths.push(path);
  }
  return paths;
}
