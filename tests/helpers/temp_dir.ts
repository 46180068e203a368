/**
 * Temporary directories that remove themselves.
 *
 * @module
 */

/**
 * A temporary directory, removed with everything in it when disposed.
 *
 * @example
 * ```ts
 * import type { TempDir } from "./temp_dir.ts";
 * const where = (dir: TempDir) => `${dir.path}/out`;
 * ```
 */
export interface TempDir extends AsyncDisposable {
  /** Its path. */
  readonly path: string;
}

/**
 * Makes a temporary directory, for `await using`.
 *
 * @example
 * ```ts
 * import { tempDir } from "./temp_dir.ts";
 * await using dir = await tempDir("cdfs-example-");
 * await Deno.writeTextFile(`${dir.path}/a`, "x");
 * ```
 *
 * @param prefix The start of its name.
 * @returns The directory.
 */
export async function tempDir(prefix: string): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}
