/**
 * What the cluster benchmarks (`bench rapidraid`, `bench repair`) share on the command line:
 * the run until Ctrl-C, and the emulated links of `--netns`.
 *
 * @module
 */
import type { NodeLink } from "../emulation/link_spec.ts";
import { BENCH_NODES } from "../../bench/common/cluster_session.ts";
import { CdfsError } from "../core/errors.ts";
import { type ParsedArgs, stringOption } from "./command.ts";
import { netnsLinks } from "./netns_options.ts";

/**
 * Runs a bench until it ends (exit 0) or SIGINT or SIGTERM aborts `signal` (exit 130, after
 * `interrupted: <stopped>`); any other error is thrown.
 *
 * @example
 * ```ts
 * import { untilInterrupted } from "./bench_options.ts";
 * const code = await untilInterrupted(console.error, "nothing to stop", async () => {});
 * console.log(code); // 0
 * ```
 *
 * @param say Prints a progress line.
 * @param stopped What the interruption line says was stopped.
 * @param run The bench, given the signal.
 * @returns The exit code.
 */
export async function untilInterrupted(
  say: (line: string) => void,
  stopped: string,
  run: (signal: AbortSignal) => Promise<void>,
): Promise<number> {
  const abort = new AbortController();
  const onSignal = () => abort.abort(new CdfsError("UNAVAILABLE", "interrupted"));
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    await run(abort.signal);
    return 0;
  } catch (error) {
    if (abort.signal.aborted) {
      say(`interrupted: ${stopped}`);
      return 130;
    }
    throw error;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
}

/**
 * The link options as given (`--rate`, `--delay`, `--jitter`, `--congest`, `--seed`).
 *
 * @example
 * ```ts
 * import { linkChoices } from "./bench_options.ts";
 * console.log(linkChoices({ values: { rate: "1gbit" }, positionals: [] })); // { rate: "1gbit" }
 * ```
 *
 * @param args The parsed arguments.
 * @returns The link options given.
 */
export function linkChoices(
  args: ParsedArgs,
): { rate?: string; delay?: string; jitter?: string; congest?: string; seed?: string } {
  const choices: {
    rate?: string;
    delay?: string;
    jitter?: string;
    congest?: string;
    seed?: string;
  } = {};
  for (const name of ["rate", "delay", "jitter", "congest", "seed"] as const) {
    const value = stringOption(args, name);
    if (value !== undefined) choices[name] = value;
  }
  return choices;
}

/**
 * `cluster up --netns`'s links for these options for the bench's 16 nodes (and its check that
 * this machine can emulate them, unless `support` says otherwise).
 *
 * @example
 * ```ts
 * import { describedLinks } from "./bench_options.ts";
 * const links = await describedLinks(
 *   { values: { rate: "100mbit" }, positionals: [] },
 *   undefined,
 *   () => Promise.resolve({ ok: true as const }),
 * );
 * console.log(links?.length); // 16
 * ```
 *
 * @param args The parsed arguments.
 * @param congest The `--congest` of this setting (undefined: none).
 * @param support The check of this machine (default `cluster up`'s).
 * @returns The links.
 */
export async function describedLinks(
  args: ParsedArgs,
  congest: string | undefined,
  support?: Parameters<typeof netnsLinks>[2],
): Promise<NodeLink[] | undefined> {
  const { congest: _, ...values } = args.values;
  return await netnsLinks(
    {
      values: { ...values, netns: true, ...(congest === undefined ? {} : { congest }) },
      positionals: [],
    },
    BENCH_NODES,
    support,
  );
}
