/**
 * The read half of `cdfs bench namenode`: `get` of a file by name on a 16-datanode loopback
 * cluster with a namenode (`cluster up`'s, on SQLite), next to the same parts retrieved with
 * the block commands' client, and a degraded `get` next to the healthy one, in the same run.
 *
 * 1. A file of `size` pseudo-random bytes is put with RapidRAID (11 parts, 2 copies each).
 * 2. **healthy get**: what `cdfs get NAME -o FILE` runs: GET_FILE, the code loaded, every part
 *    read from a copy (all at once), the result made durable and checked against the SHA-256
 *    the namenode recorded, renamed into place (`readFile`).
 * 3. **block retrieve** (the reference): the same 11 copies the get read, each retrieved by
 *    `DataNodeClient` (what `cdfs block retrieve` uses) into the output file at its offset, all
 *    at once, made durable and renamed into place, as `block retrieve -o` does for one block.
 *    The same bytes over the same connections, without the namenode and the end-to-end hash.
 *    2 and 3 alternate, `runs` times each after one untimed warm-up of each.
 * 4. The file is archived (RapidRAID's encode, then the replicas go); **archived get**: a
 *    decode from the coded blocks with every datanode up.
 * 5. The datanodes of coded blocks 0..4 are stopped (gracefully: they tell the namenode they
 *    leave, so it knows at once); **degraded get**: a decode from the 11 survivors.
 *
 * Every result is checked against the source's SHA-256 after it is timed. Reported: median
 * seconds and GB/s (10^9 bytes of the file per second), and the time one SHA-256 pass over the
 * result takes on this machine (part of every get, absent from the reference).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { archiveFile } from "../../src/client/files/archive.ts";
import { filePartLength } from "../../src/client/files/file_target.ts";
import { putFile } from "../../src/client/files/put.ts";
import { readFile, type ReadFileResult } from "../../src/client/files/read.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { hashFile } from "../../src/core/file_hash.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { LocalCluster } from "../../src/cluster/local.ts";
import { stopNodes } from "../../src/cluster/node_control.ts";
import type { NodeLauncher } from "../../src/cluster/node_process.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import type { BlockView } from "../../src/namenode/responses.ts";
import { busyFraction, readCpuTicks } from "../common/machine.ts";
import { median, type Spread, spreadOf } from "../common/stats.ts";

/**
 * The reads measured, in table order.
 */
export const READ_KINDS = [
  "healthy get",
  "block retrieve",
  "archived get",
  "degraded get",
] as const;

/**
 * One of {@linkcode READ_KINDS}.
 *
 * @example
 * ```ts
 * import type { ReadKind } from "./namenode_reads.ts";
 * const kind: ReadKind = "degraded get";
 * ```
 */
export type ReadKind = typeof READ_KINDS[number];

/**
 * What the read benchmark measured.
 *
 * @example
 * ```ts
 * import type { ReadResults } from "./namenode_reads.ts";
 * const gbps = (r: ReadResults) => r.bytes / 1e9 / r.seconds["healthy get"].median;
 * ```
 */
export interface ReadResults {
  /** The file's length. */
  readonly bytes: number;
  /** Timed runs of each read. */
  readonly runs: number;
  /**
   * Seconds of every run of each read, with median and range, and the median busy share of
   * the machine's cores (all of them, 0..1) while it ran.
   */
  readonly seconds: Readonly<
    Record<ReadKind, Spread & { readonly values: readonly number[]; readonly busy: number }>
  >;
  /** One SHA-256 pass over the result (the file in the page cache), seconds. */
  readonly sha256Seconds: number;
  /** healthy get / block retrieve, in throughput (target ≥ 0.8). */
  readonly getToRetrieve: number;
  /** degraded get / healthy get, in throughput (target ≥ 0.5). */
  readonly degradedToHealthy: number;
  /** archived get / healthy get, in throughput. */
  readonly archivedToHealthy: number;
  /** The datanodes stopped for the degraded get (cluster indices). */
  readonly lost: readonly number[];
}

/**
 * Options of {@linkcode runReadBench}.
 *
 * @example
 * ```ts
 * import type { ReadBenchOptions } from "./namenode_reads.ts";
 * const options: ReadBenchOptions = {
 *   bytes: 256 << 20, runs: 3, stateRoot: "/tmp/cdfs-0", launcher: { command: "cdfs", args: [] },
 * };
 * ```
 */
