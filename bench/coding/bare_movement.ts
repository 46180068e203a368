// deno-lint-ignore-file no-console
/**
 * The bare data movement of a RapidRAID (16,11) pipelined encode, the reference of the CPU
 * profile (`cpu_profile.ts`): 16 processes on loopback move the same bytes over the same TCP
 * hops and to disk with the same fsyncs as the encode, without coding, checksums or framing.
 * Node i reads its local parts (part j lies on nodes j and j + 5) from files, receives the
 * stream from node i - 1 (node 0 has none: its part is its stream), writes what it received as
 * its block (a temporary file, fsync, rename, fsync of the directory, as the block store
 * does) and sends it on to node i + 1 (node 15 sends nothing). Each node measures its own CPU
 * time from the start signal to its end, so starting Deno is not counted.
 *
 * Run as the driver through {@linkcode runBareMovement}; the same file is each node's program
 * (`--node I`).
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { rapidRaidPlacement } from "../../src/coding/lang/pipelined_module.ts";
import { readFully, syncDirectory, writeFully } from "../../src/store/file_io.ts";
import { cpuSecondsBetween, processCpuTimes } from "../common/machine.ts";

/** The nodes and parts of RapidRAID (16,11). */
const NODES = 16;
const PARTS = 11;

/**
 * What one bare move took.
 *
 * @example
 * ```ts
 * import type { BareMove } from "./bare_movement.ts";
 * const move: BareMove = { cpuSeconds: 1.2, seconds: 0.9, pids: [] };
 * ```
 */
export interface BareMove {
  /** CPU seconds of the 16 processes from the start signal to their end. */
  readonly cpuSeconds: number;
  /** Wall time from the start signal to the last node's end. */
  readonly seconds: number;
  /** The node processes (for a profiler), in node order. */
  readonly pids: readonly number[];
}

/**
 * Writes the part files of every node: `dir/node<i>/part<j>`, `partLength` pseudo-random bytes
 * each, the same part on both its nodes.
 *
 * @example
 * Not run by `deno test --doc`: it writes hundreds of MiB for a real size.
 * ```ts ignore
 * import { placeBareParts } from "./bare_movement.ts";
 * await placeBareParts("/tmp/bare", 1 << 20);
 * ```
 *
 * @param dir The directory of the node directories.
 * @param partLength Bytes of every part.
 */
export async function placeBareParts(dir: string, partLength: number): Promise<void> {
  const chunk = new Uint8Array(Math.min(partLength, 1 << 20));
  const placement = rapidRaidPlacement(NODES, PARTS);
  for (let i = 0; i < NODES; i++) {
    await Deno.mkdir(join(dir, `node${i}`), { recursive: true });
    for (const { part } of placement[i]!) {
      using file = await Deno.open(join(dir, `node${i}`, `part${part}`), {
        write: true,
        create: true,
        truncate: true,
      });
      for (let at = 0; at < partLength; at += chunk.length) {
        // 64 KiB per call: getRandomValues' limit.
        for (let r = 0; r < chunk.length; r += 65536) {
          crypto.getRandomValues(chunk.subarray(r, r + 65536));
        }
        await writeFully(file, chunk.subarray(0, Math.min(chunk.length, partLength - at)));
      }
    }
  }
}

/**
 * Runs one bare move over the parts {@linkcode placeBareParts} wrote: starts the 16 node
 * processes (each connected to its upstream), then gives the start signal and waits for all.
 * `watch`, when given, is called with their pids before the start signal (a profiler attaches
 * there) and what it returns after the last node's end.
 *
 * @example
 * Not run by `deno test --doc`: it starts 16 processes.
 * ```ts ignore
 * import { placeBareParts, runBareMovement } from "./bare_movement.ts";
 * await placeBareParts("/tmp/bare", 1 << 20);
 * const move = await runBareMovement("/tmp/bare", 1 << 20, 1 << 16);
 * console.log(move.cpuSeconds);
 * ```
 *
 * @param dir The directory the parts are in; the blocks are written there too.
 * @param partLength Bytes of every part.
 * @param chunkSize Bytes per read, write and send.
 * @param watch Called before the start with the nodes' pids; what it returns, after the end.
 * @returns CPU and wall time.
 * @throws {Error} When a node fails.
 */
