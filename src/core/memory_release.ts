/**
 * Memory given back after a storm of connections. A server that held thousands of connections
 * keeps its resident size near the peak once they closed: V8 collects the old generation only
 * when more is allocated, which an idle server does not do, and glibc's allocator keeps what
 * is freed in its arenas. {@linkcode releaseMemory} runs a full garbage collection and then
 * `malloc_trim(0)`; {@linkcode StormMemoryRelease} calls it once the open connections have
 * fallen far below a peak. Measured on a datanode after storms of 3000 connections: 141 MiB
 * resident (68 at start), 68 MiB after the release, which took 23-30 ms.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import { libc } from "./libc.ts";

/**
 * Options of {@linkcode StormMemoryRelease}.
 *
 * @example
 * ```ts
 * import type { StormMemoryReleaseOptions } from "./memory_release.ts";
 * const options: StormMemoryReleaseOptions = { release: () => {}, minEnded: 256 };
 * ```
 */
export interface StormMemoryReleaseOptions {
  /** Gives free memory back (e.g. {@linkcode releaseMemory}'s). */
  readonly release: () => void;
  /** How many connections (served or refused) must have ended since the last release (256). */
  readonly minEnded?: number;
  /** How long after the fall to release, so that the rest of the storm has closed (default 1 s). */
  readonly delayMs?: number;
  /** The least time between two releases (default 30 s): a server is not paused often. */
  readonly minIntervalMs?: number;
  /** The clock for `minIntervalMs` (default `performance.now`). */
  readonly now?: () => number;
  /** Runs `fn` after `ms` (default: an unreferenced `setTimeout`). */
  readonly schedule?: (fn: () => void, ms: number) => void;
}

/**
 * Watches a server's connections and releases memory once after each storm: when at least
 * `minEnded` connections have ended since the last release (those refused at the cap count: a
 * storm against a capped server is mostly refusals) and at most an eighth of the peak of open
 * connections is left, it releases `delayMs` later, or once `minIntervalMs` have passed since
 * the last release; then it counts again from what is open.
 *
 * @example
 * ```ts
 * import { StormMemoryRelease } from "./memory_release.ts";
 * let released = 0;
 * const watch = new StormMemoryRelease({ release: () => released++, schedule: (fn) => fn() });
 * watch.opened(256);
 * for (let i = 0; i < 3000; i++) watch.ended(256); // refused at the cap
 * watch.ended(10);
 * console.log(released); // 1
 * ```
 */
export class StormMemoryRelease {
  readonly #release: () => void;
  readonly #minEnded: number;
  readonly #delayMs: number;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  readonly #schedule: (fn: () => void, ms: number) => void;
  #peak = 0;
  #open = 0;
  #ended = 0;
  #last = -Infinity;
  #pending = false;

  /**
   * A watch, at no connections.
   *
   * @param options What releases memory, and when.
   */
  constructor(options: StormMemoryReleaseOptions) {
    this.#release = options.release;
    this.#minEnded = options.minEnded ?? 256;
    this.#delayMs = options.delayMs ?? 1000;
    this.#minIntervalMs = options.minIntervalMs ?? 30_000;
    this.#now = options.now ?? (() => performance.now());
    this.#schedule = options.schedule ?? ((fn, ms) => Deno.unrefTimer(setTimeout(fn, ms)));
  }

  /**
   * A connection was accepted.
   *
   * @param open The connections open now.
   */
  opened(open: number): void {
    this.#open = open;
    if (open > this.#peak) this.#peak = open;
  }

  /**
   * A connection ended: closed, or refused at the cap.
   *
   * @param open The connections open now.
   */
  ended(open: number): void {
    this.#open = open;
    this.#ended++;
    if (this.#pending || this.#ended < this.#minEnded || open * 8 > this.#peak) return;
    this.#pending = true;
    // Within `minIntervalMs` of the last release, this one waits for the interval's end.
    const wait = Math.max(this.#delayMs, this.#last + this.#minIntervalMs - this.#now());
    this.#schedule(() => {
      this.#pending = false;
      this.#last = this.#now();
      this.#peak = this.#open;
      this.#ended = 0;
      try {
        this.#release();
      } catch {
        // Releasing is a courtesy to the system: its failure changes nothing here.
      }
    }, wait);
  }
}

let trim: (() => void) | null | undefined;
let collect: (() => void) | null | undefined;

/**
 * Releases what memory the process can: a full garbage collection ({@linkcode fullGc}), then
 * glibc's `malloc_trim` ({@linkcode mallocTrim}); null when neither can be had.
 *
 * @example
 * ```ts
 * import { releaseMemory } from "./memory_release.ts";
 * releaseMemory()?.();
 * ```
 *
 * @returns The call, or null.
 */
export function releaseMemory(): (() => void) | null {
  const gc = fullGc();
  const trimFree = mallocTrim();
  if (gc === null && trimFree === null) return null;
  return () => {
    gc?.();
    trimFree?.();
  };
}

/**
 * A full garbage collection, V8's `gc()`: exposed to a new context once `--expose-gc` is set
 * (Deno runs no flag that does it at start). Null where it cannot be had.
 *
 * @example
 * ```ts
 * import { fullGc } from "./memory_release.ts";
 * fullGc()?.();
 * ```
 *
 * @returns The call, or null.
 */
export function fullGc(): (() => void) | null {
  if (collect !== undefined) return collect;
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    collect = typeof gc === "function" ? () => void gc() : null;
  } catch {
    collect = null;
  }
  return collect;
}

/**
 * glibc's `malloc_trim(0)` through FFI, opened once: gives the allocator's free memory back to
 * the operating system. Null where it cannot be had (no glibc, or no FFI permission).
 *
 * @example
 * ```ts
 * import { mallocTrim } from "./memory_release.ts";
 * mallocTrim()?.();
 * ```
 *
 * @returns The call, or null.
 */
export function mallocTrim(): (() => void) | null {
  if (trim !== undefined) return trim;
  try {
    const { malloc_trim } = libc();
    trim = () => void malloc_trim(0n);
  } catch {
    trim = null;
  }
  return trim;
}
