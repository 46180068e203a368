/**
 * A datanode's peers: the addresses its CODING runs may connect to (docs/protocol.md, CODING,
 * peers). A request naming any other address is refused before a connection is made, so that
 * nobody who reaches a node can use it as a proxy or a port scanner.
 *
 * The members come from sources given at start (`cdfs datanode serve`):
 *
 * - `--namenode`: the addresses of every datanode registered with the namenode
 *   (LIST_DATANODES, dead ones included: a node that restarts is a member still);
 * - `--peers HOST:PORT,...`: a fixed list;
 * - `--peers-file FILE`: one address per line, or a cdfs cluster file (`cluster up` passes
 *   its own), read again when it changes.
 *
 * Several sources add up. The node's own addresses are members too. Only literal `IP:PORT`
 * members count ({@linkcode literalNodeAddress}): a request's host names are never resolved,
 * and a member a source gives as a host name (a node registered under its host name) matches
 * nothing; it is logged once.
 *
 * Freshness: a request naming an address the members lack makes the sources be asked again
 * before it is refused (at most once per `minRefreshMs` per source, all such requests sharing
 * one refresh), so a node that has just registered is admitted at once; members are also
 * refreshed in the background once older than `maxAgeMs`. A source that fails keeps its last
 * list (logged once per outage).
 *
 * @module
 */
import { isLoopbackAddress, literalNodeAddress } from "../core/address.ts";
import { LOOPBACK_PEERS, notAPeer, type PeerGate } from "../coding/runtime/coding_session.ts";
import { NameNodeClient } from "../namenode/client.ts";

/**
 * Where a node's peers come from.
 *
 * @example
 * ```ts
 * import type { PeerSource } from "./peers.ts";
 * const fixed: PeerSource = { name: "--peers", fetch: () => Promise.resolve(["10.0.0.1:13100"]) };
 * ```
 */
export interface PeerSource {
  /** How errors and the log name it, e.g. `--peers-file /etc/cdfs/peers`. */
  readonly name: string;
  /** The members' addresses now. */
  fetch(): Promise<readonly string[]>;
  /** The least time between two fetches (default: none). */
  readonly minRefreshMs?: number;
  /**
   * Whether the node may start before this source has answered (a namenode that is down must
   * not keep a datanode from serving): its first fetch is then made in the background.
   * Default false: a first fetch that fails stops the start.
   */
  readonly lenient?: boolean;
  /** Abandons a fetch under way (the node is stopping). */
  close?(): void;
}

/**
 * Options of {@linkcode PeerMembership.start}.
 *
 * @example
 * ```ts
 * import type { PeerMembershipOptions } from "./peers.ts";
 * const options: PeerMembershipOptions = {
 *   sources: [{ name: "--peers", fetch: () => Promise.resolve(["10.0.0.1:13100"]) }],
 *   self: ["10.0.0.2:13100"],
 * };
 * ```
 */
export interface PeerMembershipOptions {
  /** The sources (at least one). */
  readonly sources: readonly PeerSource[];
  /** This node's own addresses (its listening address, its advertised one): members too. */
  readonly self?: readonly string[];
  /** Refresh in the background when the members are older than this (default 60 s). */
  readonly maxAgeMs?: number;
  /** Told what happened, for the node's log (`event`: `peers`, `peers-failed`). */
  readonly log?: (event: string, message: string) => void;
}

/** One source's state: its last good list and its refresh. */
interface SourceState {
  readonly source: PeerSource;
  members: ReadonlySet<string>;
  fetchedAt: number;
  refreshing: Promise<void> | null;
  failing: boolean;
  /** Host names already logged as ignored. */
  readonly namesLogged: Set<string>;
}

/**
 * The peers of a datanode that has a membership source.
 *
 * @example
 * ```ts
 * import { PeerMembership } from "./peers.ts";
 * const peers = await PeerMembership.start({
 *   sources: [{ name: "--peers", fetch: () => Promise.resolve(["10.0.0.1:13100"]) }],
 * });
 * await peers.admit(["10.0.0.1:13100"]);
 * const error = await peers.admit(["10.0.0.9:22"]).catch((e) => e.message);
 * console.log(error); // "the request's node 0 (10.0.0.9:22) is not a peer of this node (not among ...)"
 * ```
 */
