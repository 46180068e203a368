/**
 * The ISA-L reference of the GF(2^8) kernel benchmark: the C harness
 * (`bench/gf/isal/gf_isal_bench.c`, Debian's libisal-dev), built into `bench/out/` and run in
 * processes of its own, pinned to one core like every timed process.
 *
 * @module
 */
import type { GfKernel } from "./gf_worker.ts";
import { repoPath } from "../common/paths.ts";
import { output } from "../common/machine.ts";

const OUT_DIR = repoPath("bench/out");
const HARNESS_SOURCE = repoPath("bench/gf/isal/gf_isal_bench.c");
const HARNESS_BINARY = repoPath("bench/out/gf_isal_bench");

/**
 * Where the harness's `--check` run writes the bytes it computed, for the benchmark to compare
 * with its own.
 *
 * @example
 * ```ts
 * import { CHECK_FILE } from "./gf_isal.ts";
 * console.log(CHECK_FILE.endsWith("bench/out/gf_isal_check.bin")); // true
 * ```
 */
export const CHECK_FILE: string = repoPath("bench/out/gf_isal_check.bin");

/**
 * The JSON the ISA-L harness prints: the code's parameters and every row's timings.
 *
 * @example
 * ```ts
 * import type { HarnessReport } from "./gf_isal.ts";
 * const fastest = (r: HarnessReport) => Math.max(...r.results.flatMap((x) => x.gbps));
 * ```
 */
export interface HarnessReport {
  /** Data regions of the RS encode (11). */
  k: number;
  /** Parity regions of the RS encode (5). */
  m: number;
  /** The constant of the mulAdd and mul rows. */
  coefficient: number;
  /** The parity rows of the RS encode, m rows of k coefficients. */
  matrix: number[][];
  /** The bytes between one region's end and the next one's start. */
  regionStagger: number;
  /** The timings of every row and size. */
  results: {
    kernel: GfKernel;
    function: string;
    size: number;
    bytesPerCall: number;
    callsPerRun: number;
    gbps: number[];
    cpuShare: number[];
    /** The library's 128-bit function for the row, timed in turn with `function`; null: none. */
    function128: string | null;
    gbps128?: number[];
    cpuShare128?: number[];
  }[];
}

/**
 * Prefixes a command with `taskset -c <cpu>` when pinning was asked for.
 *
 * @example
 * ```ts
 * import { pinned } from "./gf_isal.ts";
 * console.log(pinned(2, "ls", ["-l"])); // [ "taskset", [ "-c", "2", "ls", "-l" ] ]
 * ```
 *
 * @param cpu The core, or null for none.
 * @param command The command.
 * @param args Its arguments.
 * @returns The command and arguments to run.
 */
export function pinned(cpu: number | null, command: string, args: string[]): [string, string[]] {
  return cpu === null ? [command, args] : ["taskset", ["-c", String(cpu), command, ...args]];
}

/**
 * Compiles the ISA-L harness into bench/out, or explains what is missing.
 *
 * @example
 * Not run by `deno test --doc`: it needs gcc and libisal-dev, and writes bench/out.
 * ```ts ignore
 * import { buildHarness } from "./gf_isal.ts";
 * await buildHarness();
 * ```
 *
 * @throws {Error} Naming what to install when gcc or the ISA-L headers are missing.
 */
export async function buildHarness(): Promise<void> {
  const header = "/usr/include/isa-l/erasure_code.h";
  const hint = "install them with `make bench-deps` or `apt-get install -y libisal-dev gcc`";
  if (!(await output("gcc", ["--version"])).ok) {
    throw new Error(`gcc is missing: the ISA-L reference is a C program; ${hint}`);
  }
  try {
    await Deno.stat(header);
  } catch {
    throw new Error(`the ISA-L headers are missing (${header}); ${hint}`);
  }
  await Deno.mkdir(OUT_DIR, { recursive: true });
  const built = await output("gcc", [
    "-O2",
    "-o",
    HARNESS_BINARY,
    HARNESS_SOURCE,
    "-lisal",
  ]);
  if (!built.ok) throw new Error(`gcc could not build the ISA-L harness:\n${built.stderr}`);
}

/**
 * Runs the built harness (pinned to `cpu`) and parses its report.
 *
 * @example
 * Not run by `deno test --doc`: it needs the built harness.
 * ```ts ignore
 * import { runHarness } from "./gf_isal.ts";
 * const report = await runHarness(null, ["--check", "65536", "/tmp/check.bin"]);
 * ```
 *
 * @param cpu The core, or null for none.
 * @param args The harness's arguments.
 * @returns What it printed.
 * @throws {Error} With its stderr when it fails.
 */
export async function runHarness(cpu: number | null, args: string[]): Promise<HarnessReport> {
  const [command, full] = pinned(cpu, HARNESS_BINARY, args);
  const r = await output(command, full);
  if (!r.ok) throw new Error(`the ISA-L harness failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as HarnessReport;
}
