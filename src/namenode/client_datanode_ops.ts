/**
 * {@linkcode DatanodeOpsClient}: the connection side of a namenode client and the ops a
 * datanode sends (REGISTER, HEARTBEAT, LEAVE, BLOCK_REPORT), as the server's `datanode_ops.ts`
 * answers them. {@linkcode NameNodeClient} (`client.ts`) adds the file and admin ops; a
 * datanode uses the same client.
 *
 * @module
 */
import type { FrameConnection } from "../protocol/connection.ts";
import { sendChunks } from "../protocol/stream.ts";
import type { FailoverConnection } from "./failover_connection.ts";
import type { DatanodeRegistration, HeartbeatStats, ReportedBlockEntry } from "./meta/model.ts";
import { encodeReport, reportChunks } from "./report_stream.ts";
import type { NameNodeOp, NameNodeRequest } from "./requests.ts";
import type { NameNodeResponseOf } from "./responses.ts";

/**
 * The connection of a namenode client and the ops a datanode sends. Made by
 * {@linkcode NameNodeClient.connect}.
 *
 * @example
 * ```ts
 * import { NameNodeClient } from "./client.ts";
 * import { NameNodeServer } from "./server.ts";
 * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
 * using client = await NameNodeClient.connect(server.address);
 * const capacity = 1 << 30;
 * await client.register({ id: "dn0", address: "127.0.0.1:13100", capacity, free: capacity });
 * console.log((await client.heartbeat("dn0", { free: capacity })).state); // "alive"
 * ```
 */
export class DatanodeOpsClient {
  /** Every namenode's address, in the order they are tried. */
  readonly addresses: readonly string[];
  readonly #link: FailoverConnection;
  readonly #reportChunkSize: number;

  /**
   * Wraps a connection.
   *
   * @param link The connection to the namenodes.
   * @param reportChunkSize The DATA frame size of full block reports.
   */
  protected constructor(link: FailoverConnection, reportChunkSize: number) {
    this.#link = link;
    this.addresses = link.addresses;
    this.#reportChunkSize = reportChunkSize;
  }

  /** The namenode the client talks to now (or will try first). */
  get address(): string {
    return this.#link.address;
  }

  /**
   * How many connections the client has opened so far. It grows when a lost connection is
   * replaced, which a datanode takes as a sign that the namenode may have restarted (and
   * then registers and reports again).
   */
  get connections(): number {
    return this.#link.connections;
  }

  /**
   * Closes the connection; idempotent. Later calls fail. An open client keeps a read pending
   * on its idle connection (to notice the namenode closing it), so close every client.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * client.close();
   * ```
   */
  close(): void {
    this.#link.close();
  }

  /** Closes the client (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Asks who answers.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { id, version } = await client.ping();
   * ```
   *
   * @returns The namenode's id and version.
   */
  ping(): Promise<NameNodeResponseOf["PING"]> {
    return this.call({ op: "PING" });
  }

  /**
   * Registers a datanode (at its start, and again when a heartbeat says `NOT_FOUND`).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * const { heartbeatIntervalMs } = await client.register({ id: "dn0", address: "10.0.0.5:13100", capacity, free });
   * ```
   *
   * @param registration Id, address, capacity, free bytes.
   * @returns The registration and the timing to keep.
   * @throws {CdfsError} `CONFLICT` when the id is registered at another address.
   */
  register(registration: DatanodeRegistration): Promise<NameNodeResponseOf["REGISTER"]> {
    return this.call({
      op: "REGISTER",
      node: registration.id,
      address: registration.address,
      capacity: registration.capacity,
      free: registration.free,
    });
  }

  /**
   * Sends a datanode's heartbeat.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.heartbeat("dn0", { free: 80 << 30 });
   * ```
   *
   * @param node The datanode's id.
   * @param stats Free bytes (and capacity when it changed).
   * @returns The acknowledgement.
   * @throws {CdfsError} `NOT_FOUND` when the datanode is not registered.
   */
  heartbeat(node: string, stats: HeartbeatStats): Promise<NameNodeResponseOf["HEARTBEAT"]> {
    return this.call({
      op: "HEARTBEAT",
      node,
      free: stats.free,
      ...(stats.capacity === undefined ? {} : { capacity: stats.capacity }),
    });
  }

  /**
   * Tells the namenode a datanode is stopping on purpose: it is marked dead now instead of
   * after `deadAfterMs` of silence. Sent last, after the final block report.
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.leave("dn0"); // { node: "dn0", state: "dead" }
   * ```
   *
   * @param node The datanode's id.
   * @returns The acknowledgement.
   * @throws {CdfsError} `NOT_FOUND` when the datanode is not registered.
   */
  leave(node: string): Promise<NameNodeResponseOf["LEAVE"]> {
    return this.call({ op: "LEAVE", node });
  }

  /**
   * Sends an incremental block report: blocks stored and deleted since the last report (at
   * most 100 entries in all).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.reportChanges("dn0", [{ blockId: "f7.part0", length: 4096 }], []);
   * ```
   *
   * @param node The datanode's id.
   * @param added Blocks stored.
   * @param removed Block ids deleted.
   * @returns How many copies the namenode expected there and found missing, and how many
   * reported blocks it does not place there.
   */
  reportChanges(
    node: string,
    added: readonly ReportedBlockEntry[],
    removed: readonly string[],
  ): Promise<NameNodeResponseOf["BLOCK_REPORT"]> {
    return this.call({ op: "BLOCK_REPORT", node, kind: "incremental", added, removed });
  }

  /**
   * Sends a full block report: every block the datanode holds (sent as a data stream after the
   * request, so it may hold up to 100 000 blocks).
   *
   * @example
   * Not run by `deno test --doc`: it needs a running namenode.
   * ```ts ignore
   * await client.reportAll("dn0", blocks);
   * ```
   *
   * @param node The datanode's id.
   * @param blocks Every block it holds.
   * @returns As {@linkcode DatanodeOpsClient.reportChanges}.
   */
  reportAll(
    node: string,
    blocks: readonly ReportedBlockEntry[],
  ): Promise<NameNodeResponseOf["BLOCK_REPORT"]> {
    const encoded = encodeReport(blocks);
    const chunkSize = this.#reportChunkSize;
    return this.call(
      {
        op: "BLOCK_REPORT",
        node,
        kind: "full",
        count: encoded.count,
        length: encoded.length,
        chunkSize,
      },
      async (conn) => {
        await sendChunks(conn, reportChunks(encoded.lines, chunkSize), {
          chunkSize,
          length: encoded.length,
          watchPeer: true,
        });
      },
    );
  }

  /**
   * Sends a request (then its data stream, if any) and reads the validated reply, in turn.
   *
   * @param request The request.
   * @param stream Sends the request's data stream, if it has one.
   * @returns The reply.
   */
  protected call<K extends NameNodeOp>(
    request: NameNodeRequest & { op: K },
    stream?: (conn: FrameConnection) => Promise<void>,
  ): Promise<NameNodeResponseOf[K]> {
    return this.#link.call<K>(request, stream);
  }
}
