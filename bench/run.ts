// deno-lint-ignore-file no-console
/**
 * The entry point of `make bench`: `deno run -A bench/run.ts [NAME|all] [options]` runs one
 * benchmark by name (options go to it) or all of them in turn (default). Each benchmark is a
 * module loaded only when it runs; add one by adding an entry to {@linkcode BENCHMARKS}.
 *
 * @module
 */

/**
 * A benchmark `bench/run.ts` can run: a one-line summary for `--help`, and a function that
 * takes the remaining command-line options, prints its results (a missed target is a result,
 * not an error) and rejects only when it cannot measure or measures wrong output.
 *
 * @example
 * ```ts
 * import type { Benchmark } from "./run.ts";
 * const noop: Benchmark = { summary: "does nothing", run: () => Promise.resolve() };
 * ```
 */
export interface Benchmark {
  /** One line for `--help`. */
  summary: string;
  /** Runs it with the options after its name and prints the results. */
  run(args: string[]): Promise<void>;
  /** The options it runs with in `all` (default none). */
  allArgs?: () => Promise<string[]>;
}

/**
 * Every benchmark by name, in the order `all` runs them.
 *
 * @example
 * ```ts
 * import { BENCHMARKS } from "./run.ts";
 * console.log(Object.keys(BENCHMARKS));
 * // [ "gf", "datanode", "datanode-tls", "coding", "rapidraid", "namenode" ]
 * ```
 */
export const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  gf: {
    summary: "GF(2^8) kernels: TS and WASM mulAdd, mul, xor, RS(11+5) encode next to ISA-L",
    run: async (args) => (await import("./gf/gf.ts")).runGfBench(args),
  },
  datanode: {
    summary: "STORE/RETRIEVE of 1 GiB to a datanode next to a bare socket-file copy; node RSS",
    run: async (args) => (await import("./datanode/datanode.ts")).runDatanodeBench(args),
  },
  "datanode-tls": {
    summary: "what TLS costs: STORE/RETRIEVE and the 16-node encode, TLS next to plain TCP",
    run: async (args) => (await import("./datanode/datanode_tls.ts")).runDatanodeTlsBench(args),
  },
  coding: {
    summary: "RapidRAID encode next to RS(11+5): in-process GB/s; 16 loopback nodes, wall time",
    run: async (args) => (await import("./coding/coding.ts")).runCodingBench(args),
  },
  "cpu-profile": {
    summary: "CPU s per GiB of the encodes and decodes on 16 nodes, by component, next to bare",
    run: async (args) => (await import("./coding/cpu_profile.ts")).runCpuProfile(args),
  },
  rapidraid: {
    summary: "`cdfs bench rapidraid`: RapidRAID pull/push next to RS(16,11) on 16 nodes; charts",
    run: (args) => cdfsBench("rapidraid", args),
    // In `all`: the paper's experiment, on an emulated network with its congested variant,
    // where this machine can emulate one (root); else on loopback.
    allArgs: async () => {
      const { netnsSupport } = await import("../src/emulation/netns_support.ts");
      if (!(await netnsSupport()).ok) return [];
      return [
        "--netns",
        "--rate",
        "200mbit",
        "--delay",
        "1ms",
        "--congest",
        "25%:100mbit:100ms:10ms",
      ];
    },
  },
  namenode: {
    summary: "`cdfs bench namenode`: metadata ops/s next to raw SQLite/etcd; get next to retrieve",
    run: (args) => cdfsBench("namenode", args),
  },
};

/**
 * Runs `cdfs bench NAME ARGS` in this process: these experiments are cdfs commands (they must
 * also run from the compiled binary).
 */
async function cdfsBench(name: string, args: string[]): Promise<void> {
  const { runCli } = await import("../src/cli/app.ts");
  const { COMMANDS } = await import("../src/cli/commands.ts");
  const { processContext } = await import("../main.ts");
  const code = await runCli(COMMANDS, processContext(), ["bench", name, ...args]);
  if (code !== 0) throw new Error(`cdfs bench ${name} exited with code ${code}`);
}

function usage(): string {
  const names = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(12)} ${b.summary}`);
  return [
    "usage: deno run -A bench/run.ts [NAME|all] [options]",
    "",
    "Runs one benchmark (options go to it; NAME --help lists them) or all of them (default).",
    ...names,
  ].join("\n");
}

/**
 * Runs the benchmarks that `args` name and resolves to the process exit code: 0 when they
 * ran, 2 for a usage error. A benchmark that cannot run rejects.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark takes minutes and writes `bench/out/`.
 * ```ts ignore
 * import { runBenchmarks } from "./run.ts";
 * Deno.exit(await runBenchmarks(["gf", "--runs", "3"]));
 * ```
 *
 * @param args The command line: an optional name or `all`, then options for that benchmark.
 */
export async function runBenchmarks(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === "--help" || first === "-h") {
    console.log(usage());
    return 0;
  }
  const name = first === undefined || first.startsWith("-") ? "all" : first;
  const options = name === first ? rest : args;
  let selected: string[];
  if (name === "all") {
    if (options.length > 0) {
      console.error(`options go to one benchmark; name it (got ${options.join(" ")})`);
      return 2;
    }
    selected = Object.keys(BENCHMARKS);
  } else if (Object.hasOwn(BENCHMARKS, name)) {
    selected = [name];
  } else {
    console.error(`unknown benchmark "${name}"\n\n${usage()}`);
    return 2;
  }
  for (const n of selected) {
    const benchmark = BENCHMARKS[n]!;
    await benchmark.run(name === "all" ? (await benchmark.allArgs?.()) ?? [] : options);
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await runBenchmarks(Deno.args));
  } catch (e) {
    console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
