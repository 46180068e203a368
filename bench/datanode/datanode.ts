// deno-lint-ignore-file no-console
/**
 * The datanode benchmark: STORE and RETRIEVE throughput of a 1 GiB block over loopback between
 * `DataNodeClient` and a real `cdfs datanode serve` child process, next to the bare minimum a
 * Deno process can do with the same bytes, measured in the same run: a tiny TCP server in a
 * child process (`bench/datanode/datanode_baseline.ts`) that reads a socket into a file and fsyncs it,
 * or sends a file to a socket, through the same 1 MiB buffers in WebAssembly memory. Target:
 * cdfs at >= 0.8x the bare copy. Then the peak resident memory (`VmHWM`) of a fresh datanode
 * while it stores a 2 GiB block; target <= 100 MiB.
 *
 * Both clients produce the bytes the same way (a 1 MiB random pattern copied into the send
 * buffer, stamped with the chunk number so chunks differ) and run in this process; cdfs and
 * the reference alternate, run by run, so that they share the machine's conditions, and the
 * ratio is the median of the per-run ratios. Prints a Markdown table and writes
 * `bench/out/datanode.json`.
 *
 * Run with `deno run -A bench/run.ts datanode [--size 1G] [--rss-size 2G] [--runs 3]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ioBytes } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import type { ByteReader } from "../../src/client/byte_io.ts";
import { parseSize } from "../../src/cli/command.ts";
import { DataNodeProcess } from "../../tests/helpers/datanode_process.ts";
import { repoPath } from "../common/paths.ts";
import { median } from "../common/stats.ts";

const OUT_DIR = repoPath("bench/out");
const RESULT_FILE = repoPath("bench/out/datanode.json");
const BASELINE = repoPath("bench/datanode/datanode_baseline.ts");
const MIB = 1 << 20;
const THROUGHPUT_TARGET = 0.8;
const RSS_TARGET_BYTES = 100 * MIB;

interface Options {
  size: number;
  rssSize: number;
  runs: number;
}

const HELP = `usage: deno run -A bench/run.ts datanode [options]

  --size N      block size of the throughput runs (default 1G)
  --rss-size N  block size of the memory run (default 2G)
  --runs N      throughput runs of each kind (default 3)
  --help        this text`;

function parseOptions(args: string[]): Options | null {
  const { values } = parseArgs({
    args,
    options: {
      size: { type: "string", default: "1G" },
      "rss-size": { type: "string", default: "2G" },
      runs: { type: "string", default: "3" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return null;
  const options = {
    size: parseSize(values.size, "--size"),
    rssSize: parseSize(values["rss-size"], "--rss-size"),
    runs: parseSize(values.runs, "--runs"),
  };
  if (options.size < MIB || options.rssSize < MIB || options.runs < 1) {
    throw new Error("--size and --rss-size must be at least 1M, --runs at least 1");
  }
  return options;
}

/**
 * A source of `length` bytes: the 1 MiB `pattern` over and over, the first 4 bytes of each
 * MiB replaced by its number. Both clients fill their send buffers from it.
 */
function patternReader(length: number, pattern: Uint8Array): ByteReader {
  let position = 0;
  return {
    read(view) {
      if (position >= length) return Promise.resolve(null);
      const offset = position % MIB;
      const n = Math.min(view.length, MIB - offset, length - position);
      view.set(pattern.subarray(offset, offset + n));
      if (offset === 0 && n >= 4) {
        new DataView(view.buffer, view.byteOffset, 4).setUint32(0, position / MIB);
      }
      position += n;
      return Promise.resolve(n);
    },
  };
}

async function writeAll(target: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) written += await target.write(bytes.subarray(written));
}

/** The reference server, a child process, and its client side. */
class Baseline {
  readonly #child: Deno.ChildProcess;
  readonly port: number;

  private constructor(child: Deno.ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
  }

  get pid(): number {
    return this.#child.pid;
  }

