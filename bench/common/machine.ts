/**
 * What a benchmark ran on, and how busy the machine's CPUs were while it ran: the machine
 * description written next to every result, and the whole machine's busy CPU time from
 * `/proc/stat` (all processes, all cores), read before and after a measurement; and the memory
 * a run writes into, warmed before it.
 *
 * @module
 */
import { join } from "node:path";

/**
 * Runs a command to its end and collects its output; a missing program is `ok: false`.
 *
 * @example
 * ```ts
 * import { output } from "./machine.ts";
 * console.log((await output("true", [])).ok); // true
 * ```
 *
 * @param command The program.
 * @param args Its arguments.
 * @returns Whether it succeeded, and its standard output and error.
 */
export async function output(
  command: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const r = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder();
    return { ok: r.success, stdout: text.decode(r.stdout), stderr: text.decode(r.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: false, stdout: "", stderr: "not found" };
    throw e;
  }
}

/**
 * What the results were measured on: CPU (from `lscpu`), kernel, Deno and V8, the pinned core,
 * and the version of each Debian package named.
 *
 * @example
 * ```ts
 * import { machine } from "./machine.ts";
 * console.log((await machine(null)).deno);
 * ```
 *
 * @param cpu The core the measurements were pinned to, or null.
 * @param packages Debian packages whose versions matter (e.g. `libisal-dev`).
 * @returns The description, for the results JSON.
 */
export async function machine(
  cpu: number | null,
  packages: Record<string, string> = {},
): Promise<Record<string, string | number | null>> {
  const lscpu = await output("lscpu", []);
  const field = (name: string): string | null =>
    lscpu.stdout.match(new RegExp(`^${name}:\\s*(.+)$`, "m"))?.[1]?.trim() ?? null;
  const versions: Record<string, string | null> = {};
  for (const [key, pkg] of Object.entries(packages)) {
    const v = await output("dpkg-query", ["-W", "-f", "${Version}", pkg]);
    versions[key] = v.ok ? v.stdout.trim() : null;
  }
  return {
    cpuModel: field("Model name"),
    // KVM guests often show only "AMD EPYC"; family and model tell the generation.
    cpuFamilyModel: `family ${field("CPU family")}, model ${field("Model")}`,
    cpus: Number(field("CPU\\(s\\)") ?? navigator.hardwareConcurrency),
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    ...versions,
    pinnedToCpu: cpu,
  };
}

/**
 * The machine's CPU time so far, in clock ticks summed over every core (`/proc/stat`).
 *
 * @example
 * ```ts
 * import type { CpuTicks } from "./machine.ts";
 * const t: CpuTicks = { busy: 1200, total: 5000 };
 * ```
 */
export interface CpuTicks {
  /** Ticks the cores spent on anything but idling or waiting for I/O. */
  readonly busy: number;
  /** All ticks. */
  readonly total: number;
}

/**
 * Parses the first line of `/proc/stat` (`cpu  user nice system idle iowait irq softirq
 * steal ...`). Busy is everything but idle and iowait; guest time is already inside user and
 * nice, so it is not added again.
 *
 * @example
 * ```ts
 * import { parseProcStat } from "./machine.ts";
 * console.log(parseProcStat("cpu  10 0 5 80 5 0 0 0 0 0\n")); // { busy: 15, total: 100 }
 * ```
 *
 * @param text The contents of `/proc/stat`.
 * @returns The machine's ticks.
 * @throws {Error} When the text has no `cpu` line.
 */
export function parseProcStat(text: string): CpuTicks {
  const line = text.split("\n", 1)[0] ?? "";
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== "cpu" || fields.length < 5) {
    throw new Error(`/proc/stat does not start with a 'cpu' line: ${JSON.stringify(line)}`);
  }
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields.slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/**
 * The machine's CPU ticks now.
 *
 * @example
 * ```ts
 * import { readCpuTicks } from "./machine.ts";
 * console.log((await readCpuTicks()).total > 0); // true
 * ```
 *
 * @returns The ticks from `/proc/stat`.
 */
export async function readCpuTicks(): Promise<CpuTicks> {
  return parseProcStat(await Deno.readTextFile("/proc/stat"));
}

