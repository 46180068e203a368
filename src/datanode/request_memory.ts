/**
 * {@linkcode RequestMemory}: the outcomes of recent requests by request id, so that a request
 * sent again after its reply was lost (a DELETE retried by its client) gets the first one's
 * outcome instead of being carried out twice (docs/protocol.md, DELETE). Bounded: at most
 * `max` ids, each for at most `ttlMs`; the oldest is forgotten first. A restart forgets all.
 *
 * @module
 */
import { CdfsError, type ErrorCode, isCdfsError } from "../core/errors.ts";

/**
 * How many request ids a node remembers by default: 4096.
 *
 * @example
 * ```ts
 * import { DEFAULT_REQUEST_MEMORY } from "./request_memory.ts";
 * console.log(DEFAULT_REQUEST_MEMORY); // 4096
 * ```
 */
export const DEFAULT_REQUEST_MEMORY = 4096;

/**
 * How long a node remembers a request id by default: 10 minutes.
 *
 * @example
 * ```ts
 * import { DEFAULT_REQUEST_MEMORY_MS } from "./request_memory.ts";
 * console.log(DEFAULT_REQUEST_MEMORY_MS); // 600000
 * ```
 */
export const DEFAULT_REQUEST_MEMORY_MS = 600_000;

/**
 * Options of {@linkcode RequestMemory}.
 *
 * @example
 * ```ts
 * import type { RequestMemoryOptions } from "./request_memory.ts";
 * const options: RequestMemoryOptions = { max: 100, ttlMs: 60_000 };
 * ```
 */
export interface RequestMemoryOptions {
  /** The most ids remembered (default {@linkcode DEFAULT_REQUEST_MEMORY}). */
  max?: number;
  /** How long an id is remembered, in ms (default {@linkcode DEFAULT_REQUEST_MEMORY_MS}). */
  ttlMs?: number;
  /** The clock, in ms (default `Date.now`). */
  now?: () => number;
}

interface Entry {
  readonly subject: string;
  readonly at: number;
  readonly outcome: Promise<unknown>;
}

/**
 * Recent requests by id: what each came to (a result, or a definitive error), or the promise
 * of it while the first is still under way.
 *
 * @example
 * ```ts
 * import { RequestMemory } from "./request_memory.ts";
 * const memory = new RequestMemory();
 * let runs = 0;
 * const work = () => Promise.resolve(++runs);
 * const id = "0123456789abcdef0123456789abcdef";
 * console.log(await memory.once(id, "b1", work), await memory.once(id, "b1", work)); // 1 1
 * ```
 */
export class RequestMemory {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #lasting: readonly ErrorCode[];

  /**
   * Creates an empty memory.
   *
   * @param options Bound, lifetime and clock.
   * @param lasting The error codes that are an outcome to remember (default `NOT_FOUND`);
   * a request failing otherwise is forgotten, so that asking again carries it out again.
   * @throws {RangeError} When a bound is not a positive integer.
   */
  constructor(options: RequestMemoryOptions = {}, lasting: readonly ErrorCode[] = ["NOT_FOUND"]) {
    this.#max = options.max ?? DEFAULT_REQUEST_MEMORY;
    this.#ttlMs = options.ttlMs ?? DEFAULT_REQUEST_MEMORY_MS;
    this.#now = options.now ?? Date.now;
    this.#lasting = lasting;
    if (!Number.isSafeInteger(this.#max) || this.#max < 1) {
      throw new RangeError(`max must be a positive integer, got ${this.#max}`);
    }
    if (!Number.isFinite(this.#ttlMs) || this.#ttlMs <= 0) {
      throw new RangeError(`ttlMs must be a positive number, got ${this.#ttlMs}`);
    }
  }

  /** Ids remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Carries out `work` for request `id` about `subject` (a block id), or, when that id was
   * seen within the lifetime, answers with the first outcome (waiting for it if the first is
   * still under way).
   *
   * @example
   * ```ts
   * import { RequestMemory } from "./request_memory.ts";
   * const memory = new RequestMemory();
   * const id = "0123456789abcdef0123456789abcdef";
   * await memory.once(id, "b1", () => Promise.resolve("deleted"));
   * try {
   *   await memory.once(id, "b2", () => Promise.resolve("deleted"));
   * } catch (e) {
   *   console.log((e as Error).message); // request id 0123456789abcdef0123456789abcdef was ...
   * }
   * ```
   *
   * @param id The request id.
   * @param subject What the request is about; the same id about something else is refused.
   * @param work Carries the request out.
   * @returns The outcome of the first request with this id.
   * @throws {CdfsError} `BAD_REQUEST` for an id used for another subject; the first request's
   * error.
   */
  once<T>(id: string, subject: string, work: () => Promise<T>): Promise<T> {
    const now = this.#now();
    this.#forgetOld(now);
    const seen = this.#entries.get(id);
    if (seen !== undefined) {
      if (seen.subject !== subject) {
        return Promise.reject(
          new CdfsError(
            "BAD_REQUEST",
            `request id ${id} was used for '${seen.subject}', not '${subject}'`,
          ),
        );
      }
      return seen.outcome as Promise<T>;
    }
    const outcome = work();
    const entry: Entry = { subject, at: now, outcome };
    this.#entries.set(id, entry);
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value!;
      this.#entries.delete(oldest);
    }
    outcome.catch((e) => {
      const lasting = this.#lasting.some((code) => isCdfsError(e, code));
      if (!lasting && this.#entries.get(id) === entry) this.#entries.delete(id);
    });
    return outcome;
  }

  #forgetOld(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (now - entry.at < this.#ttlMs) return; // oldest first: the rest are younger
      this.#entries.delete(id);
    }
  }
}