export async function runBareMovement(
  dir: string,
  partLength: number,
  chunkSize: number,
  watch?: (pids: readonly number[]) => Promise<() => Promise<void>>,
): Promise<BareMove> {
  const children: Deno.ChildProcess[] = [];
  const lines: ReadableStreamDefaultReader<string>[] = [];
  try {
    let upstreamPort = 0;
    for (let i = 0; i < NODES; i++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          import.meta.filename!,
          "--node",
          String(i),
          "--dir",
          dir,
          "--part-length",
          String(partLength),
          "--chunk-size",
          String(chunkSize),
          "--upstream",
          String(upstreamPort),
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      children.push(child);
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
        .getReader();
      lines.push(reader);
      // "ready PORT": listening (PORT 0 for the last node) and connected upstream.
      const ready = await reader.read();
      const port = /^ready (\d+)$/.exec(ready.value ?? "");
      if (port === null) throw new Error(`bare node ${i} did not start: ${ready.value}`);
      upstreamPort = Number(port[1]);
    }
    const stopWatching = await watch?.(children.map((c) => c.pid));
    const started = performance.now();
    const go = new TextEncoder().encode("go\n");
    await Promise.all(children.map(async (c) => {
      const writer = c.stdin.getWriter();
      await writer.write(go);
      await writer.close();
    }));
    const results = Promise.all(lines.map(async (reader, i) => {
      const done = await reader.read();
      const cpu = /^cpu ([0-9.]+)$/.exec(done.value ?? "");
      if (cpu === null) throw new Error(`bare node ${i} failed: ${done.value}`);
      return Number(cpu[1]);
    }));
    const cpu = await results;
    const seconds = (performance.now() - started) / 1000;
    await stopWatching?.();
    return {
      cpuSeconds: cpu.reduce((a, b) => a + b, 0),
      seconds,
      pids: children.map((c) => c.pid),
    };
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited already.
      }
      await child.status;
    }
  }
}

/** Splits a text stream into lines. */
function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(text, controller) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const line of parts) controller.enqueue(line);
    },
    flush(controller) {
      if (rest !== "") controller.enqueue(rest);
    },
  });
}

/** One node's program: connect, wait for the start, move, report the CPU time. */
async function runNode(
  i: number,
  dir: string,
  partLength: number,
  chunkSize: number,
  upstreamPort: number,
): Promise<void> {
  const home = join(dir, `node${i}`);
  const parts = rapidRaidPlacement(NODES, PARTS)[i]!.map(({ part }) => part);
  const upstream = i === 0
    ? null
    : await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
  upstream?.setNoDelay(true);
  const listener = i === NODES - 1 ? null : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`ready ${listener?.addr.port ?? 0}`);
  const downstream = listener === null ? null : await listener.accept();
  downstream?.setNoDelay(true);
  listener?.close();
  const go = Deno.stdin.readable.getReader();
  await go.read();
  const before = await processCpuTimes(Deno.pid);
  const locals = await Promise.all(parts.map((j) => Deno.open(join(home, `part${j}`))));
  const temp = join(home, `block${i}.tmp`);
  const out = await Deno.open(temp, { write: true, create: true, truncate: true });
  const local = new Uint8Array(chunkSize);
  const stream = new Uint8Array(chunkSize);
  for (let at = 0; at < partLength; at += chunkSize) {
    const n = Math.min(chunkSize, partLength - at);
    for (const file of locals) await readFully(file, local.subarray(0, n));
    let data = local.subarray(0, n);
    if (upstream !== null) {
      data = stream.subarray(0, n);
      for (let got = 0; got < n;) {
        const read = await upstream.read(data.subarray(got));
        if (read === null) throw new Error(`node ${i}: upstream closed at ${at + got}`);
        got += read;
      }
    }
    await writeFully(out, data);
    if (downstream !== null) {
      for (let sent = 0; sent < n;) sent += await downstream.write(data.subarray(sent));
    }
  }
  await out.sync();
  out.close();
  await Deno.rename(temp, join(home, `block${i}`));
  await syncDirectory(home);
  for (const file of locals) file.close();
  upstream?.close();
  downstream?.close();
  const after = await processCpuTimes(Deno.pid);
  console.log(`cpu ${cpuSecondsBetween(before, after)}`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      node: { type: "string" },
      dir: { type: "string" },
      "part-length": { type: "string" },
      "chunk-size": { type: "string" },
      upstream: { type: "string", default: "0" },
    },
  });
  if (values.node === undefined || values.dir === undefined) {
    console.error("bare_movement.ts is a node's program: run it through runBareMovement()");
    Deno.exit(2);
  }
  try {
    await runNode(
      Number(values.node),
      values.dir,
      Number(values["part-length"]),
      Number(values["chunk-size"]),
      Number(values.upstream),
    );
  } catch (e) {
    console.log(`error ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