  static async start(dir: string): Promise<Baseline> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", BASELINE, dir],
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the baseline server exited before listening");
      text += value;
    }
    reader.releaseLock();
    const match = /^listening 127\.0\.0\.1:(\d+)$/m.exec(text);
    if (!match) throw new Error(`unexpected output of the baseline server: ${text}`);
    return new Baseline(child, Number(match[1]));
  }

  /** A connection to the server that has asked for `mode`: `S` stores, `R` retrieves. */
  async #connect(mode: "S" | "R"): Promise<Deno.TcpConn> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    try {
      conn.setNoDelay(true);
      await writeAll(conn, new TextEncoder().encode(mode));
      return conn;
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /** Sends `length` bytes to be written and fsynced; resolves once the server confirmed. */
  async store(source: ByteReader, length: number, pool: BufferPool): Promise<number> {
    const lease = await pool.acquire();
    try {
      const buffer = ioBytes(lease.bytes);
      using conn = await this.#connect("S");
      let sent = 0;
      while (true) {
        let filled = 0;
        while (filled < buffer.length) {
          const n = await source.read(buffer.subarray(filled));
          if (n === null) break;
          filled += n;
        }
        if (filled === 0) break;
        await writeAll(conn, buffer.subarray(0, filled));
        sent += filled;
      }
      await conn.closeWrite();
      const reply = new Uint8Array(1);
      if (await conn.read(reply) !== 1 || reply[0] !== "K".charCodeAt(0)) {
        throw new Error("the baseline server did not confirm the store");
      }
      if (sent !== length) throw new Error(`sent ${sent} bytes, expected ${length}`);
      return sent;
    } finally {
      lease.release();
    }
  }

  /** Receives the stored file; resolves with its length. */
  async retrieve(pool: BufferPool): Promise<number> {
    const lease = await pool.acquire();
    try {
      const buffer = ioBytes(lease.bytes);
      using conn = await this.#connect("R");
      let received = 0;
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) return received;
        received += n;
      }
    } finally {
      lease.release();
    }
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.#child.status;
  }
}

interface Pair {
  cdfsGBps: number[];
  baselineGBps: number[];
  ratios: number[];
  /** CPU seconds per GiB moved, server and client together, of each run. */
  cdfsCpuPerGiB: number[];
  baselineCpuPerGiB: number[];
}

/** A pair of measurements as the results file records them, rounded. */
function pairJson(pair: Pair, medianRatio: number) {
  return {
    cdfsGBps: pair.cdfsGBps.map((v) => round(v)),
    bareGBps: pair.baselineGBps.map((v) => round(v)),
    ratios: pair.ratios.map((v) => round(v)),
    medianRatio: round(medianRatio),
    target: THROUGHPUT_TARGET,
    cdfsCpuSecondsPerGiB: pair.cdfsCpuPerGiB.map((v) => round(v)),
    bareCpuSecondsPerGiB: pair.baselineCpuPerGiB.map((v) => round(v)),
  };
}

/** CPU time (user + system, all threads) of a process so far, in seconds, from /proc. */
function cpuSeconds(pid: number | "self"): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of the line, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Timed {
  gbps: number;
  cpuPerGiB: number;
}