export class PeerMembership implements PeerGate {
  readonly #sources: SourceState[];
  readonly #self: ReadonlySet<string>;
  readonly #maxAgeMs: number;
  readonly #log: (event: string, message: string) => void;
  #closed = false;

  private constructor(options: PeerMembershipOptions) {
    this.#sources = options.sources.map((source) => ({
      source,
      members: new Set(),
      fetchedAt: -Infinity,
      refreshing: null,
      failing: false,
      namesLogged: new Set(),
    }));
    this.#self = new Set(
      (options.self ?? []).flatMap((address) => literalNodeAddress(address) ?? []),
    );
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#log = options.log ?? (() => {});
  }

  /**
   * Makes the membership and fetches every source once.
   *
   * @param options The sources, the node's own addresses, the refresh age, the log.
   * @returns The membership.
   * @throws {Error} The first fetch's error of a source whose first fetch fails (a typo in a
   * file name is an error at start, not a node that refuses every run).
   */
  static async start(options: PeerMembershipOptions): Promise<PeerMembership> {
    if (options.sources.length === 0) throw new RangeError("a membership needs a source");
    const membership = new PeerMembership(options);
    await Promise.all(membership.#sources.map((state) => {
      if (!state.source.lenient) return membership.#fetch(state, true);
      membership.#refresh(state, true).catch(() => {});
    }));
    return membership;
  }

  /** Stops refreshing and abandons the fetches under way; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const state of this.#sources) state.source.close?.();
  }

  /** The members now, canonical `IP:PORT` (the node's own addresses included). */
  get members(): ReadonlySet<string> {
    const all = new Set(this.#self);
    for (const state of this.#sources) for (const address of state.members) all.add(address);
    return all;
  }

  /**
   * Checks a request's node list: every address must be a member (asking the sources again
   * first when one is not).
   *
   * @param addresses The request's `nodes`.
   * @returns Resolves when every address is a member.
   * @throws {CdfsError} `BAD_REQUEST` naming the first node that is not.
   */
  async admit(addresses: readonly string[]): Promise<void> {
    if (!this.#closed) {
      const stale = this.#sources.filter((s) => performance.now() - s.fetchedAt > this.#maxAgeMs);
      for (const state of stale) this.#refresh(state).catch(() => {});
    }
    const first = this.#missing(addresses);
    if (first < 0) return;
    // A host name never matches: no source is asked again for one.
    const names = addresses.findIndex((address) => literalNodeAddress(address) === undefined);
    if (names >= 0 && names <= first) throw this.#refusal(names, addresses[names]!);
    if (!this.#closed) await Promise.all(this.#sources.map((state) => this.#refresh(state)));
    const index = this.#missing(addresses);
    if (index < 0) return;
    throw this.#refusal(index, addresses[index]!);
  }

  #refusal(index: number, address: string): Error {
    const names = this.#sources.map((state) => state.source.name).join(", ");
    return notAPeer(index, address, `not among the members of ${names}`);
  }

  /** The index of the first address that is not a member, or -1. */
  #missing(addresses: readonly string[]): number {
    const members = this.members;
    return addresses.findIndex((address) => {
      const literal = literalNodeAddress(address);
      return literal === undefined || !members.has(literal);
    });
  }

  /** Fetches a source again, once its least interval has passed; shared by concurrent calls. */
  #refresh(state: SourceState, first = false): Promise<void> {
    state.refreshing ??= (async () => {
      const wait = state.fetchedAt + (state.source.minRefreshMs ?? 0) - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!this.#closed) await this.#fetch(state, first);
    })().finally(() => state.refreshing = null);
    return state.refreshing;
  }

  async #fetch(state: SourceState, first: boolean): Promise<void> {
    const { source } = state;
    let addresses: readonly string[];
    try {
      addresses = await source.fetch();
    } catch (e) {
      state.fetchedAt = performance.now();
      if (first && !source.lenient) throw e;
      // A namenode down at start is the reporter's to log (`namenode-unreachable`).
      if (!state.failing && !first) {
        state.failing = true;
        this.#log(
          "peers-failed",
          `${source.name}: ${e instanceof Error ? e.message : String(e)} ` +
            `(keeping its last ${state.members.size} members)`,
        );
      }
      return;
    }
    state.fetchedAt = performance.now();
    state.failing = false;
    const members = new Set<string>();
    const names: string[] = [];
    for (const address of addresses) {
      const literal = literalNodeAddress(address);
      if (literal !== undefined) members.add(literal);
      else if (!state.namesLogged.has(address)) {
        state.namesLogged.add(address);
        names.push(address);
      }
    }
    const changed = members.size !== state.members.size ||
      [...members].some((address) => !state.members.has(address));
    state.members = members;
    // The first list is the node's configuration, not news (the log starts with `listening`).
    if (changed && !first) this.#log("peers", `${source.name}: ${members.size} members`);
    if (names.length > 0) {
      this.#log(
        "peers",
        `${source.name}: ignored ${names.join(", ")}: a peer is a literal IP:PORT ` +
          "(register or list nodes by address, e.g. datanode serve --advertise IP:PORT)",
      );
    }
  }
}

