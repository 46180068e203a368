/**
 * The `tc` shapers of the emulated networks: a `tbf` (or `htb`) qdisc per device whose token
 * bucket holds 2 ms of traffic and at least 128 KiB (see `netns.ts` for why).
 *
 * @module
 */

/** Time the token bucket holds: enough for the 64 KiB GSO packets of a veth at 1 Gbit/s. */
const BUCKET_MS = 2;
const MIN_BUCKET_BYTES = 128 * 1024;
/** How much a shaper queues before dropping, as time at its rate. */
const QUEUE_LATENCY = "20ms";

/**
 * The `tc` arguments of the root shaper of a device (for `htb`, its qdisc; the class comes from
 * the same sizes).
 *
 * @example
 * ```ts
 * import { shaperArgs } from "./netns_shaping.ts";
 * console.log(shaperArgs("cdfs-demo-n0", "eth0", 1e9, "tbf").join(" "));
 * // "-n cdfs-demo-n0 qdisc add dev eth0 root tbf rate 1000000000bit burst 250000b latency 20ms"
 * ```
 *
 * @param namespace The namespace of the device.
 * @param device The device.
 * @param rateBitsPerSecond The rate.
 * @param shaper `tbf` or `htb`.
 * @returns The arguments of `tc`.
 */
export function shaperArgs(
  namespace: string,
  device: string,
  rateBitsPerSecond: number,
  shaper: "tbf" | "htb",
): string[] {
  const base = ["-n", namespace, "qdisc", "add", "dev", device, "root"];
  if (shaper === "htb") return [...base, "handle", "1:", "htb", "default", "1"];
  return [
    ...base,
    "tbf",
    "rate",
    `${rateBitsPerSecond}bit`,
    "burst",
    `${bucketBytes(rateBitsPerSecond)}b`,
    "latency",
    QUEUE_LATENCY,
  ];
}

/**
 * The `tc` arguments of the one `htb` class under the root qdisc of {@linkcode shaperArgs}.
 *
 * @example
 * ```ts
 * import { htbClassArgs } from "./netns_shaping.ts";
 * console.log(htbClassArgs("cdfs-demo-n0", "eth0", 1e9).slice(0, 4).join(" ")); // "-n cdfs-demo-n0 class add"
 * ```
 *
 * @param namespace The namespace of the device.
 * @param device The device.
 * @param rateBitsPerSecond The rate.
 * @returns The arguments of `tc`.
 */
export function htbClassArgs(
  namespace: string,
  device: string,
  rateBitsPerSecond: number,
): string[] {
  const burst = `${bucketBytes(rateBitsPerSecond)}b`;
  return [
    "-n",
    namespace,
    "class",
    "add",
    "dev",
    device,
    "parent",
    "1:",
    "classid",
    "1:1",
    "htb",
    "rate",
    `${rateBitsPerSecond}bit`,
    "ceil",
    `${rateBitsPerSecond}bit`,
    "burst",
    burst,
    "cburst",
    burst,
    // One class: the quantum only silences htb's warning about a large default.
    "quantum",
    "60000",
  ];
}

function bucketBytes(rateBitsPerSecond: number): number {
  return Math.max(MIN_BUCKET_BYTES, Math.ceil(rateBitsPerSecond / 8 * BUCKET_MS / 1000));
}