export interface ReadBenchOptions {
  /** The file's length. */
  readonly bytes: number;
  /** Timed runs of each read. */
  readonly runs: number;
  /** The state root of the cluster the benchmark starts. */
  readonly stateRoot: string;
  /** How to run cdfs. */
  readonly launcher: NodeLauncher;
  /** Where the source, the results and the cluster's data go (default `$TMPDIR` or /tmp). */
  readonly tempDir?: string;
  /** Progress lines. */
  readonly onProgress?: (line: string) => void;
  /** Stops between measurements (the cluster is stopped all the same). */
  readonly signal?: AbortSignal;
}

/** The datanodes of a RapidRAID file. */
const NODES = 16;
/** How many are stopped for the degraded get: as many as RapidRAID (16,11) can lose. */
const LOST = 5;

/**
 * Starts the cluster, runs the reads and stops everything it started.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark: minutes of work, and it writes `bench/out/`.
 * ```ts ignore
 * import { runReadBench } from "./namenode_reads.ts";
 * const results = await runReadBench({
 *   bytes: 256 << 20, runs: 3, stateRoot, launcher: selfLauncher((n) => Deno.env.get(n)),
 * });
 * console.log(results.getToRetrieve);
 * ```
 *
 * @param options Size, runs, where, how.
 * @returns The times and ratios.
 * @throws {CdfsError} When the cluster does not start, a read fails, or a result's SHA-256 is
 * not the source's.
 */
