/**
 * Which network settings `cdfs bench rapidraid` measures, from what was asked: loopback by
 * default; with `--netns`, the emulated network of `--rate`/`--delay`/`--jitter` and, with
 * `--congest`, its congested variant too; with `--cluster`, the given cluster, its links as
 * the options describe them (for the link-limited ideals).
 *
 * @module
 */
import { readClusterFile } from "../../src/cluster/cluster_file_io.ts";
import { CdfsError } from "../../src/core/errors.ts";
import type { NodeLink } from "../../src/emulation/link_spec.ts";
import type { SettingPlan } from "../common/cluster_session.ts";

/**
 * The share of the nodes `--congest RATE:DELAY[:JITTER]` congests when it names none.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONGEST_SHARE } from "./rapidraid_settings.ts";
 * console.log(DEFAULT_CONGEST_SHARE); // "25%"
 * ```
 */
export const DEFAULT_CONGEST_SHARE = "25%";

/**
 * What the options of `bench rapidraid` ask for, as given (text, not yet parsed).
 *
 * @example
 * ```ts
 * import type { SettingChoices } from "./rapidraid_settings.ts";
 * const choices: SettingChoices = { netns: true, rate: "200mbit", delay: "1ms" };
 * ```
 */
export interface SettingChoices {
  /** `--netns`: measure in an emulated network. */
  readonly netns: boolean;
  /** `--rate`. */
  readonly rate?: string;
  /** `--delay`. */
  readonly delay?: string;
  /** `--jitter`. */
  readonly jitter?: string;
  /** `--congest`, with or without its share. */
  readonly congest?: string;
  /** `--seed`. */
  readonly seed?: string;
  /** The cluster file of `--cluster`: measure that running cluster instead. */
  readonly clusterPath?: string;
}

/**
 * Every node's link for these choices with `congest` as the `--congest` (undefined: none), as
 * `cluster up --netns` would make them; `checkSupport` false when the links only describe a
 * running cluster, so nothing is checked on this machine.
 *
 * @example
 * ```ts
 * import type { LinksFor } from "./rapidraid_settings.ts";
 * const linksFor: LinksFor = () => Promise.resolve(undefined);
 * ```
 */
export type LinksFor = (
  congest: string | undefined,
  checkSupport: boolean,
) => Promise<NodeLink[] | undefined>;

/**
 * The settings the choices ask for, with their links when known.
 *
 * @example
 * ```ts
 * import { planSettings } from "./rapidraid_settings.ts";
 * const plans = await planSettings({ netns: false }, () => Promise.resolve(undefined));
 * console.log(plans); // [ { kind: "loopback", label: "loopback" } ]
 * ```
 *
 * @param choices The options as given.
 * @param linksFor Makes the links of the emulated network (or describes a given cluster's).
 * @returns One plan per setting, in the order they are measured.
 * @throws {CdfsError} USAGE for link options without `--netns` or `--cluster`, or `--netns`
 * with `--cluster`.
 */
export async function planSettings(
  choices: SettingChoices,
  linksFor: LinksFor,
): Promise<SettingPlan[]> {
  const { netns, clusterPath } = choices;
  const linkOptions = ["rate", "delay", "jitter", "congest", "seed"] as const;
  const given = linkOptions.filter((name) => choices[name] !== undefined);
  const congestSpec = choices.congest === undefined ? undefined : withDefaultShare(choices.congest);
  if (clusterPath !== undefined) {
    if (netns) throw new CdfsError("USAGE", "--cluster measures a running cluster: drop --netns");
    const file = await readClusterFile(clusterPath);
    // The options only describe the cluster's links, so nothing is checked on this machine.
    const links = choices.rate === undefined ? undefined : await linksFor(congestSpec, false);
    return [{
      kind: "cluster",
      label: `cluster ${file.name}`,
      path: clusterPath,
      ...(links === undefined ? {} : { links }),
    }];
  }
  if (!netns) {
    if (given.length > 0) {
      throw new CdfsError("USAGE", `--${given[0]} needs --netns (or --cluster, to describe it)`);
    }
    return [{ kind: "loopback", label: "loopback" }];
  }
  const rate = choices.rate ?? "1gbit";
  const delay = choices.delay ?? "0ms";
  const jitter = choices.jitter ?? "0ms";
  const seed = choices.seed ?? "1";
  const linkArgs = [
    "--netns",
    "--rate",
    rate,
    "--delay",
    delay,
    "--jitter",
    jitter,
    "--seed",
    seed,
  ];
  const label = `netns ${rate} ${delay}${/^0+(\.0+)?[a-z]*$/.test(jitter) ? "" : ` ±${jitter}`}`;
  const plans: SettingPlan[] = [{
    kind: "netns",
    label,
    links: (await linksFor(undefined, true))!,
    clusterUpArgs: linkArgs,
  }];
  if (congestSpec !== undefined) {
    plans.push({
      kind: "netns",
      label: `${label}, congested ${congestSpec}`,
      links: (await linksFor(congestSpec, true))!,
      clusterUpArgs: [...linkArgs, "--congest", congestSpec],
    });
  }
  return plans;
}

/**
 * `--congest` with the default share in front when it names none: `500mbit:100ms:10ms` →
 * `25%:500mbit:100ms:10ms`.
 *
 * @example
 * ```ts
 * import { withDefaultShare } from "./rapidraid_settings.ts";
 * console.log(withDefaultShare("500mbit:100ms:10ms")); // "25%:500mbit:100ms:10ms"
 * console.log(withDefaultShare("50%:100mbit:20ms")); // "50%:100mbit:20ms"
 * ```
 *
 * @param text The option's value.
 * @returns It with a share.
 */
export function withDefaultShare(text: string): string {
  return /^[^:]*%:/.test(text) ? text : `${DEFAULT_CONGEST_SHARE}:${text}`;
}
