/**
 * Per-run state of the coding interpreter on one node: the PUSH/POP queues of each run, and the
 * run's stream length (which programs without inputs, the "aux" programs that only POP, take
 * their number of steps from).
 *
 * State is keyed by (run id, logical node), so two logical nodes of one run hosted by the same
 * process never share a queue (the original collided there). It is removed when the run ends
 * on that node (every participant left and every queue is empty), or when the run has been
 * idle for the TTL: then queued buffers are released and anyone still waiting gets a
 * `TIMEOUT` error. Nothing is kept forever (the original never cleaned up).
 *
 * @module
 */

import { removeItem } from "../../core/arrays.ts";
import { CdfsError } from "../../core/errors.ts";
import { BufferQueue, DEFAULT_QUEUE_CAPACITY } from "./buffer_queue.ts";

/**
 * The default idle time after which a run's state on a node is dropped: 2 minutes.
 *
 * @example
 * ```ts
 * import { DEFAULT_RUN_TTL_MS } from "./run_registry.ts";
 * console.log(DEFAULT_RUN_TTL_MS); // 120000
 * ```
 */
export const DEFAULT_RUN_TTL_MS = 120_000;

/**
 * Options of {@linkcode RunRegistry}.
 *
 * @example
 * ```ts
 * import type { RunRegistryOptions } from "./run_registry.ts";
 * const options: RunRegistryOptions = { queueCapacity: 4, ttlMs: 30_000 };
 * ```
 */
export interface RunRegistryOptions {
  /** The bound of every queue (default {@linkcode DEFAULT_QUEUE_CAPACITY}). */
  readonly queueCapacity?: number;
  /** Idle time after which a run's state is dropped (default {@linkcode DEFAULT_RUN_TTL_MS}). */
  readonly ttlMs?: number;
}

/**
 * One program's membership in a run on a node: its access to the run's queues and length.
 *
 * @example
 * ```ts
 * import { RunRegistry } from "./run_registry.ts";
 * const runs = new RunRegistry();
 * const member = runs.join("run-1", 0);
 * member.setLength(100);
 * console.log(await member.length()); // 100
 * member.leave();
 * runs.close();
 * ```
 */
export interface RunMember {
  /** The run's id. */
  readonly runId: string;
  /** The logical node. */
  readonly node: number;
  /**
   * The named queue of this run on this node (created on first use; already closed when the
   * run was aborted or timed out).
   */
  queue(name: string): BufferQueue;
  /**
   * Records the run's stream length on this node.
   *
   * @throws {CdfsError} `BAD_REQUEST` when another program recorded a different length.
   */
  setLength(length: number): void;
  /** The run's stream length on this node, waiting until a program records it. */
  length(signal?: AbortSignal): Promise<number>;
  /** Leaves the run; the last to leave (with all queues idle) ends it. Idempotent. */
  leave(): void;
}

interface LengthWaiter {
  resolve(length: number): void;
  reject(reason: unknown): void;
  cancel(): void;
}

/** The state of one run on one node. */
interface RunState {
  readonly key: string;
  readonly runId: string;
  readonly node: number;
  readonly queues: Map<string, BufferQueue>;
  members: number;
  length: number | undefined;
  lengthWaiters: LengthWaiter[];
  lastActivity: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the run was aborted or expired: everything fails with it. */
  failure: { reason: unknown } | undefined;
}

function runKey(runId: string, node: number): string {
  return `${node}\u0000${runId}`;
}

/**
 * The runs in progress on a node (or, in tests, in a process), keyed by (run id, node).
 *
 * A run's state is created by the first program that joins and removed when the last member
 * leaves while every queue is idle (a short record of its length is kept for the TTL, so that
 * a late aux program of an empty run still learns the length). A run idle for the TTL (no
 * join, leave, push, pop or length) is dropped: queued buffers are released and waiters get
 * `TIMEOUT`.
 *
 * @example
 * ```ts
 * import { RunRegistry } from "./run_registry.ts";
 * const runs = new RunRegistry({ ttlMs: 60_000 });
 * const pusher = runs.join("r", 3);
 * pusher.setLength(5);
 * const aux = runs.join("r", 3);
 * console.log(await aux.length(), runs.size); // 5 1
 * pusher.leave();
 * aux.leave();
 * console.log(runs.size); // 0
 * ```
 */
