/**
 * The link settings of an emulated cluster as people type them — `--rate 1gbit`, `--delay 1ms`,
 * `--congest 25%:500mbit:100ms:10ms` — and the seeded choice of which nodes get the congested
 * settings. Pure: no I/O, so `cluster up` can reject a typo before it creates anything.
 *
 * Units follow `tc`: rates are bits per second with SI prefixes (`kbit` = 1000 bit/s, `mbit`,
 * `gbit`); the byte-based `tc` units (`kbps` means kilobytes per second there) are not accepted,
 * because that spelling is read as bits by almost everyone. Durations need a unit: `us`, `ms`
 * or `s`.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";

/**
 * What one node's link to the emulated switch does to the traffic the node sends (and, with
 * ingress shaping, to what it receives): a rate limit and a one-way delay with uniform jitter.
 *
 * @example
 * ```ts
 * import type { LinkSettings } from "./link_spec.ts";
 * const link: LinkSettings = { rateBitsPerSecond: 1e9, delayMs: 1, jitterMs: 0 };
 * ```
 */
export interface LinkSettings {
  /** The rate limit in bits per second; undefined for an unshaped link. */
  readonly rateBitsPerSecond?: number;
  /** The one-way delay added to everything the node sends, in milliseconds. */
  readonly delayMs: number;
  /** Each hold is uniform in `delayMs ± jitterMs` (never more than `delayMs`). */
  readonly jitterMs: number;
}

/**
 * A parsed `--congest P%:RATE:DELAY[:JITTER]`: the fraction of nodes that get `link`.
 *
 * @example
 * ```ts
 * import { parseCongestSpec } from "./link_spec.ts";
 * const spec = parseCongestSpec("25%:500mbit:100ms:10ms");
 * console.log(spec.fraction, spec.link.delayMs); // 0.25 100
 * ```
 */
export interface CongestSpec {
  /** The fraction of the nodes, 0..1. */
  readonly fraction: number;
  /** The settings those nodes get instead of the base ones. */
  readonly link: LinkSettings;
}

/**
 * One node's settings as {@linkcode assignLinks} decided them.
 *
 * @example
 * ```ts
 * import type { NodeLink } from "./link_spec.ts";
 * const node: NodeLink = { link: { delayMs: 1, jitterMs: 0 }, congested: false };
 * ```
 */
export interface NodeLink {
  /** The node's link settings. */
  readonly link: LinkSettings;
  /** Whether the node is one of the congested ones. */
  readonly congested: boolean;
}

const RATE_UNITS: Readonly<Record<string, number>> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
};
const DURATION_UNITS: Readonly<Record<string, number>> = { us: 1e-3, ms: 1, s: 1e3 };
const NUMBER_WITH_UNIT = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]+)$/;
/** tbf cannot shape below about 8 kbit/s in a useful way; lower values are surely typos. */
const MIN_RATE = 8000;
/** 1 Tbit/s: beyond anything a veth carries, and tc's 32-bit bucket sizes stay valid. */
const MAX_RATE = 1e12;
/** One hour: far beyond any delay an emulation wants; larger values are surely typos. */
const MAX_DURATION_MS = 3_600_000;

/**
 * Parses a rate: a number and a `tc` bit unit (`bit`, `kbit`, `mbit`, `gbit`, `tbit`, any case).
 *
 * @example
 * ```ts
 * import { parseRate } from "./link_spec.ts";
 * console.log(parseRate("1gbit")); // 1000000000
 * console.log(parseRate("2.5mbit")); // 2500000
 * ```
 *
 * @param text The rate, e.g. `100mbit`.
 * @param what How to call the value in messages (default `rate`).
 * @returns Bits per second, a whole number.
 * @throws {CdfsError} USAGE for a malformed value, an unknown unit or a rate outside
 * 8 kbit/s..1 Tbit/s.
 */
export function parseRate(text: string, what = "rate"): number {
  const bits = Math.round(
    numberWithUnit(text, what, RATE_UNITS, "bit, kbit, mbit or gbit (e.g. 100mbit)"),
  );
  if (bits < MIN_RATE || bits > MAX_RATE) {
    throw new CdfsError("USAGE", `${what} ${JSON.stringify(text)}: use 8kbit..1tbit`);
  }
  return bits;
}

