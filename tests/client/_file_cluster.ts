/**
 * In-process datanodes (`startCluster`) registered with an in-process namenode, for the tests
 * of files by name. The datanodes do here what `datanode serve --namenode` does: register
 * (id `dn<i>`, their address), heartbeat and send full block reports, through
 * {@linkcode NameNodeClient}, when the test says so. The namenode's clock is the test's, so a
 * datanode is made dead by moving the clock past `deadAfterMs` while the others heartbeat.
 *
 * @module
 */
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import type { ReportedBlockEntry } from "../../src/namenode/meta/model.ts";
import type { NameNodeServer } from "../../src/namenode/server.ts";
import { type InProcessCluster, startCluster } from "../helpers/in_process_cluster.ts";
import { Clock, startNameNode } from "../namenode/_namenode.ts";

/** The namenode's `deadAfterMs` in these tests. */
export const DEAD_AFTER_MS = 30_000;

/** Options of {@linkcode startFileCluster}. */
export interface FileClusterOptions {
  /** Free bytes each datanode registers with (default 1 GiB); per node when a function. */
  free?: number | ((node: number) => number);
  /** How many of the datanodes register (default all). */
  registered?: number;
}

/** Datanodes, a namenode that knows them, and the controls of the test. */
export interface FileCluster {
  /** The datanodes. */
  readonly cluster: InProcessCluster;
  /** The namenode. */
  readonly namenode: NameNodeServer;
  /** A client of it. */
  readonly client: NameNodeClient;
  /** The namenode's clock. */
  readonly clock: Clock;
  /** The environment that points the CLI at the namenode. */
  readonly env: Record<string, string>;
  /** The datanode id of node i. */
  id(node: number): string;
  /** Every live datanode sends a full report of its blocks (what the namenode's FSCK reads). */
  report(): Promise<void>;
  /** Stops nodes and lets the namenode find them dead (the others keep heartbeating). */
  kill(nodes: readonly number[]): Promise<void>;
  /** Stops everything. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `count` datanodes and a namenode, and registers the datanodes.
 *
 * @example
 * ```ts ignore
 * await using files = await startFileCluster(21);
 * await runCdfs(["put", "big.iso", "big"], { env: files.env });
 * await files.kill([0, 1]); // the namenode now finds dn0 and dn1 dead
 * ```
 *
 * @param count How many datanodes.
 * @param options Free space, how many register.
 * @returns The cluster; `await using` stops it.
 */
export async function startFileCluster(
  count: number,
  options: FileClusterOptions = {},
): Promise<FileCluster> {
  const cluster = await startCluster(count);
  const clock = new Clock();
  const { server } = await startNameNode({ now: clock.now, deadAfterMs: DEAD_AFTER_MS });
  const client = await NameNodeClient.connect(server.address);
  const dead = new Set<number>();
  const free = (i: number) =>
    typeof options.free === "function" ? options.free(i) : options.free ?? 1 << 30;
  const registered = options.registered ?? count;
  const id = (i: number) => `dn${i}`;
  for (let i = 0; i < registered; i++) {
    await client.register({
      id: id(i),
      address: cluster.nodes[i]!,
      capacity: 2 * free(i),
      free: free(i),
    });
  }
  const live = () => Array.from({ length: registered }, (_, i) => i).filter((i) => !dead.has(i));
  return {
    cluster,
    namenode: server,
    client,
    clock,
    env: { CDFS_NAMENODE: server.address },
    id,
    async report() {
      for (const i of live()) {
        using datanode = await DataNodeClient.connect(cluster.nodes[i]!);
        const blocks: ReportedBlockEntry[] = [];
        for await (const entry of datanode.listAll()) {
          blocks.push({ blockId: entry.block, length: entry.length });
        }
        await client.reportAll(id(i), blocks);
      }
    },
    async kill(nodes) {
      for (const i of nodes) {
        dead.add(i);
        await cluster.stop(i);
      }
      clock.advance(DEAD_AFTER_MS + 1);
      for (const i of live()) await client.heartbeat(id(i), { free: free(i) });
    },
    async [Symbol.asyncDispose]() {
      client.close();
      await server.shutdown(0);
      await cluster[Symbol.asyncDispose]();
    },
  };
}