export class RunRegistry {
  /** The bound of every queue. */
  readonly queueCapacity: number;
  /** The idle TTL in milliseconds. */
  readonly ttlMs: number;
  readonly #runs = new Map<string, RunState>();
  /** Lengths of runs that ended here recently, with when they ended (oldest first). */
  readonly #ended = new Map<string, { length: number | undefined; at: number }>();

  /**
   * Creates an empty registry.
   *
   * @param options Queue bound and TTL.
   * @throws {RangeError} When a bound is not a positive integer.
   */
  constructor(options: RunRegistryOptions = {}) {
    this.queueCapacity = options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    this.ttlMs = options.ttlMs ?? DEFAULT_RUN_TTL_MS;
    if (!Number.isSafeInteger(this.queueCapacity) || this.queueCapacity < 1) {
      throw new RangeError(`queueCapacity must be a positive integer, got ${this.queueCapacity}`);
    }
    if (!Number.isFinite(this.ttlMs) || this.ttlMs <= 0) {
      throw new RangeError(`ttlMs must be a positive number, got ${this.ttlMs}`);
    }
  }

  /** Runs with state here now (one per (run id, node)). */
  get size(): number {
    return this.#runs.size;
  }

  /**
   * Joins (creating if needed) the state of a run on a node.
   *
   * @example
   * ```ts
   * import { RunRegistry } from "./run_registry.ts";
   * const runs = new RunRegistry();
   * const member = runs.join("r", 0);
   * console.log(member.queue("queue").capacity); // 16
   * member.leave();
   * ```
   *
   * @param runId The run's id.
   * @param node The logical node.
   * @returns The membership; call `leave()` when the program is done.
   */
  join(runId: string, node: number): RunMember {
    const key = runKey(runId, node);
    let state = this.#runs.get(key);
    if (state === undefined) {
      this.#forgetOldEnded();
      const ended = this.#ended.get(key);
      this.#ended.delete(key);
      state = {
        key,
        runId,
        node,
        queues: new Map(),
        members: 0,
        length: ended?.length,
        lengthWaiters: [],
        lastActivity: performance.now(),
        timer: undefined,
        failure: undefined,
      };
      this.#runs.set(key, state);
      this.#schedule(state, this.ttlMs);
    }
    state.members++;
    this.#touch(state);
    this.#refTimer(state);
    return this.#member(state);
  }

