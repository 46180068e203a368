/**
 * In-process datanodes for the client tests: `count` {@linkcode DataNodeServer}s on loopback
 * ports, each on its own temp block store, that can be stopped one by one (a lost node: its
 * port then refuses connections) and whose block files can be damaged on disk. Much cheaper
 * than 16 child processes, and the servers run the same code as `cdfs datanode serve`. Also
 * two readers of any node's blocks ({@linkcode retrieveBlock}, {@linkcode statBlock}).
 *
 * @module
 */
import { join } from "node:path";
import { BufferPool } from "../../src/buffer/pool.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import type { StatResponse } from "../../src/protocol/responses.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import type { OpHandler } from "../../src/datanode/op.ts";
import type { NodeSecrets } from "../../src/protocol/auth.ts";
import type { TlsClientConfig, TlsServerConfig } from "../../src/protocol/tls.ts";
import { DataNodeServer, type DataNodeServerOptions } from "../../src/datanode/server.ts";
import type { LogSink } from "../../src/datanode/log.ts";
import { HEADER_SIZE } from "../../src/store/block_file.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { concatBytes } from "./bytes.ts";

/** Options of {@linkcode startCluster}. */
export interface ClusterOptions {
  /** The largest chunk size the nodes serve (default 64 KiB). */
  maxChunkSize?: number;
  /** The modules served (default: every built-in module). */
  modules?: readonly CodingModule[];
  /**
   * The operations node i serves (default the standard ones): a test may wrap one to inject a
   * failure. `server` is node i's server, set once it listens.
   */
  ops?: (node: number, server: () => DataNodeServer) => readonly OpHandler[] | undefined;
  /** The cluster secrets every node requires (default: none). */
  secrets?: NodeSecrets;
  /** Every node serves TLS with this certificate, and its pulls trust `clientTls` (default: none). */
  tls?: TlsServerConfig;
  /** The CA certificates of the nodes' own connections (default: the process's default). */
  clientTls?: TlsClientConfig | null;
  /** Every node's scrub settings (default: none, SCRUB requests only). */
  scrub?: DataNodeServerOptions["scrub"];
  /** Where node i's log records go (default: nowhere). */
  log?: (node: number) => LogSink;
  /** Every node's longest wait for a pooled buffer (default: the server's). */
  bufferWaitMs?: number;
}

/** Running in-process datanodes. */
export interface InProcessCluster {
  /** `127.0.0.1:PORT` of every node, in order. */
  readonly nodes: readonly string[];
  /** The servers (a stopped one stays in the list). */
  readonly servers: readonly DataNodeServer[];
  /** Each node's buffer pool (64 buffers). */
  readonly pools: readonly BufferPool[];
  /** Each node's data directory. */
  readonly dirs: readonly string[];
  /** Stops node i at once (requests under way are cut): a lost node. */
  stop(node: number): Promise<void>;
  /** The file of a block on node i (`DIR/blocks/<id>`, src/store/block_store.ts). */
  blockPath(node: number, block: string): string;
  /**
   * Flips every bit of `count` data bytes of a block file on node i, from data offset `at`:
   * the header and footer stay intact, so STAT still answers and only a read of those bytes
   * (their chunk's checksum) finds the damage.
   */
  corrupt(node: number, block: string, at?: number, count?: number): Promise<void>;
  /** Stops every node and removes the data directories. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `count` in-process datanodes on free loopback ports.
 *
 * @param count How many nodes.
 * @param options Chunk size bound, modules, operations.
 * @returns The cluster; `await using` stops it and removes its data.
 */
export async function startCluster(
  count: number,
  options: ClusterOptions = {},
): Promise<InProcessCluster> {
  const maxChunkSize = options.maxChunkSize ?? 64 * 1024;
  const modules = options.modules === undefined
    ? undefined
    : new Map(options.modules.map((m) => [m.name, m]));
  const dirs: string[] = [];
  const servers: DataNodeServer[] = [];
  const pools: BufferPool[] = [];
  const stopped = new Set<number>();
  try {
    for (let i = 0; i < count; i++) {
      dirs.push(await Deno.makeTempDir({ prefix: `cdfs-cluster-dn${i}-` }));
      const ops = options.ops?.(i, () => servers[i]!);
      pools.push(new BufferPool({ bufferSize: maxChunkSize + 64, maxBuffers: 64 }));
      servers.push(DataNodeServer.listen({
        store: await BlockStore.open(dirs[i]!),
        pool: pools[i]!,
        nodeId: `dn${i}`,
        port: 0,
        ...(ops === undefined ? {} : { ops }),
        ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        ...(options.clientTls === undefined ? {} : { clientTls: options.clientTls }),
        ...(modules === undefined ? {} : { coding: { modules } }),
        ...(options.scrub === undefined ? {} : { scrub: options.scrub }),
        ...(options.log === undefined ? {} : { log: options.log(i) }),
        ...(options.bufferWaitMs === undefined ? {} : { bufferWaitMs: options.bufferWaitMs }),
      }));
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.shutdown(0)));
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const stop = async (node: number) => {
    if (stopped.has(node)) return;
    stopped.add(node);
    await servers[node]!.shutdown(0);
  };
  const blockPath = (node: number, block: string) => join(dirs[node]!, "blocks", block);
  return {
    nodes: servers.map((s) => `127.0.0.1:${s.addr.port}`),
    servers,
    pools,
    dirs,
    stop,
    blockPath,
    async corrupt(node, block, at = 0, count = 16) {
      await flipBlockBytes(dirs[node]!, block, at, count);
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(servers.map((_, i) => stop(i)));
      for (const dir of dirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Inverts `count` stored bytes of block `block` in data directory `dataDir`, from data offset
 * `at` (past the block file's header), without touching its checksums: rot on disk, for
 * in-process nodes and datanode processes alike.
 *
 * @param dataDir The datanode's data directory.
 * @param block The block id.
 * @param at The data offset of the first byte flipped.
 * @param count How many bytes.
 * @returns The whole block file as the flip left it (read in the same open as the flip: the
 * node may quarantine the file as soon as it is rotten).
 */
export async function flipBlockBytes(
  dataDir: string,
  block: string,
  at = 0,
  count = 16,
): Promise<Uint8Array> {
  using file = await Deno.open(join(dataDir, "blocks", block), { read: true, write: true });
  const whole = new Uint8Array((await file.stat()).size);
  let got = 0;
  while (got < whole.length) {
    const n = await file.read(whole.subarray(got));
    if (n === null) break;
    got += n;
  }
  if (HEADER_SIZE + at + count > got) {
    throw new Error(`block '${block}' in ${dataDir} is shorter than that`);
  }
  const bytes = whole.subarray(HEADER_SIZE + at, HEADER_SIZE + at + count);
  for (let i = 0; i < count; i++) bytes[i] = bytes[i]! ^ 0xff;
  await file.seek(HEADER_SIZE + at, Deno.SeekMode.Start);
  let written = 0;
  while (written < count) written += await file.write(bytes.subarray(written));
  return whole.subarray(0, got);
}

/** A whole block of a node, in memory. */
export async function retrieveBlock(address: string, block: string): Promise<Uint8Array> {
  using client = await DataNodeClient.connect(address);
  const chunks: Uint8Array[] = [];
  await client.retrieve(block, (chunk) => void chunks.push(chunk.slice()));
  return concatBytes(chunks);
}

/** A block's STAT on a node, or undefined when the node does not have it. */
export async function statBlock(address: string, block: string): Promise<StatResponse | undefined> {
  using client = await DataNodeClient.connect(address);
  try {
    return await client.stat(block);
  } catch (error) {
    if (isCdfsError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}