/**
 * A node's peers when it has no membership source: {@linkcode LOOPBACK_PEERS} when it listens
 * on loopback (only this host reaches it), else none at all (every CODING request naming a
 * node is refused: give it `--namenode`, `--peers` or `--peers-file`).
 *
 * @example
 * ```ts
 * import { defaultPeers } from "./peers.ts";
 * const gate = defaultPeers("0.0.0.0:13100");
 * console.log(await gate.admit(["10.0.0.1:13100"]).catch((e) => e.code)); // "BAD_REQUEST"
 * ```
 *
 * @param listening The address the node listens on.
 * @returns Its peers.
 */
export function defaultPeers(listening: string): PeerGate {
  if (isLoopbackAddress(listening)) return LOOPBACK_PEERS;
  return {
    admit: (addresses) =>
      addresses.length === 0 ? Promise.resolve() : Promise.reject(
        notAPeer(
          0,
          addresses[0]!,
          `this node listens on ${listening} and has no peer list: start it with --namenode, ` +
            "--peers or --peers-file",
        ),
      ),
  };
}

/**
 * The datanodes registered with a namenode, as a source of peers: their addresses, fetched
 * with LIST_DATANODES over a connection made for each fetch (at most one a second).
 *
 * @example
 * Not run by `deno test --doc`: it needs a running namenode.
 * ```ts ignore
 * import { namenodePeers, PeerMembership } from "./peers.ts";
 * const peers = await PeerMembership.start({ sources: [namenodePeers(["127.0.0.1:13000"])] });
 * ```
 *
 * @param namenodes The namenodes (the first that answers is asked).
 * @param options How long connecting may take (default 3 s), the least time between fetches
 * (default 1 s).
 * @returns The source.
 */
export function namenodePeers(
  namenodes: readonly string[],
  options: { connectTimeoutMs?: number; minRefreshMs?: number } = {},
): PeerSource {
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  const stop = new AbortController();
  const open = new Set<NameNodeClient>();
  return {
    name: `the namenode's datanodes (${namenodes.join(",")})`,
    minRefreshMs: options.minRefreshMs ?? 1000,
    lenient: true,
    close: () => {
      stop.abort();
      for (const client of open) client.close();
    },
    fetch: async () => {
      using client = await NameNodeClient.connect(namenodes, {
        connectTimeoutMs,
        idleTimeoutMs: 10_000,
        signal: stop.signal,
      });
      open.add(client);
      using _forget = { [Symbol.dispose]: () => open.delete(client) };
      const addresses: string[] = [];
      for await (const datanode of client.datanodes()) addresses.push(datanode.address);
      return addresses;
    },
  };
}