  /**
   * Ends a run on every node here at once (after a failure): queued buffers are released,
   * waiters fail with `reason`.
   *
   * @example
   * ```ts
   * import { RunRegistry } from "./run_registry.ts";
   * const runs = new RunRegistry();
   * const member = runs.join("r", 0);
   * runs.abortRun("r", new Error("node 3 failed"));
   * await member.queue("q").pop().catch((e) => console.log(e.message)); // "node 3 failed"
   * ```
   *
   * @param runId The run's id.
   * @param reason The error waiters get.
   */
  abortRun(runId: string, reason: unknown): void {
    for (const state of [...this.#runs.values()]) {
      if (state.runId === runId) this.#fail(state, reason);
    }
  }

  /**
   * Drops every run (as {@linkcode RunRegistry.abortRun}) and stops the timers.
   *
   * @example
   * ```ts
   * import { RunRegistry } from "./run_registry.ts";
   * const runs = new RunRegistry();
   * runs.join("r", 0);
   * runs.close();
   * console.log(runs.size); // 0
   * ```
   */
  close(): void {
    const reason = new CdfsError("UNAVAILABLE", "the coding run registry was closed");
    for (const state of [...this.#runs.values()]) this.#fail(state, reason);
    this.#ended.clear();
  }

  #member(state: RunState): RunMember {
    let left = false;
    return {
      runId: state.runId,
      node: state.node,
      queue: (name) => {
        let queue = state.queues.get(name);
        if (queue === undefined) {
          queue = new BufferQueue(name, this.queueCapacity, () => this.#touch(state));
          state.queues.set(name, queue);
          if (state.failure !== undefined) queue.close(state.failure.reason);
        }
        return queue;
      },
      setLength: (length) => {
        if (state.failure !== undefined) return;
        this.#touch(state);
        if (state.length === undefined) {
          state.length = length;
          for (const waiter of state.lengthWaiters.splice(0)) {
            waiter.cancel();
            waiter.resolve(length);
          }
        } else if (state.length !== length) {
          throw new CdfsError(
            "BAD_REQUEST",
            `run '${state.runId}' on node ${state.node}: stream length ${length} differs from ` +
              `the length ${state.length} another program of the run recorded here`,
          );
        }
      },
      length: (signal) => {
        if (state.failure !== undefined) return Promise.reject(state.failure.reason);
        if (state.length !== undefined) return Promise.resolve(state.length);
        if (signal?.aborted) return Promise.reject(signal.reason);
        return new Promise<number>((resolve, reject) => {
          const onAbort = (): void => {
            removeItem(state.lengthWaiters, waiter);
            reject(signal!.reason);
          };
          const waiter: LengthWaiter = {
            resolve,
            reject,
            cancel: () => signal?.removeEventListener("abort", onAbort),
          };
          signal?.addEventListener("abort", onAbort, { once: true });
          state.lengthWaiters.push(waiter);
        });
      },
      leave: () => {
        if (left) return;
        left = true;
        state.members--;
        this.#touch(state);
        this.#refTimer(state);
      },
    };
  }

  /** Records activity and ends the run when nobody is left and nothing is queued. */
  #touch(state: RunState): void {
    state.lastActivity = performance.now();
    if (state.members > 0 || this.#runs.get(state.key) !== state) return;
    for (const queue of state.queues.values()) if (!queue.idle) return;
    this.#remove(state);
    this.#ended.set(state.key, { length: state.length, at: state.lastActivity });
  }

  #schedule(state: RunState, delay: number): void {
    const timer = setTimeout(() => {
      state.timer = undefined;
      if (this.#runs.get(state.key) !== state) return;
      const idle = performance.now() - state.lastActivity;
      if (idle >= this.ttlMs) {
        this.#fail(
          state,
          new CdfsError(
            "TIMEOUT",
            `run '${state.runId}' on node ${state.node} was idle for ${
              Math.round(idle)
            } ms (TTL ${this.ttlMs} ms): its queues were dropped`,
          ),
        );
      } else {
        this.#schedule(state, this.ttlMs - idle);
      }
    }, delay);
    state.timer = timer;
    this.#refTimer(state);
  }

  /**
   * While a run has members, its timer keeps the process alive (a member may be waiting for
   * it); the leftovers of an abandoned run must not.
   */
  #refTimer(state: RunState): void {
    if (state.timer === undefined) return;
    if (state.members > 0) Deno.refTimer(state.timer);
    else Deno.unrefTimer(state.timer);
  }

  #remove(state: RunState): void {
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    if (this.#runs.get(state.key) === state) this.#runs.delete(state.key);
  }

  #fail(state: RunState, reason: unknown): void {
    this.#remove(state);
    if (state.failure !== undefined) return;
    state.failure = { reason };
    for (const queue of state.queues.values()) queue.close(reason);
    for (const waiter of state.lengthWaiters.splice(0)) {
      waiter.cancel();
      waiter.reject(reason);
    }
  }

  #forgetOldEnded(): void {
    const now = performance.now();
    for (const [key, ended] of this.#ended) {
      if (now - ended.at < this.ttlMs) break;
      this.#ended.delete(key);
    }
  }
}