/**
 * Parses a duration: a number and a unit (`us`, `ms`, `s`).
 *
 * @example
 * ```ts
 * import { parseDuration } from "./link_spec.ts";
 * console.log(parseDuration("10ms")); // 10
 * console.log(parseDuration("250us")); // 0.25
 * ```
 *
 * @param text The duration, e.g. `1ms`.
 * @param what How to call the value in messages (default `duration`).
 * @returns Milliseconds (may be fractional), 0..3600000.
 * @throws {CdfsError} USAGE for a malformed value, a missing or unknown unit, or more than an
 * hour.
 */
export function parseDuration(text: string, what = "duration"): number {
  const ms = numberWithUnit(text, what, DURATION_UNITS, "us, ms or s (e.g. 1ms)");
  if (ms > MAX_DURATION_MS) {
    throw new CdfsError("USAGE", `${what} ${JSON.stringify(text)}: more than an hour`);
  }
  return ms;
}

/** A number times its unit's scale in `units` (unit names in lower case, matched in any case). */
function numberWithUnit(
  text: string,
  what: string,
  units: Readonly<Record<string, number>>,
  expected: string,
): number {
  const match = NUMBER_WITH_UNIT.exec(text);
  const scale = match === null ? undefined : units[match[2]!.toLowerCase()];
  if (match === null || scale === undefined) {
    throw new CdfsError(
      "USAGE",
      `${what} ${JSON.stringify(text)}: expected a number and a unit of ${expected}`,
    );
  }
  return Number(match[1]) * scale;
}

/**
 * Checks link settings: a positive whole rate if any, a finite delay >= 0, and a jitter between
 * 0 and the delay (a hold is never negative, and clamping would shift the mean).
 *
 * @example
 * ```ts
 * import { validateLink } from "./link_spec.ts";
 * validateLink({ delayMs: 10, jitterMs: 2 }, "--congest");
 * ```
 *
 * @param link The settings.
 * @param what How to call them in messages.
 * @throws {CdfsError} USAGE naming the bad value.
 */
export function validateLink(link: LinkSettings, what: string): void {
  const { rateBitsPerSecond: rate, delayMs, jitterMs } = link;
  if (rate !== undefined && (!Number.isSafeInteger(rate) || rate < MIN_RATE || rate > MAX_RATE)) {
    throw new CdfsError("USAGE", `${what}: the rate must be a whole number of bit/s, 8000..1e12`);
  }
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_DURATION_MS) {
    throw new CdfsError("USAGE", `${what}: the delay must be 0..3600000 ms, got ${delayMs}`);
  }
  if (!Number.isFinite(jitterMs) || jitterMs < 0 || jitterMs > delayMs) {
    throw new CdfsError(
      "USAGE",
      `${what}: the jitter must be between 0 and the delay (${delayMs} ms), got ${jitterMs} ms`,
    );
  }
}

/**
 * Parses `--congest P%:RATE:DELAY[:JITTER]`, e.g. `25%:500mbit:100ms:10ms`: a quarter of the
 * nodes are limited to 500 Mbit/s with 100 ± 10 ms of one-way delay.
 *
 * @example
 * ```ts
 * import { parseCongestSpec } from "./link_spec.ts";
 * const spec = parseCongestSpec("50%:100mbit:20ms");
 * console.log(spec.link.rateBitsPerSecond, spec.link.jitterMs); // 100000000 0
 * ```
 *
 * @param text The specification.
 * @param what How to call it in messages (default `--congest`).
 * @returns The fraction and the link settings.
 * @throws {CdfsError} USAGE naming the part that is wrong.
 */
export function parseCongestSpec(text: string, what = "--congest"): CongestSpec {
  const parts = text.split(":");
  if (parts.length < 3 || parts.length > 4) {
    throw new CdfsError(
      "USAGE",
      `${what} ${JSON.stringify(text)}: expected P%:RATE:DELAY[:JITTER], e.g. ` +
        `25%:500mbit:100ms:10ms`,
    );
  }
  const [percentText, rateText, delayText, jitterText] = parts as [
    string,
    string,
    string,
    string | undefined,
  ];
  const percent = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(percentText);
  if (percent === null || Number(percent[1]) > 100) {
    throw new CdfsError(
      "USAGE",
      `${what}: ${JSON.stringify(percentText)} is not a percentage 0%..100%`,
    );
  }
  const link: LinkSettings = {
    rateBitsPerSecond: parseRate(rateText, `${what} rate`),
    delayMs: parseDuration(delayText, `${what} delay`),
    jitterMs: jitterText === undefined ? 0 : parseDuration(jitterText, `${what} jitter`),
  };
  validateLink(link, what);
  return { fraction: Number(percent[1]) / 100, link };
}