export async function runReadBench(options: ReadBenchOptions): Promise<ReadResults> {
  const say = options.onProgress ?? (() => {});
  const work = await Deno.makeTempDir({
    prefix: `cdfs-bench-namenode-${Deno.pid}-reads-`,
    ...(options.tempDir === undefined ? {} : { dir: options.tempDir }),
  });
  try {
    say(`starting 16 datanodes and a namenode`);
    await using cluster = await LocalCluster.start({
      nodes: NODES,
      stateRoot: options.stateRoot,
      launcher: options.launcher,
      name: `bench-namenode-${Deno.pid}`,
      namenode: {},
      ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    using namenode = await NameNodeClient.connect(cluster.file.namenode!.address);
    const source = join(work, "source");
    say(`writing a ${options.bytes}-byte source file`);
    const sha256 = await writeRandomFile(source, options.bytes);
    const module = await loadCodingModule("rapidraid");
    const name = "bench/file";
    say("put (RapidRAID, 11 parts on 2 datanodes each)");
    await putFile({ namenode, module, path: source, name });
    await Deno.remove(source);
    const output = join(work, "copy");

    /** Checks a result against the source and removes it; returns how long the hash took. */
    const check = async (what: string, path: string): Promise<number> => {
      const t0 = performance.now();
      const got = await hashFile(path);
      const hashSeconds = (performance.now() - t0) / 1000;
      if (got !== sha256) {
        throw new CdfsError("CORRUPT", `${what} gave SHA-256 ${got}, the source's is ${sha256}`);
      }
      await Deno.remove(path);
      return hashSeconds;
    };
    // Every read's seconds, and how busy the machine's cores were meanwhile.
    const seconds: Record<ReadKind, number[]> = {
      "healthy get": [],
      "block retrieve": [],
      "archived get": [],
      "degraded get": [],
    };
    const busy: Record<ReadKind, number[]> = {
      "healthy get": [],
      "block retrieve": [],
      "archived get": [],
      "degraded get": [],
    };
    /** Times one read; run 0 warms up (connections, JIT, the blocks' page cache): not kept. */
    const timed = async <T>(kind: ReadKind, run: number, read: () => Promise<T>): Promise<T> => {
      options.signal?.throwIfAborted();
      const ticks = await readCpuTicks();
      const t0 = performance.now();
      const value = await read();
      const s = (performance.now() - t0) / 1000;
      if (run > 0) {
        seconds[kind].push(s);
        busy[kind].push(busyFraction(ticks, await readCpuTicks()));
        say(`${kind} ${s.toFixed(3)} s`);
      }
      return value;
    };
    /** What `cdfs get NAME -o FILE` runs. */
    const get = async (expect: ReadFileResult["via"]): Promise<ReadFileResult> => {
      const file = await namenode.getFile(name);
      const result = await readFile({ file, module: await loadCodingModule(file.code), output });
      if (result.via !== expect) {
        throw new CdfsError("INTERNAL", `the get read via ${result.via}, not ${expect}`);
      }
      return result;
    };

    // The healthy get and the block-retrieve reference of the copies it read, alternating.
    const partLength = filePartLength(await namenode.getFile(name), module);
    let sha256Seconds = 0;
    for (let run = 0; run <= options.runs; run++) {
      const result = await timed("healthy get", run, () => get("parts"));
      sha256Seconds = await check("the healthy get", output);
      await timed(
        "block retrieve",
        run,
        () => retrieveParts(result.parts!.used, partLength, options.bytes, output),
      );
      await check("the block retrieve", output);
    }

    say("archive (RapidRAID encode, then the replicas go)");
    await archiveFile({ namenode, file: await namenode.getFile(name), module });
    for (let run = 0; run <= options.runs; run++) {
      await timed("archived get", run, () => get("decode"));
      await check("the archived get", output);
    }

    const archived = await namenode.getFile(name);
    const lost = lostNodes(archived.blocks, cluster.file.nodes.map((n) => n.address));
    say(`stopping datanodes ${lost.join(", ")} (coded blocks 0..${LOST - 1})`);
    await stopNodes(cluster.path, lost);
    for (let run = 0; run <= options.runs; run++) {
      await timed("degraded get", run, () => get("decode"));
      await check("the degraded get", output);
    }

    const spread = (kind: ReadKind) => ({
      ...spreadOf(seconds[kind]),
      values: seconds[kind],
      busy: median(busy[kind]),
    });
    const spreads: ReadResults["seconds"] = {
      "healthy get": spread("healthy get"),
      "block retrieve": spread("block retrieve"),
      "archived get": spread("archived get"),
      "degraded get": spread("degraded get"),
    };
    const m = (kind: ReadKind) => spreads[kind].median;
    return {
      bytes: options.bytes,
      runs: options.runs,
      seconds: spreads,
      sha256Seconds,
      getToRetrieve: m("block retrieve") / m("healthy get"),
      degradedToHealthy: m("healthy get") / m("degraded get"),
      archivedToHealthy: m("healthy get") / m("archived get"),
      lost,
    };
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/**
 * The cluster indices of the datanodes holding coded blocks 0..4 of a file: the 5 to stop for
 * a degraded read that RapidRAID decodes from coded blocks 5..15.
 *
 * @example
 * ```ts
 * import { lostNodes } from "./namenode_reads.ts";
 * const blocks = [0, 1, 2, 3, 4, 5].map((i) => ({
 *   block: `f1.coded${i}`, kind: "coded" as const, index: i, node: `dn${i}`,
 *   address: `h:${10 + i}`, alive: true, state: "stored" as const,
 * }));
 * console.log(lostNodes(blocks, ["h:14", "h:10", "h:11", "h:12", "h:13", "h:15"])); // [ 1, 2, 3, 4, 0 ]
 * ```
 *
 * @param blocks The file's blocks.
 * @param addresses The cluster's datanode addresses, by index.
 * @returns The indices, in coded-block order.
 * @throws {CdfsError} INTERNAL when a coded block is missing or not on a cluster datanode.
 */
export function lostNodes(blocks: readonly BlockView[], addresses: readonly string[]): number[] {
  return Array.from({ length: LOST }, (_, i) => {
    const block = blocks.find((b) => b.kind === "coded" && b.index === i);
    const index = block?.address == null ? -1 : addresses.indexOf(block.address);
    if (index < 0) {
      throw new CdfsError("INTERNAL", `coded block ${i} is on no datanode of the cluster`);
    }
    return index;
  });
}

/**
 * The reference read: each copy retrieved whole (its first `min(partLength, rest)` bytes) into
 * `output` at its part's offset, all at once, then synced and renamed into place.
 */
async function retrieveParts(
  copies: readonly BlockView[],
  partLength: number,
  length: number,
  output: string,
): Promise<void> {
  const temp = `${output}.retrieve.part`;
  {
    using file = await Deno.open(temp, { write: true, createNew: true });
    await Promise.all(copies.map(async (copy, j) => {
      const wanted = Math.max(0, Math.min(partLength, length - j * partLength));
      using client = await DataNodeClient.connect(copy.address!);
      using part = await Deno.open(temp, { write: true });
      await part.seek(j * partLength, Deno.SeekMode.Start);
      const result = await client.retrieve(copy.block, part, { length: wanted });
      if (result.length !== wanted) {
        throw new CdfsError("CORRUPT", `${copy.block} gave ${result.length} of ${wanted} bytes`);
      }
    }));
    await file.syncData();
  }
  await Deno.rename(temp, output);
}

/** Writes `bytes` pseudo-random bytes to `path` and returns their SHA-256. */
async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { write: true, createNew: true });
  const chunk = new Uint8Array(1 << 20);
  for (let at = 0; at < bytes; at += chunk.length) {
    const n = Math.min(chunk.length, bytes - at);
    // getRandomValues fills at most 64 KiB per call.
    for (let o = 0; o < n; o += 65536) {
      crypto.getRandomValues(chunk.subarray(o, Math.min(n, o + 65536)));
    }
    const view = chunk.subarray(0, n);
    hash.update(view);
    let written = 0;
    while (written < n) written += await file.write(view.subarray(written));
  }
  return hash.digest("hex");
}
