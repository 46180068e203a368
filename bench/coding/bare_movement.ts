// deno-lint-ignore-file no-console
/**
 * The bare data movement of an encode, the reference of the CPU profile (`cpu_profile.ts`): 16
 * processes on loopback move the same bytes over the same TCP hops and to disk with the same
 * fsyncs as the encode, without coding, checksums or framing. Every node reads its local parts
 * from files, receives its inbound streams (each on a connection it opens to the sender, as a
 * datanode pulls), writes its blocks (a temporary file, fsync, rename, fsync of the directory,
 * as the block store does) and sends its outbound streams, step by step. The patterns:
 *
 * - `rapidraid` (16,11), pipelined: node i reads its parts (part j lies on nodes j and j + 5),
 *   receives the stream of node i - 1 (node 0 has none: its part is its stream), writes what
 *   it received as its block and sends it on to node i + 1 (node 15 sends nothing).
 * - `rs` (16,11), classical: node j < 11 reads part j twice, writes one copy as its block
 *   (`copy_data`) and sends the other to node 11 (which RETRIEVEs it); node 11 receives the 11
 *   parts, writes one block and sends four streams, one to each of nodes 12..15, which write
 *   them (`store_parity`).
 * - `decode`, from 11 coded blocks: nodes 0..9 send their block to node 10, which holds one
 *   too and sends the 11 on to the client (node 11), which writes them into one file.
 *
 * Each node measures its own CPU time from the start signal to its end, so starting Deno is not
 * counted.
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

/** The nodes and parts of both patterns: (16,11). */
const NODES = 16;
const PARTS = 11;

/**
 * The encodes whose data movement {@linkcode runBareMovement} repeats.
 *
 * @example
 * ```ts
 * import type { BarePattern } from "./bare_movement.ts";
 * const p: BarePattern = "rs";
 * ```
 */
export type BarePattern = "rapidraid" | "rs" | "decode";

/**
 * What one node does each step: read `parts` (local files), receive from `inbound` nodes, write
 * a block from each source of `writes` and send a source to each node of `outbound`. A source
 * is an index into the step's buffers: the parts read, then the streams received.
 */
interface NodeWork {
  readonly parts: readonly number[];
  readonly inbound: readonly number[];
  readonly writes: readonly number[];
  readonly outbound: readonly { readonly to: number; readonly source: number }[];
  /** The writes go into one file, write w at `w * partLength` (a decoded object). */
  readonly oneFile?: boolean;
}

/** Every node's work in a pattern. */
function patternWork(pattern: BarePattern): NodeWork[] {
  if (pattern === "decode") {
    // Survivors 0..9 send their block to node 10, which holds one too and sends the 11 to the
    // client (node 11), which writes them into one file.
    const coordinator = PARTS - 1;
    return Array.from({ length: PARTS + 1 }, (_, i): NodeWork => {
      if (i < coordinator) {
        return { parts: [i], inbound: [], writes: [], outbound: [{ to: coordinator, source: 0 }] };
      }
      if (i === coordinator) {
        return {
          parts: [i],
          inbound: Array.from({ length: coordinator }, (_, j) => j),
          writes: [],
          outbound: Array.from({ length: PARTS }, (_, j) => ({ to: PARTS, source: j })),
        };
      }
      return {
        parts: [],
        inbound: Array.from({ length: PARTS }, () => coordinator),
        writes: Array.from({ length: PARTS }, (_, j) => j),
        outbound: [],
        oneFile: true,
      };
    });
  }
  if (pattern === "rapidraid") {
    return rapidRaidPlacement(NODES, PARTS).map((held, i) => {
      const parts = held.map(({ part }) => part);
      // Node 0's stream is its part; the others pass on what they receive.
      const stream = i === 0 ? 0 : parts.length;
      return {
        parts,
        inbound: i === 0 ? [] : [i - 1],
        writes: [stream],
        outbound: i === NODES - 1 ? [] : [{ to: i + 1, source: stream }],
      };
    });
  }
  return Array.from({ length: NODES }, (_, i): NodeWork => {
    if (i < PARTS) {
      return { parts: [i, i], inbound: [], writes: [0], outbound: [{ to: PARTS, source: 1 }] };
    }
    if (i === PARTS) {
      return {
        parts: [],
        inbound: Array.from({ length: PARTS }, (_, j) => j),
        writes: [0],
        outbound: Array.from(
          { length: NODES - PARTS - 1 },
          (_, p) => ({ to: PARTS + 1 + p, source: 0 }),
        ),
      };
    }
    return { parts: [], inbound: [PARTS], writes: [0], outbound: [] };
  });
}

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
  /** CPU seconds of the node processes from the start signal to their end. */
  readonly cpuSeconds: number;
  /** Wall time from the start signal to the last node's end. */
  readonly seconds: number;
  /** The node processes (for a profiler), in node order. */
  readonly pids: readonly number[];
}

/**
 * Writes the part files of every node of a pattern: `dir/node<i>/part<j>`, `partLength`
 * pseudo-random bytes each.
 *
 * @example
 * Not run by `deno test --doc`: it writes hundreds of MiB for a real size.
 * ```ts ignore
 * import { placeBareParts } from "./bare_movement.ts";
 * await placeBareParts("/tmp/bare", 1 << 20, "rapidraid");
 * ```
 *
 * @param dir The directory of the node directories.
 * @param partLength Bytes of every part.
 * @param pattern Whose parts.
 */
