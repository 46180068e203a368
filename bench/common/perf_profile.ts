/**
 * Where processes spend their CPU, by component: `perf record` (the `cpu-clock` software event,
 * which works in a VM without hardware counters) on a set of processes while a piece of work
 * runs, then every sample put in one component by its call stack (`classifySample`). JavaScript
 * and WebAssembly frames have names when the processes run with `DENO_V8_FLAGS=--perf-basic-prof`
 * (V8 writes `/tmp/perf-PID.map`); a WebAssembly function is known by the first JavaScript
 * frame that called it (its module file).
 *
 * @module
 */

import { join } from "node:path";
import { output } from "./machine.ts";

/**
 * The components a sample can fall in, in report order.
 *
 * @example
 * ```ts
 * import { COMPONENTS } from "./perf_profile.ts";
 * console.log(COMPONENTS[0]); // socket I/O (kernel)
 * ```
 */
export const COMPONENTS = [
  "socket I/O (kernel)",
  "disk (kernel)",
  "other kernel (scheduling, faults, syscalls)",
  "GF arithmetic",
  "checksums",
  "framing and sockets (JS)",
  "block store (JS)",
  "interpreter (JS)",
  "other JS",
  "runtime (Deno, V8, GC, libc)",
] as const;

/**
 * One of {@linkcode COMPONENTS}.
 *
 * @example
 * ```ts
 * import type { Component } from "./perf_profile.ts";
 * const c: Component = "checksums";
 * ```
 */
export type Component = (typeof COMPONENTS)[number];

/**
 * One frame of a sample's stack, innermost first.
 *
 * @example
 * ```ts
 * import type { Frame } from "./perf_profile.ts";
 * const f: Frame = { symbol: "tcp_sendmsg", dso: "[kernel.kallsyms]" };
 * ```
 */
export interface Frame {
  /** The symbol, `[unknown]` when perf could not name it. */
  readonly symbol: string;
  /** The binary or map it lies in (`[kernel.kallsyms]`, a path, `/tmp/perf-PID.map`). */
  readonly dso: string;
}

// Kernel frames: the socket path (loopback TCP included) is told first, since a read or write
// on a socket also passes vfs_read/vfs_write.
const KERNEL_SOCKET = /tcp_|udp_|sock_|sk_|skb|__netif|net_rx|napi|loopback|__dev_queue|ip_|inet_/;
const KERNEL_DISK =
  /ext4|xfs|btrfs|jbd2|blk_|bio_|iomap|filemap|folio|vfs_fsync|fsync|generic_perform_write|file_write|file_read|page_cache|readahead|writeback|vfs_read|vfs_write|vfs_rename|do_renameat|d_alloc|link/;

/** Which component a JavaScript frame's source file is part of, or null for none of ours. */
function componentOfJs(symbol: string): Component | null {
  const file = /file:\/\/\S*?\/(src|bench|coding|tests)\/(\S+?):\d+/.exec(symbol);
  if (file === null) return null;
  const [, top, rest] = file as unknown as [string, string, string];
  if (top !== "src") return "other JS";
  if (rest.startsWith("gf/")) return "GF arithmetic";
  if (rest.startsWith("checksum/")) return "checksums";
  if (rest.startsWith("protocol/") || rest.startsWith("client/")) return "framing and sockets (JS)";
  if (rest.startsWith("store/")) return "block store (JS)";
  if (rest.startsWith("coding/")) return "interpreter (JS)";
  return "other JS";
}

/**
 * The component of one sample: by its kernel frames when it was taken in the kernel (socket,
 * disk or other), GF arithmetic when taken in ISA-L (the FFI backend's kernels), else by the
 * innermost JavaScript frame that names a file of ours (a WebAssembly kernel is its caller's),
 * else the runtime (Deno's own code, V8, GC, libc).
 *
 * @example
 * ```ts
 * import { classifySample } from "./perf_profile.ts";
 * console.log(classifySample([
 *   { symbol: "JS:wasm-function[2]-2-turbofan", dso: "/tmp/perf-1.map" },
 *   { symbol: "JS:*mulAdd file:///p/src/gf/region_wasm.ts:256:18", dso: "/tmp/perf-1.map" },
 * ])); // GF arithmetic
 * ```
 *
 * @param stack The frames, innermost first.
 * @returns The component.
 */
export function classifySample(stack: readonly Frame[]): Component {
  const kernel = stack.filter((f) => f.dso === "[kernel.kallsyms]");
  if (stack.length > 0 && stack[0]!.dso === "[kernel.kallsyms]") {
    if (kernel.some((f) => KERNEL_SOCKET.test(f.symbol))) return "socket I/O (kernel)";
    if (kernel.some((f) => KERNEL_DISK.test(f.symbol))) return "disk (kernel)";
    return "other kernel (scheduling, faults, syscalls)";
  }
  // ISA-L's kernels, called through FFI: GF arithmetic, whatever JavaScript called them.
  if (stack.length > 0 && /libisal/.test(stack[0]!.dso)) return "GF arithmetic";
  for (const frame of stack) {
    if (!frame.symbol.startsWith("JS:")) continue;
    const component = componentOfJs(frame.symbol);
    if (component !== null) return component;
  }
  return "runtime (Deno, V8, GC, libc)";
}

