// deno-lint-ignore-file no-console
/**
 * Helpers every benchmark driver shares: paths in the repository, running a command, the
 * machine description written next to the results, medians, and progress lines.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/**
 * The absolute path of a file of the repository, from its path relative to the top.
 *
 * @example
 * ```ts
 * import { repoPath } from "./common.ts";
 * console.log(repoPath("deno.json").endsWith("/deno.json")); // true
 * ```
 *
 * @param relative The path from the repository's top.
 * @returns The absolute path.
 */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/**
 * Runs a command to its end and collects its output; a missing program is `ok: false`.
 *
 * @example
 * ```ts
 * import { output } from "./common.ts";
 * console.log((await output("true", [])).ok); // true
 * ```
 *
 * @param command The program.
 * @param args Its arguments.
 * @returns Whether it succeeded, and its standard output and error.
 */
export async function output(
  command: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const r = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder();
    return { ok: r.success, stdout: text.decode(r.stdout), stderr: text.decode(r.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: false, stdout: "", stderr: "not found" };
    throw e;
  }
}

/**
 * What the results were measured on: CPU (from `lscpu`), kernel, Deno and V8, the pinned core,
 * and the version of each Debian package named.
 *
 * @example
 * ```ts
 * import { machine } from "./common.ts";
 * console.log((await machine(null)).deno);
 * ```
 *
 * @param cpu The core the measurements were pinned to, or null.
 * @param packages Debian packages whose versions matter (e.g. `libisal-dev`).
 * @returns The description, for the results JSON.
 */
export async function machine(
  cpu: number | null,
  packages: Record<string, string> = {},
): Promise<Record<string, string | number | null>> {
  const lscpu = await output("lscpu", []);
  const field = (name: string): string | null =>
    lscpu.stdout.match(new RegExp(`^${name}:\\s*(.+)$`, "m"))?.[1]?.trim() ?? null;
  const versions: Record<string, string | null> = {};
  for (const [key, pkg] of Object.entries(packages)) {
    const v = await output("dpkg-query", ["-W", "-f", "${Version}", pkg]);
    versions[key] = v.ok ? v.stdout.trim() : null;
  }
  return {
    cpuModel: field("Model name"),
    // KVM guests often show only "AMD EPYC"; family and model tell the generation.
    cpuFamilyModel: `family ${field("CPU family")}, model ${field("Model")}`,
    cpus: Number(field("CPU\\(s\\)") ?? navigator.hardwareConcurrency),
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    ...versions,
    pinnedToCpu: cpu,
  };
}

/**
 * The median of some numbers (the mean of the middle two for an even count).
 *
 * @example
 * ```ts
 * import { median } from "./common.ts";
 * console.log(median([3, 1, 2, 10])); // 2.5
 * ```
 *
 * @param values At least one number.
 * @returns The median.
 */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Prints a progress line on standard error when it is a terminal (silent in pipes and CI logs).
 *
 * @example
 * ```ts
 * import { progress } from "./common.ts";
 * progress("measuring mulAdd 64 KiB ...");
 * ```
 *
 * @param line The line.
 */
export function progress(line: string): void {
  if (Deno.stderr.isTerminal()) console.error(line);
}