/**
 * How many of `nodes` a fraction picks: rounded to the nearest count, but at least one when the
 * fraction is above 0 (asking for congestion and getting none would be a silent no-op).
 *
 * @example
 * ```ts
 * import { congestedCount } from "./link_spec.ts";
 * console.log(congestedCount(16, 0.25), congestedCount(3, 0.1)); // 4 1
 * ```
 *
 * @param nodes The number of nodes.
 * @param fraction 0..1.
 * @returns The count, 0..nodes.
 */
export function congestedCount(nodes: number, fraction: number): number {
  if (fraction <= 0 || nodes === 0) return 0;
  return Math.min(nodes, Math.max(1, Math.round(nodes * fraction)));
}

/**
 * Picks `count` distinct node indices out of `nodes`, the same ones for the same seed (a partial
 * Fisher-Yates shuffle driven by {@linkcode seededRandom}).
 *
 * @example
 * ```ts
 * import { pickNodes } from "./link_spec.ts";
 * console.log(pickNodes(16, 4, 7).length); // 4
 * ```
 *
 * @param nodes The number of nodes.
 * @param count How many to pick, 0..nodes.
 * @param seed Any 32-bit integer.
 * @returns The picked indices, ascending.
 */
export function pickNodes(nodes: number, count: number, seed: number): number[] {
  const random = seededRandom(seed);
  const order = Array.from({ length: nodes }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (nodes - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, count).sort((a, b) => a - b);
}

/**
 * Options of {@linkcode assignLinks}.
 *
 * @example
 * ```ts
 * import type { AssignLinksOptions } from "./link_spec.ts";
 * const options: AssignLinksOptions = { nodes: 4, base: { delayMs: 1, jitterMs: 0 } };
 * ```
 */
export interface AssignLinksOptions {
  /** The number of nodes. */
  readonly nodes: number;
  /** The settings of every node that is not congested. */
  readonly base: LinkSettings;
  /** Which fraction of the nodes gets which other settings. */
  readonly congest?: CongestSpec;
  /** The seed of the choice of congested nodes (default 1: the same nodes every run). */
  readonly seed?: number;
}

/**
 * Gives every node its link settings: the base ones, or the congested ones for the nodes that
 * {@linkcode pickNodes} chooses with the seed.
 *
 * @example
 * ```ts
 * import { assignLinks, parseCongestSpec } from "./link_spec.ts";
 * const links = assignLinks({
 *   nodes: 8,
 *   base: { rateBitsPerSecond: 1e9, delayMs: 1, jitterMs: 0 },
 *   congest: parseCongestSpec("25%:500mbit:100ms:10ms"),
 * });
 * console.log(links.filter((node) => node.congested).length); // 2
 * ```
 *
 * @param options The node count, the settings and the seed.
 * @returns One entry per node, in node order.
 * @throws {CdfsError} USAGE for invalid settings.
 */
export function assignLinks(options: AssignLinksOptions): NodeLink[] {
  validateLink(options.base, "link");
  const congest = options.congest;
  if (congest !== undefined) validateLink(congest.link, "--congest");
  const picked = congest === undefined ? new Set<number>() : new Set(
    pickNodes(options.nodes, congestedCount(options.nodes, congest.fraction), options.seed ?? 1),
  );
  return Array.from({ length: options.nodes }, (_, i) => {
    const congested = picked.has(i);
    return { link: congested ? congest!.link : options.base, congested };
  });
}

/**
 * A small seeded generator of numbers in [0, 1) (mulberry32): reproducible choices, not
 * cryptography.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./link_spec.ts";
 * const a = seededRandom(42), b = seededRandom(42);
 * console.log(a() === b()); // true
 * ```
 *
 * @param seed Any number; its low 32 bits are used.
 * @returns The generator.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
