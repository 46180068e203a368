/**
 * The options of an emulated network (`cluster up --netns`, `bench rapidraid --netns`) and the
 * links they describe.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import {
  assignLinks,
  type NodeLink,
  parseCongestSpec,
  parseDuration,
  parseRate,
} from "../emulation/link_spec.ts";
import { type NetnsSupport, netnsSupport } from "../emulation/netns_support.ts";
import { integerOption, type OptionSpec, type ParsedArgs, stringOption } from "./command.ts";

/**
 * The options that describe an emulated network (`cluster up --netns`, `bench rapidraid`).
 *
 * @example
 * ```ts
 * import { NETNS_OPTIONS } from "./netns_options.ts";
 * console.log(Object.keys(NETNS_OPTIONS).join(" ")); // netns rate delay jitter congest seed
 * ```
 */
export const NETNS_OPTIONS: OptionSpec = {
  netns: {
    type: "boolean",
    description: "run every node in its own network namespace behind an emulated link (root " +
      "only; see docs/netem.md); clients then run in the hub namespace: " +
      "ip netns exec cdfs-<name>-hub cdfs ...",
  },
  rate: {
    type: "string",
    value: "RATE",
    description: "--netns: every node's link rate",
    default: "1gbit",
  },
  delay: {
    type: "string",
    value: "D",
    description: "--netns: every node's one-way delay",
    default: "0ms",
  },
  jitter: {
    type: "string",
    value: "D",
    description: "--netns: ± uniform jitter of the delay",
    default: "0ms",
  },
  congest: {
    type: "string",
    value: "P%:RATE:DELAY[:JITTER]",
    description: "--netns: these settings for P% of the nodes",
  },
  seed: {
    type: "string",
    value: "N",
    description: "--netns: which nodes --congest picks",
    default: 1,
  },
};

/**
 * The DataNodes' port inside their namespaces (the relays listen on the same one).
 *
 * @example
 * ```ts
 * import { NETNS_BASE_PORT } from "./netns_options.ts";
 * console.log(NETNS_BASE_PORT); // 7000
 * ```
 */
export const NETNS_BASE_PORT = 7000;
const NETNS_ONLY = ["rate", "delay", "jitter", "congest", "seed"] as const;

/**
 * The links of `cluster up --netns` (undefined without `--netns`), once the options are
 * valid and this machine can emulate networks.
 *
 * @example
 * ```ts
 * import { netnsLinks } from "./netns_options.ts";
 * const notRoot = () => Promise.resolve({ ok: false as const, reason: "not root" });
 * const args = { values: { netns: true }, positionals: [] };
 * const error = await netnsLinks(args, 3, notRoot).catch((e: Error) => e);
 * console.log(String(error)); // CdfsError: cluster up --netns: ...not available: not root
 * ```
 *
 * @param args The parsed arguments of `cluster up`.
 * @param nodes The node count.
 * @param support Says whether network emulation works here (default `netnsSupport`).
 * @returns Every node's link, or undefined without `--netns`.
 * @throws {CdfsError} USAGE for a bad setting or one without `--netns`; UNAVAILABLE when
 * emulation is not possible here (not root, no `ip netns`).
 */
export async function netnsLinks(
  args: ParsedArgs,
  nodes: number,
  support: () => Promise<NetnsSupport> = netnsSupport,
): Promise<NodeLink[] | undefined> {
  if (args.values.netns !== true) {
    const stray = NETNS_ONLY.find((option) => args.values[option] !== undefined);
    if (stray !== undefined) throw new CdfsError("USAGE", `--${stray} needs --netns`);
    return undefined;
  }
  const base = {
    rateBitsPerSecond: parseRate(stringOption(args, "rate") ?? "1gbit", "--rate"),
    delayMs: parseDuration(stringOption(args, "delay") ?? "0ms", "--delay"),
    jitterMs: parseDuration(stringOption(args, "jitter") ?? "0ms", "--jitter"),
  };
  const congestText = stringOption(args, "congest");
  const links = assignLinks({
    nodes,
    base,
    seed: integerOption(args, "seed", 1),
    ...(congestText === undefined ? {} : { congest: parseCongestSpec(congestText, "--congest") }),
  });
  const supported = await support();
  if (!supported.ok) {
    throw new CdfsError(
      "UNAVAILABLE",
      `cluster up --netns: network emulation is not available: ${supported.reason}`,
    );
  }
  return links;
}
