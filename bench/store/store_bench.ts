// deno-lint-ignore-file no-console
/**
 * Throughput of the block store next to plain file I/O in the same process:
 *
 * - write, reference: `FsFile.write` of 1 MiB buffers, fsync, rename, directory fsync;
 * - write, store (checksums given): `BlockWriter.write(chunk, checksum)` as a STORE does with
 *   checksums already verified on the wire, then `commit`;
 * - write, store (hashing): the same without checksums, so the store hashes every chunk;
 * - read, reference: `FsFile.read` into one buffer (page cache warm);
 * - read, store: `BlockReader.readChunk`, which verifies every chunk.
 *
 * All buffers are views over a shared WebAssembly memory, as in the datanode. Run with
 * `deno run -A bench/store/store_bench.ts [--mib N] [--runs N] [--dir DIR]`; prints the median
 * GB/s (10^9 bytes per second) of each row and its ratio to the reference.
 *
 * @module
 */
import { createChecksummer } from "../../src/checksum/checksum.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { readFully, syncDirectory, writeFully } from "../../src/store/file_io.ts";
import { repoPath } from "../common/paths.ts";

const CHUNK = 1 << 20;

interface Options {
  mib: number;
  runs: number;
  dir: string | undefined;
}

function parseOptions(args: string[]): Options {
  const options: Options = { mib: 128, runs: 3, dir: undefined };
  for (let i = 0; i < args.length; i++) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === "--mib" && value) options.mib = Number(value);
    else if (flag === "--runs" && value) options.runs = Number(value);
    else if (flag === "--dir" && value) options.dir = value;
    else throw new Error(`usage: store_bench.ts [--mib N] [--runs N] [--dir DIR] (got ${flag})`);
    i++;
  }
  if (!(Number.isInteger(options.mib) && options.mib > 0)) throw new Error("--mib: a count");
  if (!(Number.isInteger(options.runs) && options.runs > 0)) throw new Error("--runs: a count");
  return options;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Runs the benchmark and prints its table.
 *
 * @example
 * Not run by `deno test --doc`: a benchmark writes and fsyncs blocks under `bench/out/`.
 * ```ts ignore
 * import { runStoreBench } from "./store_bench.ts";
 * await runStoreBench(["--mib", "16", "--runs", "1"]);
 * ```
 *
 * @param args Command-line options.
 */
export async function runStoreBench(args: string[]): Promise<void> {
  const options = parseOptions(args);
  // bench/out of the source tree, wherever it is run from.
  const out = options.dir ?? repoPath("bench/out");
  await Deno.mkdir(out, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: out, prefix: "store-" });
  try {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
    // Two chunk-sized regions, 320 bytes off page alignment like the pool's buffers.
    const source = new Uint8Array(memory.buffer, 320, CHUNK);
    const target = new Uint8Array(memory.buffer, 2 * CHUNK + 640, CHUNK);
    for (let at = 0; at < CHUNK; at += 65536) {
      crypto.getRandomValues(source.subarray(at, at + 65536));
    }
    const chunks = options.mib;
    const bytes = chunks * CHUNK;
    const hasher = await createChecksummer();
    const checksum = hasher.checksum(source);
    const store = await BlockStore.open(dir, { chunkSize: CHUNK });
    const results: Record<string, number[]> = {};
    const time = async (row: string, body: () => Promise<void>) => {
      const start = performance.now();
      await body();
      const seconds = (performance.now() - start) / 1000;
      (results[row] ??= []).push(bytes / seconds / 1e9);
    };

    for (let run = 0; run < options.runs; run++) {
      await time("write, reference", async () => {
        const temp = `${dir}/reference.tmp`;
        const file = await Deno.open(temp, { write: true, createNew: true });
        for (let i = 0; i < chunks; i++) await writeFully(file, source);
        await file.sync();
        file.close();
        await Deno.rename(temp, `${dir}/reference`);
        await syncDirectory(dir);
      });
      await time("write, store (checksums given)", async () => {
        const writer = await store.create("given");
        for (let i = 0; i < chunks; i++) await writer.write(source, checksum);
        await writer.commit();
      });
      await time("write, store (hashing)", async () => {
        const writer = await store.create("hashed");
        for (let i = 0; i < chunks; i++) await writer.write(source);
        await writer.commit();
      });
      await time("read, reference", async () => {
        using file = await Deno.open(`${dir}/reference`);
        while (await readFully(file, target) > 0) { /* read on */ }
      });
      await time("read, store (verified)", async () => {
        using reader = await store.openReader("given");
        for (let i = 0; i < reader.info.chunkCount; i++) await reader.readChunk(i, target);
      });
      // Untimed, for every row alike: freeing a big file's blocks is slow on a file system
      // mounted with online `discard`, and would otherwise land in the next commit.
      await Deno.remove(`${dir}/reference`);
      await store.delete("given");
      await store.delete("hashed");
    }

    const ref = {
      write: median(results["write, reference"]!),
      read: median(results["read, reference"]!),
    };
    console.log(`block store, ${options.mib} MiB blocks, 1 MiB chunks, ${options.runs} runs`);
    console.log("| row | GB/s (median) | vs reference |");
    console.log("|---|---|---|");
    for (const [row, values] of Object.entries(results)) {
      const gbps = median(values);
      const base = row.startsWith("write") ? ref.write : ref.read;
      console.log(`| ${row} | ${gbps.toFixed(2)} | ${(gbps / base).toFixed(2)} |`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await runStoreBench(Deno.args);
