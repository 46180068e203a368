/**
 * A thin layer over the `etcd3` client's raw KV and lease RPCs: string keys, reads retried
 * while the cluster is unreachable or electing a leader, and {@linkcode EtcdKv.optimistic}, the
 * loop every update of the etcd backend goes through: read, decide, write in one transaction
 * conditioned on the revisions read, and start over when another writer got there first (a
 * bounded number of times).
 *
 * The client's own retry policy is switched off: it would resend a transaction whose answer
 * was lost, which is not safe for a non-idempotent write. Here a transaction that fails in
 * transport is *ambiguous* (it may have been applied): the next attempt re-reads and the
 * caller recognizes its own write by the operation token it put in the record.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  castGrpcError,
  ClientClosedError,
  CompareResult,
  CompareTarget,
  Etcd3,
  EtcdError,
  GRPCGenericError,
  GRPCInvalidArgumentError,
  type ICompare,
  type IKeyValue,
  type IOptions,
  type IRequestOp,
  isRecoverableError,
  type ITxnResponse,
} from "etcd3";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import { prefixEnd } from "./etcd_keys.ts";

/**
 * One key-value pair, with strings.
 *
 * @example
 * ```ts
 * import type { Kv } from "./etcd_kv.ts";
 * const kv: Kv = { key: "/cdfs/schema", value: "{}", modRevision: "5", lease: "0" };
 * ```
 */
export interface Kv {
  /** The key. */
  readonly key: string;
  /** The value (UTF-8). */
  readonly value: string;
  /** The revision of its last change: what updates are conditioned on. */
  readonly modRevision: string;
  /** The lease it is attached to ("0": none). */
  readonly lease: string;
}

/**
 * Options of {@linkcode EtcdKv.connect}.
 *
 * @example
 * ```ts
 * import type { EtcdKvOptions } from "./etcd_kv.ts";
 * const options: EtcdKvOptions = { unavailableAfterMs: 5000 };
 * ```
 */
export interface EtcdKvOptions {
  /** How long calls keep retrying an unreachable cluster before `UNAVAILABLE` (default 15 s). */
  readonly unavailableAfterMs?: number;
  /** How many lost races an update may have before `CONFLICT` (default 64). */
  readonly maxConflicts?: number;
  /** The timeout of one RPC (default 5 s). */
  readonly callTimeoutMs?: number;
}

/**
 * One step of an optimistic update: either the outcome is already known (nothing to write, or
 * a previous ambiguous attempt turned out applied), or a transaction to try.
 *
 * @example
 * ```ts
 * import type { Step } from "./etcd_kv.ts";
 * const step: Step<number> = { done: 1 };
 * ```
 *
 * @internal The etcd backend's own plumbing. Marked so for `deno doc --lint`, which takes the
 * `etcd3` types it names for private ones (it does so for any npm package's types).
 */
export type Step<T> =
  | { readonly done: T }
  | {
    readonly compare: ICompare[];
    readonly success: IRequestOp[];
    /** The outcome when the transaction succeeds. */
    readonly result: T;
    /** Called with the revision the transaction wrote at (the keys' new `modRevision`). */
    readonly onSuccess?: (revision: string) => void;
  };

/** The client policy that runs a call once (see the module comment). */
const RUN_ONCE = {
  execute: <R>(fn: () => Promise<R>) => fn(),
} as unknown as NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

/**
 * Builders of transaction operations and comparisons, by string key.
 *
 * @example
 * ```ts
 * import { ops } from "./etcd_kv.ts";
 * const put = ops.put("/cdfs/a", "1");
 * ```
 */
export const ops = {
  /** Puts a value, optionally attached to a lease. */
  put(key: string, value: string, lease?: string): IRequestOp {
    return {
      request_put: {
        key: Buffer.from(key),
        value: Buffer.from(value),
        ...(lease === undefined ? {} : { lease }),
      },
    };
  },
  /** Deletes one key. */
  del(key: string): IRequestOp {
    return { request_delete_range: { key: Buffer.from(key) } };
  },
  /** Deletes every key with the prefix. */
  delPrefix(prefix: string): IRequestOp {
    const key = Buffer.from(prefix);
    return { request_delete_range: { key, range_end: prefixEnd(key) } };
  },
  /** Reads one key. */
  get(key: string): IRequestOp {
    return { request_range: { key: Buffer.from(key) } };
  },
  /** The key's last change is `revision`. */
  unchanged(key: string, revision: string): ICompare {
    return {
      key: Buffer.from(key),
      target: CompareTarget.Mod,
      result: CompareResult.Equal,
      mod_revision: revision,
    };
  },
  /** The key does not exist. */
  absent(key: string): ICompare {
    return {
      key: Buffer.from(key),
      target: CompareTarget.Create,
      result: CompareResult.Equal,
      create_revision: 0,
    };
  },
  /** The key exists. */
  present(key: string): ICompare {
    return {
      key: Buffer.from(key),
      target: CompareTarget.Version,
      result: CompareResult.Greater,
      version: 0,
    };
  },
  /** `unchanged` when a revision was read, `absent` otherwise. */
  asRead(key: string, read: Kv | undefined): ICompare {
    return read === undefined ? ops.absent(key) : ops.unchanged(key, read.modRevision);
  },
};