/** Times `run`, and the CPU it costs this process and the server process `serverPid`. */
async function timed(serverPid: number, run: () => Promise<number>): Promise<Timed> {
  const cpuBefore = cpuSeconds(serverPid) + cpuSeconds("self");
  const started = performance.now();
  const bytes = await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(serverPid) + cpuSeconds("self") - cpuBefore;
  return { gbps: bytes / seconds / 1e9, cpuPerGiB: cpu / (bytes / (1 << 30)) };
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Runs the datanode benchmark (see the module documentation), prints its table and writes
 * `bench/out/datanode.json`.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark takes minutes and writes `bench/out/`.
 * ```ts ignore
 * import { runDatanodeBench } from "./datanode.ts";
 * await runDatanodeBench(["--size", "256M", "--runs", "1"]);
 * ```
 *
 * @param args Options: `--size N`, `--rss-size N`, `--runs N`, `--help`.
 */
export async function runDatanodeBench(args: string[]): Promise<void> {
  const options = parseOptions(args);
  if (options === null) {
    console.log(HELP);
    return;
  }
  const { size, rssSize, runs } = options;
  const work = await Deno.makeTempDir({ prefix: "cdfs-bench-datanode-" });
  const pattern = new Uint8Array(MIB);
  for (let at = 0; at < MIB; at += 65536) crypto.getRandomValues(pattern.subarray(at, at + 65536));
  const pool = new BufferPool({ bufferSize: MIB, maxBuffers: 2 });
  console.log(
    `datanode: ${runs} run(s) of STORE and RETRIEVE of ${size / MIB} MiB over loopback, ` +
      `then the datanode's peak RSS while storing ${rssSize / MIB} MiB`,
  );

  const newPair = (): Pair => ({
    cdfsGBps: [],
    baselineGBps: [],
    ratios: [],
    cdfsCpuPerGiB: [],
    baselineCpuPerGiB: [],
  });
  const store = newPair();
  const retrieve = newPair();
  const record = (pair: Pair, what: string, run: number, speeds: Record<string, Timed>) => {
    const { cdfs, baseline } = speeds as { cdfs: Timed; baseline: Timed };
    pair.cdfsGBps.push(cdfs.gbps);
    pair.baselineGBps.push(baseline.gbps);
    pair.ratios.push(cdfs.gbps / baseline.gbps);
    pair.cdfsCpuPerGiB.push(cdfs.cpuPerGiB);
    pair.baselineCpuPerGiB.push(baseline.cpuPerGiB);
    console.log(
      `  ${what.padEnd(8)} run ${run + 1}: cdfs ${cdfs.gbps.toFixed(2)} GB/s ` +
        `(${cdfs.cpuPerGiB.toFixed(2)} CPU s/GiB), bare ${baseline.gbps.toFixed(2)} GB/s ` +
        `(${baseline.cpuPerGiB.toFixed(2)} CPU s/GiB)`,
    );
  };
  let rss: { idleBytes: number; peakBytes: number } | undefined;
  await Deno.mkdir(`${work}/baseline`);
  const baseline = await Baseline.start(`${work}/baseline`);
  try {
    {
      await using node = await DataNodeProcess.start({ dataDir: `${work}/node` });
      const storeCdfs = async (run: number) => {
        using client = await DataNodeClient.connect(node.address);
        const result = await client.store(`bench-${run}`, patternReader(size, pattern), {
          length: size,
        });
        return result.length;
      };
      const retrieveCdfs = async () => {
        using client = await DataNodeClient.connect(node.address);
        const result = await client.retrieve(`bench-${runs - 1}`, () => {});
        if (result.length !== size || !result.verified) throw new Error("RETRIEVE came back wrong");
        return result.length;
      };
      // Warm up both paths (process start-up, JIT, page cache of the code) with a small block.
      {
        using client = await DataNodeClient.connect(node.address);
        await client.store("warm-up", patternReader(64 * MIB, pattern), { length: 64 * MIB });
        await client.retrieve("warm-up", () => {});
        await client.delete("warm-up");
        await baseline.store(patternReader(64 * MIB, pattern), 64 * MIB, pool);
        await baseline.retrieve(pool);
      }
      for (let run = 0; run < runs; run++) {
        // Alternate which goes first, so neither always meets the other's leftovers.
        const order = run % 2 === 0 ? ["cdfs", "baseline"] : ["baseline", "cdfs"];
        const speeds: Record<string, Timed> = {};
        for (const who of order) {
          speeds[who] = who === "cdfs" ? await timed(node.pid, () => storeCdfs(run)) : await timed(
            baseline.pid,
            () => baseline.store(patternReader(size, pattern), size, pool),
          );
        }
        record(store, "STORE", run, speeds);
        if (run > 0) {
          // Untimed: keep one stored block at a time (disk space), the last for RETRIEVE.
          using client = await DataNodeClient.connect(node.address);
          await client.delete(`bench-${run - 1}`);
        }
      }
      for (let run = 0; run < runs; run++) {
        const order = run % 2 === 0 ? ["cdfs", "baseline"] : ["baseline", "cdfs"];
        const speeds: Record<string, Timed> = {};
        for (const who of order) {
          speeds[who] = who === "cdfs"
            ? await timed(node.pid, retrieveCdfs)
            : await timed(baseline.pid, () => baseline.retrieve(pool));
        }
        record(retrieve, "RETRIEVE", run, speeds);
      }
      await node.stop();
    }
    await Deno.remove(`${work}/node`, { recursive: true });
    await Deno.remove(`${work}/baseline/block.bin`).catch(() => {});

    // Memory: a fresh node (VmHWM is the high-water mark since the process started).
    {
      await using node = await DataNodeProcess.start({ dataDir: `${work}/rss` });
      using client = await DataNodeClient.connect(node.address);
      await client.ping();
      const idleBytes = node.peakRssBytes();
      await client.store("rss", patternReader(rssSize, pattern), { length: rssSize });
      const peakBytes = node.peakRssBytes();
      if (idleBytes === undefined || peakBytes === undefined) {
        throw new Error(`cannot read /proc/${node.pid}/status`);
      }
      rss = { idleBytes, peakBytes };
      console.log(
        `  peak RSS of the datanode: ${(idleBytes / MIB).toFixed(1)} MiB idle, ` +
          `${(peakBytes / MIB).toFixed(1)} MiB after storing ${rssSize / MIB} MiB`,
      );
      client.close();
      await node.stop();
    }
  } finally {
    await baseline.stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }

  const storeRatio = median(store.ratios);
  const retrieveRatio = median(retrieve.ratios);
  const mark = (ok: boolean, what: string) => ok ? "yes" : `**no**: ${what}`;
  const sizeText = `${size / MIB >= 1024 ? `${size / MIB / 1024} GiB` : `${size / MIB} MiB`}`;
  const rows = [
    "| measurement | cdfs | bare Deno socket↔file | cdfs / bare | target | ok? |",
    "| --- | ---: | ---: | ---: | --- | --- |",
    `| STORE ${sizeText} (GB/s) | ${median(store.cdfsGBps).toFixed(2)} | ${
      median(store.baselineGBps).toFixed(2)
    } | ${storeRatio.toFixed(2)}× | ≥ ${THROUGHPUT_TARGET}× | ${
      mark(storeRatio >= THROUGHPUT_TARGET, `${storeRatio.toFixed(2)}×`)
    } |`,
    `| RETRIEVE ${sizeText} (GB/s) | ${median(retrieve.cdfsGBps).toFixed(2)} | ${
      median(retrieve.baselineGBps).toFixed(2)
    } | ${retrieveRatio.toFixed(2)}× | ≥ ${THROUGHPUT_TARGET}× | ${
      mark(retrieveRatio >= THROUGHPUT_TARGET, `${retrieveRatio.toFixed(2)}×`)
    } |`,
    `| datanode peak RSS, STORE of ${rssSize / MIB} MiB (MiB) | ${
      (rss!.peakBytes / MIB).toFixed(1)
    } | — | — | ≤ ${RSS_TARGET_BYTES / MIB} MiB | ${
      mark(rss!.peakBytes <= RSS_TARGET_BYTES, `${(rss!.peakBytes / MIB).toFixed(1)} MiB`)
    } |`,
  ];
  console.log(`\n${rows.join("\n")}\n`);
  console.log(
    `GB/s = 10^9 bytes per second, median of ${runs} run(s); the ratio is the median of the ` +
      "per-run ratios (cdfs and the bare copy run back to back).\n" +
      `CPU seconds per GiB (server + client process, median): STORE cdfs ${
        median(store.cdfsCpuPerGiB).toFixed(2)
      }, bare ${median(store.baselineCpuPerGiB).toFixed(2)}; RETRIEVE cdfs ${
        median(retrieve.cdfsCpuPerGiB).toFixed(2)
      }, bare ${median(retrieve.baselineCpuPerGiB).toFixed(2)}. On a busy 2-core machine the ` +
      "throughput ratio tends toward the inverse of the CPU ratio.",
  );

  await Deno.mkdir(OUT_DIR, { recursive: true });
  await Deno.writeTextFile(
    RESULT_FILE,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        blockBytes: size,
        runs,
        store: pairJson(store, storeRatio),
        retrieve: pairJson(retrieve, retrieveRatio),
        rss: {
          storeBytes: rssSize,
          idleHwmBytes: rss!.idleBytes,
          peakHwmBytes: rss!.peakBytes,
          targetBytes: RSS_TARGET_BYTES,
        },
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`results: ${RESULT_FILE}`);
}

if (import.meta.main) {
  await runDatanodeBench(Deno.args);
}
