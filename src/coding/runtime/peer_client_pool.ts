/**
 * Connections a node keeps open to the other nodes between coding runs. A pull pipeline sets
 * itself up one hop after the other (node i connects to node i - 1 only once it has its own
 * request), so every hop's connect and preamble exchange adds up: over a 200 ms round trip
 * (the paper's congested links) two round trips per hop. A connection that ended its last
 * exchange cleanly (the run committed) is kept, by peer and stall timeout, and the next run
 * to that peer sends its request on it at once. The protocol allows it: after the committed
 * reply the connection is free for the next request (docs/protocol.md, CODING).
 *
 * A kept connection is used again only while the peer neither closed it nor sent anything on
 * it (`DataNodeClient.reusable`); at most a few are kept per peer, each for at most `idleMs`
 * (below a node's 60 s idle timeout, so the peer rarely closes one first), and all are closed
 * when the node shuts down.
 *
 * @module
 */

import type { DataNodeClient } from "../../client/datanode_client.ts";

/** The default `idleMs`: half a node's default idle timeout. */
const DEFAULT_IDLE_MS = 30_000;
/** The default `maxPerPeer`. */
const DEFAULT_MAX_PER_PEER = 4;

/**
 * How many connections a {@linkcode PeerClientPool} keeps and for how long.
 *
 * @example
 * ```ts
 * import type { PeerClientPoolOptions } from "./peer_client_pool.ts";
 * const options: PeerClientPoolOptions = { idleMs: 10_000, maxPerPeer: 2 };
 * ```
 */
export interface PeerClientPoolOptions {
  /** How long an unused connection is kept (default 30 s). */
  readonly idleMs?: number;
  /** How many unused connections are kept per peer and stall timeout (default 4). */
  readonly maxPerPeer?: number;
}

interface Kept {
  readonly client: DataNodeClient;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Open clients of other nodes, kept between coding runs.
 *
 * @example
 * ```ts
 * import { PeerClientPool } from "./peer_client_pool.ts";
 * const pool = new PeerClientPool();
 * console.log(pool.take("127.0.0.1:13100|60000"), pool.size); // null 0
 * pool.close();
 * ```
 */
export class PeerClientPool {
  readonly #idleMs: number;
  readonly #maxPerPeer: number;
  readonly #kept = new Map<string, Kept[]>();
  #closed = false;

  /**
   * Makes an empty pool.
   *
   * @param options How many connections to keep and how long.
   */
  constructor(options: PeerClientPoolOptions = {}) {
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#maxPerPeer = options.maxPerPeer ?? DEFAULT_MAX_PER_PEER;
  }

  /** How many connections are kept now. */
  get size(): number {
    let n = 0;
    for (const list of this.#kept.values()) n += list.length;
    return n;
  }

  /**
   * A kept client for `key` (a peer's address and a stall timeout) that can send a request at
   * once, taken out of the pool; null when there is none. Kept ones that cannot are closed.
   *
   * @param key The peer and stall timeout the client was kept under.
   * @returns The client, or null.
   */
  take(key: string): DataNodeClient | null {
    const list = this.#kept.get(key);
    while (list !== undefined && list.length > 0) {
      const { client, timer } = list.pop()!;
      clearTimeout(timer);
      if (client.reusable) return client;
      client.close();
    }
    this.#kept.delete(key);
    return null;
  }

  /**
   * Keeps a client whose last exchange ended cleanly, for the next run with the same `key`;
   * closes it instead when it cannot be used again, the peer has enough kept, or the pool is
   * closed.
   *
   * @param key The peer's address and the stall timeout the client was used with.
   * @param client The client.
   */
  give(key: string, client: DataNodeClient): void {
    const list = this.#kept.get(key) ?? [];
    if (this.#closed || !client.reusable || list.length >= this.#maxPerPeer) {
      client.close();
      return;
    }
    const kept: Kept = {
      client,
      timer: setTimeout(() => {
        const at = list.indexOf(kept);
        if (at >= 0) list.splice(at, 1);
        if (list.length === 0 && this.#kept.get(key) === list) this.#kept.delete(key);
        client.close();
      }, this.#idleMs),
    };
    list.push(kept);
    this.#kept.set(key, list);
  }

  /** Closes every kept client; later ones given are closed at once. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const list of this.#kept.values()) {
      for (const { client, timer } of list) {
        clearTimeout(timer);
        client.close();
      }
    }
    this.#kept.clear();
  }
}
