/**
 * The link-limited ideal time of an encode: how long the data would take if the links were
 * the only limit (no CPU, no disk, no protocol cost), for the two shapes of encode the RapidRAID
 * experiment compares.
 *
 * - **Pipeline** (RapidRAID): node 0 → node 1 → ... → node n-1, each forwarding a stream as long
 *   as one part. Every node sends and receives one part's worth, so the transfer takes
 *   `part / rate`; on top comes the pipeline fill: every chunk is received whole before the
 *   next node computes on it, so each of the n nodes adds one chunk time and its one-way delay,
 *   `n × (chunk / rate + delay)`.
 * - **Coordinator** (classical RS(n,k)): node k pulls the k parts from nodes 0..k-1 through its
 *   one link, `k × part / rate`, and sends m-1 parities on (the copy of parity 0 stays local);
 *   on top, one chunk and one delay for the slowest source, and one of each for the parities.
 *
 * Links are full duplex and shaped at the node on both sides (as `cluster up --netns` does:
 * what a node sends and what it receives are each limited to its rate), so the transfer bound
 * is, over all nodes, the larger of the bytes a node sends and receives over its rate.
 * Concurrent encodes (`objects` > 1) put object o on the node list rotated by o (so the
 * coordinators and the pipeline heads are spread over the nodes, as placement does in a real
 * system) and add up every node's bytes; the fill is that of the slowest object.
 *
 * The rate is the shaper's nominal one: TCP over Ethernet carries 1448 bytes of data per
 * 1514-byte frame, so even a perfect transfer takes 1514/1448 = 1.045 times the ideal transfer
 * time. The ideal does not count the request set-up either (a pull pipeline's requests travel
 * down the chain before data flows back up).
 *
 * @module
 */

/**
 * One node's link, as far as the ideal needs it.
 *
 * @example
 * ```ts
 * import type { IdealLink } from "./ideal.ts";
 * const link: IdealLink = { rateBitsPerSecond: 200e6, delayMs: 1 };
 * ```
 */
export interface IdealLink {
  /** Bits per second the node may send, and receive; undefined when not known. */
  readonly rateBitsPerSecond?: number;
  /** The one-way delay of what the node sends, in milliseconds. */
  readonly delayMs: number;
}

/**
 * The shape of an encode's data flow over its logical nodes.
 *
 * @example
 * ```ts
 * import type { EncodeShape } from "./ideal.ts";
 * const rapidraid: EncodeShape = { kind: "pipeline", nodes: 16 };
 * const rs: EncodeShape = { kind: "coordinator", k: 11, m: 5 };
 * ```
 */
export type EncodeShape =
  | { readonly kind: "pipeline"; readonly nodes: number }
  | { readonly kind: "coordinator"; readonly k: number; readonly m: number };

/**
 * Options of {@linkcode idealEncode}.
 *
 * @example
 * ```ts
 * import type { IdealOptions } from "./ideal.ts";
 * const options: IdealOptions = {
 *   shape: { kind: "pipeline", nodes: 16 },
 *   partBytes: 6_100_806,
 *   chunkBytes: 1 << 20,
 *   links: Array.from({ length: 16 }, () => ({ rateBitsPerSecond: 200e6, delayMs: 1 })),
 * };
 * ```
 */
export interface IdealOptions {
  /** The encode's shape. */
  readonly shape: EncodeShape;
  /** Bytes of one part (= one coded block). */
  readonly partBytes: number;
  /** Bytes of one step of the coding run (a part shorter than that is one step). */
  readonly chunkBytes: number;
  /** Every node's link, by cluster node index (at least as many as the shape uses). */
  readonly links: readonly IdealLink[];
  /** Encodes run at once, object o on the node list rotated by o (default 1). */
  readonly objects?: number;
}

/**
 * The ideal and its two terms.
 *
 * @example
 * ```ts
 * import type { IdealEstimate } from "./ideal.ts";
 * const e: IdealEstimate = { seconds: 0.93, transferSeconds: 0.24, fillSeconds: 0.69, bottleneckNode: 3 };
 * ```
 */