/**
 * What an attempt of {@linkcode EtcdKv.optimistic} is told.
 *
 * @example
 * ```ts
 * import type { AttemptState } from "./etcd_kv.ts";
 * const first: AttemptState = { attempt: 0, ambiguous: false };
 * ```
 */
export interface AttemptState {
  /** 0 for the first call. */
  readonly attempt: number;
  /** Whether the previous attempt's transaction may or may not have been applied. */
  readonly ambiguous: boolean;
}

/** A transaction whose outcome is unknown (transport failure after sending it). */
class AmbiguousTxn extends Error {}

/**
 * String-keyed access to one etcd cluster.
 *
 * @example
 * ```ts
 * import { EtcdKv } from "./etcd_kv.ts";
 * const kv = EtcdKv.connect(["http://127.0.0.1:2379"]);
 * // await kv.get("/cdfs/schema");
 * kv.close();
 * ```
 */
export class EtcdKv {
  readonly #client: Etcd3;
  readonly #unavailableAfterMs: number;
  readonly #maxConflicts: number;
  readonly #callTimeoutMs: number;
  /** The hosts, for messages. */
  readonly hosts: readonly string[];

  private constructor(client: Etcd3, hosts: readonly string[], options: EtcdKvOptions) {
    this.#client = client;
    this.hosts = hosts;
    this.#unavailableAfterMs = options.unavailableAfterMs ?? 15_000;
    this.#maxConflicts = options.maxConflicts ?? 64;
    this.#callTimeoutMs = options.callTimeoutMs ?? 5_000;
  }

  /**
   * Creates a client (it connects lazily, on the first call).
   *
   * @example
   * ```ts
   * import { EtcdKv } from "./etcd_kv.ts";
   * EtcdKv.connect(["http://127.0.0.1:2379", "http://127.0.0.1:22379"]).close();
   * ```
   *
   * @param hosts `http://HOST:PORT` of one or more members.
   * @param options Retry bounds.
   * @returns The client.
   */
  static connect(hosts: readonly string[], options: EtcdKvOptions = {}): EtcdKv {
    const client = new Etcd3({
      hosts: [...hosts],
      dialTimeout: options.callTimeoutMs ?? 5_000,
      faultHandling: { global: RUN_ONCE },
    });
    return new EtcdKv(client, hosts, options);
  }