/**
 * The share of the machine's CPU time (all cores) that was busy between two readings: 1 means
 * every core was busy all the time, 0.5 on 2 cores one core's worth.
 *
 * @example
 * ```ts
 * import { busyFraction } from "./machine.ts";
 * console.log(busyFraction({ busy: 100, total: 400 }, { busy: 250, total: 600 })); // 0.75
 * ```
 *
 * @param before The earlier reading.
 * @param after The later reading.
 * @returns 0..1, or 0 when no tick passed.
 */
export function busyFraction(before: CpuTicks, after: CpuTicks): number {
  const total = after.total - before.total;
  return total > 0 ? Math.min(1, Math.max(0, (after.busy - before.busy) / total)) : 0;
}

/**
 * Clock ticks per second of `/proc` CPU times (`getconf CLK_TCK`; 100 on Linux).
 *
 * @example
 * ```ts
 * import { CLOCK_TICKS, readCpuTicks } from "./machine.ts";
 * console.log((await readCpuTicks()).busy / CLOCK_TICKS > 0); // true: busy seconds
 * ```
 */
export const CLOCK_TICKS = 100;

/**
 * The CPU time each thread of a process has used so far, in seconds by thread id, from
 * `/proc/PID/task/TID/schedstat` (nanoseconds). `/proc/PID/stat` counts whole clock ticks
 * (10 ms), so a namenode that served a short run could show 0 there; it is the fallback (one
 * entry, `"process"`) on a kernel without schedstat. Compare two with {@linkcode cpuSecondsBetween}.
 *
 * @example
 * ```ts
 * import { processCpuTimes } from "./machine.ts";
 * const times = await processCpuTimes(Deno.pid);
 * console.log(times.size > 0); // true
 * ```
 *
 * @param pid The process.
 * @returns Seconds by thread id.
 */
export async function processCpuTimes(pid: number): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  try {
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      try {
        const schedstat = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/schedstat`);
        const nanoseconds = Number(schedstat.split(" ")[0]);
        if (Number.isFinite(nanoseconds)) times.set(task.name, nanoseconds / 1e9);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error; // the thread ended
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (times.size > 0) return times;
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The fields after the command name (which may hold spaces) start at field 3, the state.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return new Map([["process", (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS]]);
}

/**
 * The CPU seconds a process used between two {@linkcode processCpuTimes}: per thread, so a
 * thread that ended meanwhile cannot make the difference negative (its last share is lost,
 * which undercounts slightly) and one that started counts from zero.
 *
 * @example
 * ```ts
 * import { cpuSecondsBetween } from "./machine.ts";
 * const before = new Map([["1", 0.5], ["2", 0.25]]);
 * const after = new Map([["1", 0.75], ["3", 0.125]]);
 * console.log(cpuSecondsBetween(before, after)); // 0.375
 * ```
 *
 * @param before The earlier reading.
 * @param after The later reading.
 * @returns Seconds, at least 0.
 */
export function cpuSecondsBetween(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): number {
  let seconds = 0;
  for (const [thread, time] of after) seconds += Math.max(0, time - (before.get(thread) ?? 0));
  return seconds;
}

/**
 * Writes `bytes` to a scratch file in `dir` and removes it (never written back: its pages are
 * dropped dirty), so that the page cache a measured run is about to fill is memory this guest
 * used a moment ago. On a VM that hands its free memory back to the host (free page reporting
 * here), writing into memory unused for a while costs about fifteen times the CPU: 512 MiB into a
 * new file took 1.33 s of system time, into memory freed just before 0.09 s. Without this, the
 * first of several runs, or whichever of two ways ran first, pays for it.
 *
 * @example
 * Not run by `deno test --doc`: it writes and removes a file of `bytes`.
 * ```ts ignore
 * import { warmFreeMemory } from "./machine.ts";
 * await warmFreeMemory("/tmp", 2 << 30);
 * ```
 *
 * @param dir Where the scratch file goes (on the file system the run writes to).
 * @param bytes How much to write.
 */
export async function warmFreeMemory(dir: string, bytes: number): Promise<void> {
  const path = join(dir, `warm-${crypto.randomUUID()}.tmp`);
  const chunk = new Uint8Array(1 << 20);
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    for (let written = 0; written < bytes;) {
      written += await file.write(chunk.subarray(0, Math.min(chunk.length, bytes - written)));
    }
  } finally {
    file.close();
    await Deno.remove(path).catch(() => {});
  }
}