export interface IdealEstimate {
  /** `transferSeconds + fillSeconds`. */
  readonly seconds: number;
  /** The busiest link's bytes over its rate. */
  readonly transferSeconds: number;
  /** Pipeline fill, or the coordinator's first and last hop. */
  readonly fillSeconds: number;
  /** The cluster node with the busiest link. */
  readonly bottleneckNode: number;
}

/**
 * The link-limited ideal time of one encode, or of `objects` concurrent ones (see the module
 * notes for the model).
 *
 * @example
 * ```ts
 * import { idealEncode } from "./ideal.ts";
 * const links = Array.from({ length: 16 }, () => ({ rateBitsPerSecond: 8e6, delayMs: 0 }));
 * // 1 MB parts at 1 MB/s: RS pulls 11 of them through one link.
 * const rs = idealEncode({ shape: { kind: "coordinator", k: 11, m: 5 }, partBytes: 1e6, chunkBytes: 1e4, links });
 * console.log(rs?.transferSeconds); // 11
 * ```
 *
 * @param options The shape, sizes, links and number of objects.
 * @returns The estimate, or undefined when a node the encode uses has no known rate.
 * @throws {RangeError} When the shape needs more nodes than there are links.
 */
export function idealEncode(options: IdealOptions): IdealEstimate | undefined {
  const { shape, partBytes, links } = options;
  const chunkBytes = Math.min(options.chunkBytes, partBytes);
  const objects = options.objects ?? 1;
  const used = shape.kind === "pipeline" ? shape.nodes : shape.k + shape.m;
  if (used > links.length) {
    throw new RangeError(`the encode uses ${used} nodes, only ${links.length} links are given`);
  }
  const rates = links.map((link) => link.rateBitsPerSecond);
  if (rates.slice(0, used).some((rate) => rate === undefined || !(rate > 0))) return undefined;
  const bytesIn = new Array<number>(links.length).fill(0);
  const bytesOut = new Array<number>(links.length).fill(0);
  const flow = (from: number, to: number) => {
    bytesOut[from]! += partBytes;
    bytesIn[to]! += partBytes;
  };
  // Seconds to move `bytes` from one node to another, each end limited to its rate.
  const hop = (from: number, to: number, bytes: number) =>
    bytes * 8 / Math.min(rates[from]!, rates[to]!) + links[from]!.delayMs / 1000;
  let fillSeconds = 0;
  for (let o = 0; o < objects; o++) {
    // Object o's logical node i is cluster node (i + o) mod used.
    const node = (i: number) => (i + o) % used;
    let fill = 0;
    if (shape.kind === "pipeline") {
      for (let i = 0; i + 1 < shape.nodes; i++) flow(node(i), node(i + 1));
      for (let i = 0; i < shape.nodes; i++) fill += hop(node(i), node(i), chunkBytes);
    } else {
      const coordinator = node(shape.k);
      let slowestSource = 0;
      for (let j = 0; j < shape.k; j++) {
        flow(node(j), coordinator);
        slowestSource = Math.max(slowestSource, hop(node(j), coordinator, chunkBytes));
      }
      let slowestParity = 0;
      for (let p = 1; p < shape.m; p++) {
        flow(coordinator, node(shape.k + p));
        slowestParity = Math.max(slowestParity, hop(coordinator, node(shape.k + p), chunkBytes));
      }
      fill = slowestSource + slowestParity;
    }
    fillSeconds = Math.max(fillSeconds, fill);
  }
  let transferSeconds = 0;
  let bottleneckNode = 0;
  for (let i = 0; i < used; i++) {
    const seconds = Math.max(bytesIn[i]!, bytesOut[i]!) * 8 / rates[i]!;
    if (seconds > transferSeconds) {
      transferSeconds = seconds;
      bottleneckNode = i;
    }
  }
  return { seconds: transferSeconds + fillSeconds, transferSeconds, fillSeconds, bottleneckNode };
}
