/**
 * Processes by id, as local clusters and emulated networks need them: is a process (still) the
 * one we started, signal it, wait until it is gone, find strays. Reads Linux `/proc`; local
 * clusters are a Linux tool (the emulated networks of `src/emulation/netns.ts` are too).
 *
 * Why not plain `kill -0 PID`: a pid written in a cluster file may, after a crash and a long
 * time, belong to an unrelated process, and a zombie (exited, not yet reaped by its parent)
 * still answers `kill -0`. So a process counts as ours only when `/proc/PID/stat` shows it
 * running (not a zombie) with the start time we recorded, or its command line proves it (a
 * datanode serving exactly our data directory).
 *
 * @module
 */

/**
 * What `/proc` tells about a live process.
 *
 * @example
 * ```ts
 * import type { ProcessInfo } from "./processes.ts";
 * const info: ProcessInfo = { pid: 42, startTime: "123456", argv: ["deno", "run", "main.ts"] };
 * ```
 */
export interface ProcessInfo {
  /** The process id. */
  readonly pid: number;
  /**
   * When it started, in clock ticks since boot (field 22 of `/proc/PID/stat`), as text: with
   * the pid it names one process for the machine's uptime.
   */
  readonly startTime: string;
  /** Its command line (empty for kernel threads). */
  readonly argv: readonly string[];
}

/** How often waits look at `/proc` again. */
const POLL_MS = 25;

/**
 * Reads a live process's start time and command line.
 *
 * @example
 * ```ts
 * import { processInfo } from "./processes.ts";
 * console.log(processInfo(Deno.pid)?.pid === Deno.pid); // true
 * ```
 *
 * @param pid The process id.
 * @returns The process, or undefined when there is none or it is a zombie.
 */
export function processInfo(pid: number): ProcessInfo | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  let cmdline: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return undefined;
  }
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so fields are counted
  // from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).trim().split(/\s+/);
  const state = fields[0];
  if (state === undefined || state === "Z" || state === "X" || state === "x") return undefined;
  // Field 22 overall is the 20th after COMM (STATE is field 3).
  const startTime = fields[19] ?? "";
  const argv = cmdline.split("\0");
  if (argv.at(-1) === "") argv.pop();
  return { pid, startTime, argv };
}

/**
 * Whether a process runs (exists and is not a zombie), optionally checking that it is the
 * same process as when `startTime` was recorded.
 *
 * @example
 * ```ts
 * import { isProcessRunning, processInfo } from "./processes.ts";
 * console.log(isProcessRunning(Deno.pid, processInfo(Deno.pid)?.startTime)); // true
 * ```
 *
 * @param pid The process id.
 * @param startTime The start time recorded when it was started, if known.
 * @returns Whether it runs (and is that process).
 */
export function isProcessRunning(pid: number, startTime?: string): boolean {
  const info = processInfo(pid);
  return info !== undefined && (startTime === undefined || info.startTime === startTime);
}

/**
 * Sends a signal, ignoring a process that is gone already.
 *
 * @example
 * Not run by `deno test --doc`: it signals or waits for real process ids.
 * ```ts ignore
 * import { sendSignal } from "./processes.ts";
 * sendSignal(12345, "SIGTERM");
 * ```
 *
 * @param pid The process id.
 * @param signal The signal.
 * @returns Whether the signal was delivered.
 */
export function sendSignal(pid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(pid, signal);
    return true;
  } catch {
    // ESRCH: it exited meanwhile. EPERM: not ours to signal (then it is not ours at all).
    return false;
  }
}

/**
 * Waits until none of the processes runs, or the time is up.
 *
 * @example
 * Not run by `deno test --doc`: it signals or waits for real process ids.
 * ```ts ignore
 * import { waitForExit } from "./processes.ts";
 * const left = await waitForExit([12345], 5000);
 * console.log(left.length === 0 ? "gone" : "still running");
 * ```
 *
 * @param pids The process ids, or a function that lists the ones running now (asked again on
 * every look: e.g. the processes of a network namespace, where new ones may appear).
 * @param timeoutMs How long to wait.
 * @param pollMs How long to wait between looks (default 25 ms).
 * @returns The pids still running when the wait ended.
 */
export async function waitForExit(
  pids: readonly number[] | (() => Promise<number[]>),
  timeoutMs: number,
  pollMs: number = POLL_MS,
): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  if (typeof pids === "function") {
    for (;;) {
      const left = await pids();
      if (left.length === 0 || performance.now() >= deadline) return left;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  let running = pids.filter((pid) => isProcessRunning(pid));
  while (running.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    running = running.filter((pid) => isProcessRunning(pid));
  }
  return running;
}

/**
 * What {@linkcode terminateProcesses} did.
 *
 * @example
 * ```ts
 * import type { TerminateReport } from "./processes.ts";
 * const report: TerminateReport = { terminated: [101, 102], killed: [103], survivors: [] };
 * ```
 */
export interface TerminateReport {
  /** Processes that exited after SIGTERM. */
  readonly terminated: readonly number[];
  /** Processes that needed SIGKILL. */
  readonly killed: readonly number[];
  /** Processes still running after SIGKILL (should not happen; reported, not hidden). */
  readonly survivors: readonly number[];
}

/**
 * Stops processes: SIGTERM to all, a grace period for them to exit on their own, then
 * SIGKILL to the rest.
 *
 * @example
 * Not run by `deno test --doc`: it signals or waits for real process ids.
 * ```ts ignore
 * import { terminateProcesses } from "./processes.ts";
 * const { killed } = await terminateProcesses([12345, 12346], 10_000);
 * ```
 *
 * @param pids Processes the caller has verified as its own.
 * @param graceMs How long SIGTERM may take.
 * @returns Which exited on SIGTERM, which were killed, which survived.
 */
export async function terminateProcesses(
  pids: readonly number[],
  graceMs: number,
): Promise<TerminateReport> {
  const running = pids.filter((pid) => isProcessRunning(pid));
  for (const pid of running) sendSignal(pid, "SIGTERM");
  const stubborn = await waitForExit(running, graceMs);
  for (const pid of stubborn) sendSignal(pid, "SIGKILL");
  const survivors = await waitForExit(stubborn, 5000);
  return {
    terminated: running.filter((pid) => !stubborn.includes(pid)),
    killed: stubborn.filter((pid) => !survivors.includes(pid)),
    survivors,
  };
}

/**
 * Finds running processes whose command line satisfies a test (scans `/proc`).
 *
 * @example
 * ```ts
 * import { findProcesses } from "./processes.ts";
 * const mine = findProcesses((argv) => argv.includes("--some-unique-flag"));
 * console.log(mine.length); // 0
 * ```
 *
 * @param matches The test on a command line.
 * @returns The matching processes, this one excepted.
 */
export function findProcesses(matches: (argv: readonly string[]) => boolean): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid === Deno.pid) continue;
    const info = processInfo(pid);
    if (info !== undefined && matches(info.argv)) found.push(info);
  }
  return found;
}
