/**
 * {@linkcode CommittedRuns}: the programs a node committed recently, by run id and program,
 * with what the commit reply said. A CODING request for a (run, program) the node already
 * committed is a client asking again after its reply was lost: it gets the same outcome and
 * nothing is computed or written a second time (docs/protocol.md, CODING, a run id names one
 * run). Bounded: at most `max` entries, each for at most `ttlMs`; a restart forgets them.
 *
 * @module
 */
import { abortable } from "../../core/abortable.ts";
import type { ErrorCode } from "../../core/errors.ts";
import type { CommittedBlock } from "../../protocol/responses.ts";

/**
 * What a node remembers of a committed program: the request it answered and its reply, or
 * the failure that followed the commit of its own blocks.
 *
 * @example
 * ```ts
 * import type { CommittedRun } from "./committed_runs.ts";
 * const run: CommittedRun = {
 *   module: "replication",
 *   object: "movie",
 *   length: 4096,
 *   committed: [{ node: 1, block: "movie.coded1", length: 4096, digest: "0123456789abcdef" }],
 * };
 * ```
 */
export interface CommittedRun {
  /** The module of the request. */
  readonly module: string;
  /** The object of the request. */
  readonly object: string;
  /** The program's stream length (its start reply). */
  readonly length: number;
  /** The blocks its commit reply listed (with a failure: the node's own blocks). */
  readonly committed: readonly CommittedBlock[];
  /**
   * The error its commit reply was, when the node committed its own blocks but the commit
   * of a program it pulled from or pushed to failed: asked again, the node answers it again
   * (its blocks stay committed; nothing is run a second time).
   */
  readonly failure?: { readonly code: ErrorCode; readonly message: string };
}

/**
 * Options of {@linkcode CommittedRuns}.
 *
 * @example
 * ```ts
 * import type { CommittedRunsOptions } from "./committed_runs.ts";
 * const options: CommittedRunsOptions = { max: 64, ttlMs: 60_000 };
 * ```
 */
export interface CommittedRunsOptions {
  /** The most programs remembered (default 1024). */
  max?: number;
  /** How long each is remembered, in ms (default 10 minutes). */
  ttlMs?: number;
  /** The clock, in ms (default `Date.now`). */
  now?: () => number;
}

/**
 * Recently committed programs of a node, by (run id, program).
 *
 * @example
 * ```ts
 * import { CommittedRuns } from "./committed_runs.ts";
 * const runs = new CommittedRuns();
 * const run = "0123456789abcdef0123456789abcdef";
 * runs.remember(run, "copy1", { module: "replication", object: "m", length: 0, committed: [] });
 * console.log(runs.get(run, "copy1")?.object, runs.get(run, "copy2")); // m undefined
 * ```
 */
export class CommittedRuns {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { at: number; run: CommittedRun }>();
  /** The (run, program) requests being served now, each settling when it is done. */
  readonly #serving = new Map<string, Promise<void>>();

  /**
   * Creates an empty memory.
   *
   * @param options Bound, lifetime and clock.
   */
  constructor(options: CommittedRunsOptions = {}) {
    this.#max = Math.max(1, options.max ?? 1024);
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records that a program of a run was committed here, with its reply.
   *
   * @example
   * ```ts
   * import { CommittedRuns } from "./committed_runs.ts";
   * new CommittedRuns().remember("0123456789abcdef0123456789abcdef", "copy0", {
   *   module: "replication",
   *   object: "m",
   *   length: 0,
   *   committed: [],
   * });
   * ```
   *
   * @param runId The run id.
   * @param program The program.
   * @param run What it was and what it committed.
   */
  remember(runId: string, program: string, run: CommittedRun): void {
    const key = `${runId}/${program}`;
    this.#entries.delete(key);
    this.#entries.set(key, { at: this.#now(), run });
    if (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /**
   * Waits until no request for this program of this run is being served here, then counts
   * this one as served until the returned function is called. A client that asks again while
   * its first request is still committing (its connection broke after the COMMIT went out) so
   * waits for that outcome, which it then finds remembered, instead of running the program a
   * second time. The wait is bounded by the first request's own timeouts.
   *
   * @example
   * ```ts
   * import { CommittedRuns } from "./committed_runs.ts";
   * const runs = new CommittedRuns();
   * const run = "0123456789abcdef0123456789abcdef";
   * const done = await runs.claim(run, "copy1");
   * const second = runs.claim(run, "copy1"); // waits for the first
   * done();
   * (await second)();
   * ```
   *
   * @param runId The run id.
   * @param program The program.
   * @param signal Gives up waiting when aborted (the node's shutdown).
   * @returns Call it when the request is done.
   * @throws The signal's reason when it aborts first.
   */
  async claim(runId: string, program: string, signal?: AbortSignal): Promise<() => void> {
    const key = `${runId}/${program}`;
    for (let busy = this.#serving.get(key); busy !== undefined; busy = this.#serving.get(key)) {
      await abortable(busy, signal);
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#serving.set(key, promise);
    return () => {
      if (this.#serving.get(key) === promise) this.#serving.delete(key);
      resolve();
    };
  }

  /**
   * What a program of a run committed here, if the node remembers it.
   *
   * @example
   * ```ts
   * import { CommittedRuns } from "./committed_runs.ts";
   * console.log(new CommittedRuns().get("0123456789abcdef0123456789abcdef", "copy0")); // undefined
   * ```
   *
   * @param runId The run id.
   * @param program The program.
   * @returns The remembered run, or undefined.
   */
  get(runId: string, program: string): CommittedRun | undefined {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (now - entry.at < this.#ttlMs) break; // oldest first: the rest are younger
      this.#entries.delete(key);
    }
    return this.#entries.get(`${runId}/${program}`)?.run;
  }
}