  /**
   * Reads one key.
   *
   * @example
   * ```ts
   * import { EtcdKv } from "./etcd_kv.ts";
   * async function schema(kv: EtcdKv) {
   *   return (await kv.get("/cdfs/schema"))?.value;
   * }
   * ```
   *
   * @param key The key.
   * @param revision Read as of this revision (a consistent snapshot with an earlier read).
   * @returns The pair, or undefined.
   */
  async get(key: string, revision?: string): Promise<Kv | undefined> {
    const res = await this.#retrying(`read ${key}`, () =>
      this.#client.kv.range({
        key: Buffer.from(key),
        ...(revision === undefined ? {} : { revision }),
      }, this.#callOptions()));
    const kv = res.kvs[0];
    return kv === undefined ? undefined : toKv(kv);
  }

  /**
   * Reads the keys with a prefix, in key order.
   *
   * @example
   * ```ts
   * import { EtcdKv } from "./etcd_kv.ts";
   * async function count(kv: EtcdKv) {
   *   return (await kv.range("/cdfs/nodes/")).kvs.length;
   * }
   * ```
   *
   * @param prefix The prefix.
   * @param options `from`: start at this key (inclusive) instead of the prefix; `limit`;
   * `revision`: as of this revision.
   * @returns The pairs, whether more follow, and the revision read at.
   */
  async range(
    prefix: string,
    options: { from?: string; limit?: number; revision?: string } = {},
  ): Promise<{ kvs: Kv[]; more: boolean; revision: string }> {
    const start = Buffer.from(prefix);
    const res = await this.#retrying(`read ${prefix}*`, () =>
      this.#client.kv.range({
        key: options.from === undefined ? start : Buffer.from(options.from),
        range_end: prefixEnd(start),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        ...(options.revision === undefined ? {} : { revision: options.revision }),
      }, this.#callOptions()));
    return { kvs: res.kvs.map(toKv), more: res.more, revision: res.header.revision };
  }

  /**
   * Reads many keys, in read-only transactions of up to 100 reads (one round trip each).
   *
   * @example
   * ```ts
   * import { EtcdKv } from "./etcd_kv.ts";
   * async function two(kv: EtcdKv) {
   *   return await kv.getMany(["/cdfs/nodes/a", "/cdfs/nodes/b"]);
   * }
   * ```
   *
   * @param keys The keys.
   * @returns One entry per key, undefined where absent.
   */
  async getMany(keys: readonly string[]): Promise<(Kv | undefined)[]> {
    const out: (Kv | undefined)[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      const batch = keys.slice(i, i + 100);
      const res = await this.#retrying(
        "read keys",
        () => this.#client.kv.txn({ success: batch.map((k) => ops.get(k)) }, this.#callOptions()),
      );
      for (const r of res.responses) {
        const kv = r.response_range?.kvs[0];
        out.push(kv === undefined ? undefined : toKv(kv));
      }
    }
    return out;
  }

  /**
   * Writes unconditionally in one transaction, retrying transient failures: only for writes
   * that are safe to apply twice (staging keys nobody reads yet, deleting garbage).
   *
   * @example
   * ```ts
   * import { EtcdKv, ops } from "./etcd_kv.ts";
   * async function put(kv: EtcdKv) {
   *   await kv.writeIdempotent([ops.put("/cdfs/x", "1")]);
   * }
   * ```
   *
   * @param success The operations.
   * @internal For `deno doc --lint`, which takes the `etcd3` type it names for a private one.
   */
  async writeIdempotent(success: IRequestOp[]): Promise<void> {
    await this.#retrying("write", () => this.#client.kv.txn({ success }, this.#callOptions()));
  }

  /**
   * Reads every key with a prefix as of one revision, in pages (a gRPC message is bounded to
   * 4 MiB).
   *
   * @example
   * ```ts
   * import { EtcdKv } from "./etcd_kv.ts";
   * async function all(kv: EtcdKv) {
   *   return (await kv.rangeAll("/cdfs/placements/")).kvs.length;
   * }
   * ```
   *
   * @param prefix The prefix.
   * @param revision As of this revision (default: the latest, fixed by the first page).
   * @returns The pairs and the revision.
   */
  async rangeAll(prefix: string, revision?: string): Promise<{ kvs: Kv[]; revision: string }> {
    const kvs: Kv[] = [];
    let from: string | undefined;
    let at = revision;
    for (;;) {
      const page = await this.range(prefix, {
        limit: 2000,
        ...(from === undefined ? {} : { from }),
        ...(at === undefined ? {} : { revision: at }),
      });
      at ??= page.revision;
      kvs.push(...page.kvs);
      if (!page.more || page.kvs.length === 0) return { kvs, revision: at };
      from = `${page.kvs[page.kvs.length - 1]!.key}\0`;
    }
  }

  /**
   * Runs an optimistic update: `attempt` reads what it needs and returns either the outcome or
   * a transaction conditioned on what it read; when the conditions fail (someone else wrote
   * first) it is called again, at most `maxConflicts` times with a short random backoff. When
   * a transaction's outcome is unknown, the next attempt gets `ambiguous = true` and should
   * recognize its own write; `attempt` counts the calls from 0 (an attempt after the first may
   * need to read what the first could assume).
   *
   * @example
   * ```ts
   * import { EtcdKv, ops } from "./etcd_kv.ts";
   * async function increment(kv: EtcdKv, key: string): Promise<number> {
   *   return await kv.optimistic(`increment ${key}`, async () => {
   *     const read = await kv.get(key);
   *     const next = Number(read?.value ?? "0") + 1;
   *     return { compare: [ops.asRead(key, read)], success: [ops.put(key, `${next}`)], result: next };
   *   });
   * }
   * ```
   *
   * @param what The update, for messages.
   * @param attempt Reads and decides; may throw a `CdfsError` to stop.
   * @returns The outcome.
   * @throws {CdfsError} What `attempt` throws; `CONFLICT` after too many lost races;
   * `UNAVAILABLE` when etcd stays unreachable.
   */
  async optimistic<T>(
    what: string,
    attempt: (state: AttemptState) => Promise<Step<T>>,
  ): Promise<T> {
    const deadline = Date.now() + this.#unavailableAfterMs;
    let ambiguous = false;
    let lastError: unknown;
    for (let conflicts = 0, n = 0; conflicts < this.#maxConflicts; n++) {
      const step = await attempt({ attempt: n, ambiguous });
      if ("done" in step) return step.done;
      try {
        const res = await this.#txnOnce(step.compare, step.success);
        if (res.succeeded) {
          step.onSuccess?.(res.header.revision);
          return step.result;
        }
        conflicts++;
        ambiguous = false;
        await sleep(Math.random() * Math.min(2 ** conflicts, 40));
      } catch (error) {
        if (!(error instanceof AmbiguousTxn)) throw error;
        lastError = error.cause;
        ambiguous = true;
        if (Date.now() > deadline) throw this.#unavailable(what, lastError);
        await sleep(backoff(Date.now(), deadline));
      }
    }
    throw new CdfsError(
      "CONFLICT",
      `gave up trying to ${what} after ${this.#maxConflicts} concurrent updates won the race`,
    );
  }

  /**
   * Grants a lease.
   *
   * @example
   * ```ts
   * import { EtcdKv } from "./etcd_kv.ts";
   * async function lease(kv: EtcdKv) {
   *   return await kv.grantLease(30);
   * }
   * ```
   *
   * @param ttlSeconds Its time to live (etcd may round it up to its minimum).
   * @returns The lease id.
   */
  async grantLease(ttlSeconds: number): Promise<string> {
    const res = await this.#retrying(
      "grant a lease",
      () => this.#client.leaseClient.leaseGrant({ TTL: ttlSeconds }, this.#callOptions()),
    );
    return res.ID;
  }

  /**
   * Renews a lease once.
   *
   * @example
   * ```ts
   * import { EtcdKv } from "./etcd_kv.ts";
   * async function renew(kv: EtcdKv, id: string) {
   *   if (!(await kv.keepAlive(id))) console.log("expired");
   * }
   * ```
   *
   * @param leaseId The lease.
   * @returns False when the lease had already expired (or never existed).
   */
  async keepAlive(leaseId: string): Promise<boolean> {
    const res = await this.#retrying("renew a lease", async () => {
      const stream = await this.#client.leaseClient.leaseKeepAlive(this.#callOptions());
      try {
        return await new Promise<{ TTL: string }>((resolve, reject) => {
          stream.on("data", resolve);
          // A stream's errors come raw from gRPC (the client casts only unary calls' errors):
          // cast, a member down (14 UNAVAILABLE) is transient and the retry goes to another.
          stream.on("error", (error: Error) => reject(castGrpcError(error)));
          stream.write({ ID: leaseId });
        });
      } finally {
        stream.end();
      }
    });
    return Number(res.TTL) > 0;
  }

  /** Closes the client. */
  close(): void {
    this.#client.close();
  }

  #callOptions(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.#callTimeoutMs) };
  }

  async #txnOnce(compare: ICompare[], success: IRequestOp[]): Promise<ITxnResponse> {
    try {
      return await this.#client.kv.txn({ compare, success }, this.#callOptions());
    } catch (error) {
      if (!transient(error)) throw this.#fatal("run a transaction", error);
      throw new AmbiguousTxn(`transaction outcome unknown: ${describe(error)}`, { cause: error });
    }
  }

  /** Runs an idempotent call, retrying transient failures until the deadline. */
  async #retrying<R>(what: string, call: () => Promise<R>): Promise<R> {
    const deadline = Date.now() + this.#unavailableAfterMs;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (!transient(error)) throw this.#fatal(what, error);
        if (Date.now() > deadline) throw this.#unavailable(what, error);
        await sleep(backoff(Date.now(), deadline));
      }
    }
  }

  #unavailable(what: string, error: unknown): CdfsError {
    return new CdfsError(
      "UNAVAILABLE",
      `etcd ${this.hosts.join(",")} unreachable for ${this.#unavailableAfterMs} ms (${what}): ${
        describe(error)
      }`,
      { cause: error },
    );
  }

  #fatal(what: string, error: unknown): CdfsError {
    if (isCdfsError(error)) return error;
    const closed = error instanceof ClientClosedError;
    return new CdfsError(
      closed ? "UNAVAILABLE" : "INTERNAL",
      `etcd ${this.hosts.join(",")}: cannot ${what}: ${describe(error)}`,
      { cause: error },
    );
  }
}

/**
 * Whether an error may go away by itself (a member down, a leader election, a timeout), as
 * opposed to a request etcd will always refuse.
 */
function transient(error: unknown): boolean {
  if (error instanceof ClientClosedError || error instanceof GRPCInvalidArgumentError) return false;
  if (error instanceof GRPCGenericError) return true;
  if (error instanceof EtcdError) {
    return /leader|timed out|timeout|unhealthy|too many requests|not capable/i.test(error.message);
  }
  // Every member's circuit breaker is open (all failed recently): they may be back soon.
  if (error instanceof Error && "isBrokenCircuitError" in error) return true;
  return error instanceof Error && isRecoverableError(error);
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 300);
}

function toKv(kv: IKeyValue): Kv {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    modRevision: kv.mod_revision,
    lease: kv.lease,
  };
}

function backoff(now: number, deadline: number): number {
  return Math.max(0, Math.min(50 + Math.random() * 200, deadline - now));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
