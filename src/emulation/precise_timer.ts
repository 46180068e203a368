/**
 * Sleeps with sub-millisecond precision, for the delay relay.
 *
 * Deno's `setTimeout` is too coarse for emulating a 1 ms link: measured here, any request of
 * 0..1 ms sleeps about 2.1 ms and a request of N ms about N + 1.1 ms (its timers tick in whole
 * milliseconds and fire late). `Atomics.waitAsync` with a timeout never resolves in Deno 2.9.
 * So the waiting happens in a worker thread that blocks in `Atomics.wait` until the earliest
 * deadline and then posts the due ids back. The worker does not spin: between deadlines it
 * sleeps in the kernel.
 *
 * That alone wakes 0.2-0.6 ms late here (more the longer the sleep: an idle virtual CPU takes
 * longer to wake); `Atomics.wait` itself returns 0.07-0.17 ms late, the rest goes to handing
 * the wake-up to the main thread and waking that. So the timer keeps a moving average of how late its wake-ups have been and
 * asks for that much less; with it the relay's holds end within a few hundredths of a
 * millisecond of their release times on average (docs/netem.md). Each observation is capped
 * at 2 ms, so a stall of a busy machine cannot make later sleeps collapse.
 *
 * The worker's code is inline (a `blob:` URL) so that it also works in a `deno compile`d
 * binary, where no worker file exists on disk.
 *
 * @module
 */

/** The worker: a min-heap of deadlines, woken by the deadline or by a new request. */
const WORKER_SOURCE = `
let signal;
let processed = 0;
let scheduled = false;
const heap = []; // [deadline, id] pairs, earliest first
const kick = new MessageChannel();
kick.port1.onmessage = step;
function schedule() {
  if (!scheduled) { scheduled = true; kick.port2.postMessage(0); }
}
function push(entry) {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent][0] <= heap[i][0]) break;
    [heap[parent], heap[i]] = [heap[i], heap[parent]];
    i = parent;
  }
}
function pop() {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && heap[l][0] < heap[m][0]) m = l;
      if (r < heap.length && heap[r][0] < heap[m][0]) m = r;
      if (m === i) break;
      [heap[m], heap[i]] = [heap[i], heap[m]];
      i = m;
    }
  }
  return top;
}
// One step: block until the earliest deadline or until the main thread has posted a request
// this worker has not handled yet (the counter in shared memory moved), fire what is due,
// then return to the event loop so that new requests are delivered.
function step() {
  scheduled = false;
  if (heap.length === 0) return;
  const left = heap[0][0] - performance.now();
  if (left > 0) Atomics.wait(signal, 0, processed, left);
  const now = performance.now();
  const due = [];
  while (heap.length > 0 && heap[0][0] <= now) due.push(pop()[1]);
  if (due.length > 0) self.postMessage(due);
  if (heap.length > 0) schedule();
}
self.onmessage = (event) => {
  const data = event.data;
  if (data.signal !== undefined) { signal = new Int32Array(data.signal); return; }
  processed++;
  // data[1] is an absolute deadline (time origin + now, as the main thread saw it): a message
  // that took a while to arrive keeps its deadline, and concurrent sleeps keep their order.
  push([data[1] - performance.timeOrigin, data[0]]);
  schedule();
};
`;

/** The weight of each new observation in the moving average of the lateness. */
const LATENESS_WEIGHT = 0.1;
/** A bound on each observed lateness, so one stall (a busy machine) cannot make sleeps vanish. */
const MAX_COMPENSATION_MS = 2;

/**
 * Something that can wait a number of milliseconds (fractions included).
 *
 * @example
 * ```ts
 * import type { Sleeper } from "./precise_timer.ts";
 * const coarse: Sleeper = {
 *   sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
 *   close: () => {},
 * };
 * ```
 */
export interface Sleeper {
  /** Resolves after about `ms` milliseconds (at once for `ms <= 0`). */
  sleep(ms: number): Promise<void>;
  /** Releases what the sleeper holds; pending sleeps resolve at once. */
  close(): void;
}

/**
 * A {@linkcode Sleeper} with a worker thread behind it, accurate to a few tenths of a
 * millisecond. Start it lazily (the worker only exists once a sleep asked for it) and close it
 * when done, or the worker keeps the process alive.
 *
 * @example
 * ```ts
 * import { PreciseTimer } from "./precise_timer.ts";
 * const timer = new PreciseTimer();
 * await timer.sleep(1.5);
 * timer.close();
 * ```
 */
export class PreciseTimer implements Sleeper {
  #worker: Worker | undefined;
  #signal: Int32Array<SharedArrayBuffer> | undefined;
  #nextId = 0;
  #closed = false;
  /** The recent lateness of wake-ups (a moving average), subtracted from every request. */
  #lateness = 0;
  readonly #pending = new Map<number, () => void>();

  /**
   * How late wake-ups have been lately, in milliseconds: what each sleep is shortened by.
   *
   * @returns The current estimate, 0..2.
   */
  get compensationMs(): number {
    return this.#lateness;
  }

  /**
   * Resolves after about `ms` milliseconds.
   *
   * @param ms The time to wait; `<= 0` resolves at once.
   * @returns A promise that resolves when the time has passed (or the timer is closed).
   */
  sleep(ms: number): Promise<void> {
    if (!(ms > 0) || this.#closed) return Promise.resolve();
    // Ask for less by the lateness seen lately; a sleep shorter than that returns at once.
    const asked = ms - this.#lateness;
    if (asked <= 0) return Promise.resolve();
    return this.#request(asked, true);
  }

  /**
   * Starts the worker now rather than at the first sleep, which would otherwise wait for the
   * worker to load (about 100 ms here).
   *
   * @returns A promise that resolves when the worker answers.
   */
  warmUp(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    // Not learned from: this first wake-up includes loading the worker.
    return this.#request(0.001, false);
  }

  /** Stops the worker; sleeps still pending resolve at once. */
  close(): void {
    this.#closed = true;
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const resolve of this.#pending.values()) resolve();
    this.#pending.clear();
  }

  #request(asked: number, learn: boolean): Promise<void> {
    const worker = this.#start();
    const id = this.#nextId++;
    const start = performance.now();
    return new Promise((resolve) => {
      this.#pending.set(id, () => {
        if (learn && !this.#closed) {
          // One stall of a busy machine moves the average by at most a tenth of the bound.
          const late = Math.min(
            MAX_COMPENSATION_MS,
            Math.max(0, performance.now() - start - asked),
          );
          this.#lateness += LATENESS_WEIGHT * (late - this.#lateness);
        }
        resolve();
      });
      worker.postMessage([id, performance.timeOrigin + start + asked]);
      // Post first, then move the counter: a worker blocked in Atomics.wait wakes, returns to
      // its event loop and finds the request there.
      Atomics.add(this.#signal!, 0, 1);
      Atomics.notify(this.#signal!, 0);
    });
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    URL.revokeObjectURL(url);
    const shared = new SharedArrayBuffer(4);
    this.#signal = new Int32Array(shared);
    worker.postMessage({ signal: shared });
    worker.onmessage = (event: MessageEvent<number[]>) => {
      for (const id of event.data) {
        const resolve = this.#pending.get(id);
        this.#pending.delete(id);
        resolve?.();
      }
    };
    this.#worker = worker;
    return worker;
  }
}