export async function placeBareParts(
  dir: string,
  partLength: number,
  pattern: BarePattern,
): Promise<void> {
  const chunk = new Uint8Array(Math.min(partLength, 1 << 20));
  const work = patternWork(pattern);
  for (let i = 0; i < work.length; i++) {
    await Deno.mkdir(join(dir, `node${i}`), { recursive: true });
    for (const part of new Set(work[i]!.parts)) {
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
 * Runs one bare move over the parts {@linkcode placeBareParts} wrote: starts the node processes
 * (each connected to its senders), then gives the start signal and waits for all.
 * `watch`, when given, is called with their pids before the start signal (a profiler attaches
 * there) and what it returns after the last node's end.
 *
 * @example
 * Not run by `deno test --doc`: it starts a process per node.
 * ```ts ignore
 * import { placeBareParts, runBareMovement } from "./bare_movement.ts";
 * await placeBareParts("/tmp/bare", 1 << 20, "rapidraid");
 * const move = await runBareMovement("/tmp/bare", "rapidraid", 1 << 20, 1 << 16);
 * console.log(move.cpuSeconds);
 * ```
 *
 * @param dir The directory the parts are in; the blocks are written there too.
 * @param pattern Whose movement.
 * @param partLength Bytes of every part.
 * @param chunkSize Bytes per read, write and send.
 * @param watch Called before the start with the nodes' pids; what it returns, after the end.
 * @returns CPU and wall time.
 * @throws {Error} When a node fails.
 */
export async function runBareMovement(
  dir: string,
  pattern: BarePattern,
  partLength: number,
  chunkSize: number,
  watch?: (pids: readonly number[]) => Promise<() => Promise<void>>,
): Promise<BareMove> {
  const children: Deno.ChildProcess[] = [];
  const lines: ReadableStreamDefaultReader<string>[] = [];
  const work = patternWork(pattern);
  try {
    // Every node's inbound senders come before it, so they listen by the time it connects.
    const ports: number[] = [];
    for (let i = 0; i < work.length; i++) {
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
          "--work",
          JSON.stringify({ ...work[i]!, inboundPorts: work[i]!.inbound.map((j) => ports[j]!) }),
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      children.push(child);
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
        .getReader();
      lines.push(reader);
      // "ready PORT": listening (PORT 0 for a node that sends nothing), connected to its senders.
      const ready = await reader.read();
      const port = /^ready (\d+)$/.exec(ready.value ?? "");
      if (port === null) throw new Error(`bare node ${i} did not start: ${ready.value}`);
      ports.push(Number(port[1]));
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
  work: NodeWork & { readonly inboundPorts: readonly number[] },
): Promise<void> {
  const home = join(dir, `node${i}`);
  const inbound = await Promise.all(
    work.inboundPorts.map((port) => Deno.connect({ hostname: "127.0.0.1", port })),
  );
  // A receiver connects to its sender; which connection goes to which receiver does not
  // matter: a node sends the same source to all of them, or one stream only.
  const listener = work.outbound.length === 0
    ? null
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`ready ${listener?.addr.port ?? 0}`);
  const outbound: Deno.Conn[] = [];
  while (listener !== null && outbound.length < work.outbound.length) {
    outbound.push(await listener.accept());
  }
  listener?.close();
  for (const c of [...inbound, ...outbound]) (c as Deno.TcpConn).setNoDelay(true);
  const go = Deno.stdin.readable.getReader();
  await go.read();
  const before = await processCpuTimes(Deno.pid);
  const locals = await Promise.all(work.parts.map((j) => Deno.open(join(home, `part${j}`))));
  const buffers = [...locals, ...inbound].map(() => new Uint8Array(chunkSize));
  const outs = await Promise.all(
    (work.oneFile ? [0] : work.writes).map((_, w) =>
      Deno.open(join(home, `block${w}.tmp`), { write: true, create: true, truncate: true })
    ),
  );
  for (let at = 0; at < partLength; at += chunkSize) {
    const n = Math.min(chunkSize, partLength - at);
    for (const [k, file] of locals.entries()) await readFully(file, buffers[k]!.subarray(0, n));
    for (const [k, conn] of inbound.entries()) {
      const into = buffers[locals.length + k]!.subarray(0, n);
      for (let got = 0; got < n;) {
        const read = await conn.read(into.subarray(got));
        if (read === null) throw new Error(`node ${i}: a sender closed at ${at + got}`);
        got += read;
      }
    }
    for (const [w, source] of work.writes.entries()) {
      if (work.oneFile) await outs[0]!.seek(w * partLength + at, Deno.SeekMode.Start);
      await writeFully(outs[work.oneFile ? 0 : w]!, buffers[source]!.subarray(0, n));
    }
    for (const [k, { source }] of work.outbound.entries()) {
      const data = buffers[source]!.subarray(0, n);
      for (let sent = 0; sent < n;) sent += await outbound[k]!.write(data.subarray(sent));
    }
  }
  for (const [w, out] of outs.entries()) {
    await out.sync();
    out.close();
    await Deno.rename(join(home, `block${w}.tmp`), join(home, `block${w}`));
  }
  await syncDirectory(home);
  for (const c of [...locals, ...inbound, ...outbound]) c.close();
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
      work: { type: "string" },
    },
  });
  if (values.node === undefined || values.dir === undefined || values.work === undefined) {
    console.error("bare_movement.ts is a node's program: run it through runBareMovement()");
    Deno.exit(2);
  }
  try {
    await runNode(
      Number(values.node),
      values.dir,
      Number(values["part-length"]),
      Number(values["chunk-size"]),
      JSON.parse(values.work),
    );
  } catch (e) {
    console.log(`error ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