/**
 * Parses `perf script -F pid,ip,sym,dso` output (a header line with the pid, then one line per
 * frame, samples separated by empty lines) into stacks by pid.
 *
 * @example
 * ```ts
 * import { parsePerfScript } from "./perf_profile.ts";
 * const samples = parsePerfScript("7 \n\tffff81 tcp_sendmsg ([kernel.kallsyms])\n");
 * console.log(samples[0]!.pid, samples[0]!.stack[0]!.symbol); // 7 tcp_sendmsg
 * ```
 *
 * @param text The output.
 * @returns Every sample.
 */
export function parsePerfScript(text: string): { pid: number; stack: Frame[] }[] {
  const samples: { pid: number; stack: Frame[] }[] = [];
  let current: { pid: number; stack: Frame[] } | null = null;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      current = null;
      continue;
    }
    if (current === null) {
      const pid = Number.parseInt(line.trim(), 10);
      if (!Number.isInteger(pid)) continue;
      current = { pid, stack: [] };
      samples.push(current);
      continue;
    }
    const frame = /^\s*[0-9a-f]+\s+(.*?)\s+\(([^()]*)\)\s*$/.exec(line);
    if (frame !== null) current.stack.push({ symbol: frame[1]!, dso: frame[2]! });
  }
  return samples;
}

/**
 * Samples per component.
 *
 * @example
 * ```ts
 * import type { Profile } from "./perf_profile.ts";
 * const p: Profile = { samples: 10, byComponent: { "checksums": 10 } };
 * ```
 */
export interface Profile {
  /** All samples of the processes. */
  readonly samples: number;
  /** Samples by component (components without any are absent). */
  readonly byComponent: Partial<Record<Component, number>>;
}

/**
 * Whether `perf record` works here, or why not.
 *
 * @example
 * ```ts
 * import { perfUnavailable } from "./perf_profile.ts";
 * console.log(typeof await perfUnavailable()); // "object" or "string"
 * ```
 *
 * @returns Null when it does, else a reason.
 */
export async function perfUnavailable(): Promise<string | null> {
  const r = await output("perf", ["record", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"]);
  return r.ok ? null : `perf record does not work here (${r.stderr.trim().split("\n")[0]})`;
}

/**
 * A running `perf record`; `stop()` ends it and classifies the samples.
 *
 * @example
 * ```ts
 * import type { Recording } from "./perf_profile.ts";
 * const done = (r: Recording) => r.stop();
 * ```
 */
export interface Recording {
  /** Stops perf and returns the profile of the processes. */
  stop(): Promise<Profile>;
}

/**
 * Starts profiling processes: `perf record -e cpu-clock -g` on `pids`, attached once this
 * returns.
 *
 * @example
 * Not run by `deno test --doc`: it needs perf and takes seconds.
 * ```ts ignore
 * import { startProfile } from "./perf_profile.ts";
 * const recording = await startProfile([Deno.pid], "/tmp");
 * await new Promise((r) => setTimeout(r, 500));
 * console.log((await recording.stop()).samples);
 * ```
 *
 * @param pids The processes.
 * @param dir Where perf's data file goes (removed by `stop()`).
 * @returns The recording.
 */
export async function startProfile(pids: readonly number[], dir: string): Promise<Recording> {
  const data = join(dir, `perf-${crypto.randomUUID()}.data`);
  const perf = new Deno.Command("perf", {
    args: ["record", "-e", "cpu-clock", "-F", "999", "-g", "-p", pids.join(","), "-o", data],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // perf prints nothing once it is attached: give it time to open its buffers.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    async stop() {
      perf.kill("SIGINT");
      const status = await perf.output();
      if (!status.success && status.signal !== "SIGINT" && status.code !== 130) {
        throw new Error(`perf record failed: ${new TextDecoder().decode(status.stderr).trim()}`);
      }
      try {
        const script = await output("perf", ["script", "-i", data, "-F", "pid,ip,sym,dso"]);
        if (!script.ok) throw new Error(`perf script failed: ${script.stderr.trim()}`);
        const wanted = new Set(pids);
        const byComponent: Partial<Record<Component, number>> = {};
        let samples = 0;
        for (const sample of parsePerfScript(script.stdout)) {
          if (!wanted.has(sample.pid)) continue;
          samples++;
          const c = classifySample(sample.stack);
          byComponent[c] = (byComponent[c] ?? 0) + 1;
        }
        return { samples, byComponent };
      } finally {
        await Deno.remove(data).catch(() => {});
      }
    },
  };
}
