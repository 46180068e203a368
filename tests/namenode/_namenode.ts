/**
 * Test harness: real {@linkcode NameNodeServer}s on loopback, a settable clock, registered
 * datanodes (records only: the namenode never talks to them) and a raw frame connection for
 * requests no client would send.
 *
 * @module
 */
import { FrameConnection } from "../../src/protocol/connection.ts";
import { FRAME_TYPE } from "../../src/protocol/frame.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { type CodeLayout, layoutOfModule } from "../../src/namenode/layout.ts";
import type { NameNodeLogRecord } from "../../src/namenode/log.ts";
import type { FileView } from "../../src/namenode/responses.ts";
import { NameNodeServer, type NameNodeServerOptions } from "../../src/namenode/server.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";

/** The directory of this test process's SQLite files, made at the first, removed at exit. */
let sqliteDir: string | undefined;

/**
 * A fresh SQLite file path for a test namenode, in a directory of this process that is removed
 * when the process ends (the files and their -wal/-shm companions stay usable until then, for
 * restarts on the same file).
 *
 * @returns The path (the file does not exist yet).
 */
export function tempSqlitePath(): string {
  if (sqliteDir === undefined) {
    const dir = Deno.makeTempDirSync({ prefix: "cdfs-nn-" });
    sqliteDir = dir;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Gone already.
      }
    });
  }
  return `${sqliteDir}/${crypto.randomUUID()}.db`;
}

/** RapidRAID's layouts: the 22 part replicas a put writes, and every block. */
export const RAPIDRAID = await loadCodingModule("rapidraid");
/** The parts of RapidRAID, what CREATE_FILE places. */
export const RAPIDRAID_PARTS: CodeLayout = layoutOfModule(RAPIDRAID, "parts");
/** Every block of RapidRAID, what ADD_BLOCKS completes at the encode. */
export const RAPIDRAID_ALL: CodeLayout = layoutOfModule(RAPIDRAID);
/** One part on one node. */
export const SINGLE: CodeLayout = {
  n: 1,
  roles: [{ role: { kind: "part", index: 0 }, nodes: [0] }],
};
/**
 * One part on two nodes.
 *
 * @example
 * ```ts ignore
 * await commitNewFile(client, { name: "m", length: 10, layout: MIRROR });
 * ```
 */
export const MIRROR: CodeLayout = {
  n: 2,
  roles: [{ role: { kind: "part", index: 0 }, nodes: [0, 1] }],
};
/** A digest for commits. */
export const DIGEST = "ab".repeat(32);

/**
 * A clock tests move by hand.
 *
 * @example
 * ```ts ignore
 * const clock = new Clock();
 * clock.advance(31_000);
 * ```
 */
export class Clock {
  /** Ms since the epoch. */
  ms = Date.UTC(2026, 0, 1);
  /** The clock as a function. */
  readonly now = (): number => this.ms;
  /**
   * Moves time on.
   *
   * @param ms How far.
   */
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A started namenode with its log records. */
export interface TestNameNode {
  readonly server: NameNodeServer;
  readonly records: NameNodeLogRecord[];
}

/**
 * Starts a namenode on a free loopback port.
 *
 * @param options Server options; `meta` defaults to a fresh SQLite file.
 * @returns The server and its log.
 */
export async function startNameNode(
  options: Partial<NameNodeServerOptions> = {},
): Promise<TestNameNode> {
  const records: NameNodeLogRecord[] = [];
  const meta = options.store === undefined
    ? options.meta ?? `sqlite:${tempSqlitePath()}`
    : undefined;
  const server = await NameNodeServer.start({
    port: 0,
    ...options,
    ...(meta === undefined ? {} : { meta }),
    log: (r) => records.push(r),
  });
  return { server, records };
}

/**
 * A started namenode, a client connected to it, and datanodes registered.
 *
 * @example
 * ```ts ignore
 * await using nn: ServingNameNode = await servingNameNode({}, 2);
 * ```
 */
export interface ServingNameNode extends TestNameNode, AsyncDisposable {
  readonly client: NameNodeClient;
}

/**
 * Starts a namenode on a free loopback port, connects a client and registers `datanodes`
 * datanodes ({@linkcode registerNodes}). Disposing it closes the client, then stops the server
 * at once.
 *
 * @example
 * ```ts ignore
 * await using nn = await servingNameNode({ deadAfterMs: 300 }, 2);
 * await nn.client.heartbeat("dn0", { free: 1 << 30 });
 * ```
 *
 * @param options Server options, as {@linkcode startNameNode}.
 * @param datanodes How many datanodes to register.
 * @param free Free bytes of each.
 * @returns The server, its log and the client.
 */
export async function servingNameNode(
  options: Partial<NameNodeServerOptions> = {},
  datanodes = 0,
  free?: number,
): Promise<ServingNameNode> {
  const { server, records } = await startNameNode(options);
  const serving: ServingNameNode = {
    server,
    records,
    client: await NameNodeClient.connect(server.address).catch(async (error) => {
      await server.shutdown(0);
      throw error;
    }),
    async [Symbol.asyncDispose]() {
      serving.client.close();
      await server[Symbol.asyncDispose]();
    },
  };
  try {
    await registerNodes(serving.client, datanodes, free);
  } catch (error) {
    await serving[Symbol.asyncDispose]();
    throw error;
  }
  return serving;
}

/**
 * Registers datanodes `dn0..` with fake addresses (127.0.0.1:20000+i).
 *
 * @param client A client.
 * @param count How many.
 * @param free Free bytes of each (and capacity twice that).
 * @param first The index of the first.
 */
export async function registerNodes(
  client: NameNodeClient,
  count: number,
  free = 1 << 30,
  first = 0,
): Promise<void> {
  for (let i = first; i < first + count; i++) {
    await client.register({
      id: `dn${i}`,
      address: `127.0.0.1:${20000 + i}`,
      capacity: free * 2,
      free,
    });
  }
}

/**
 * What {@linkcode commitNewFile} made: the record CREATE_FILE returned, and the committed one.
 *
 * @example
 * ```ts ignore
 * const { file, committed }: CommittedFile = await commitNewFile(client, { name: "f", length: 1 });
 * ```
 */
export interface CommittedFile {
  /** The file as created (pending, its blocks placed). */
  readonly file: FileView;
  /** The file once committed with {@linkcode DIGEST}. */
  readonly committed: FileView;
}

/**
 * Creates a file (replication by default, one part on one node) and commits it.
 *
 * @example
 * ```ts ignore
 * const { file } = await commitNewFile(client, { name: "m", length: 10, layout: MIRROR });
 * ```
 *
 * @param client A client.
 * @param spec Name, length, and the layout and code when not one replicated part.
 * @returns The file as created and as committed.
 */
export async function commitNewFile(
  client: NameNodeClient,
  spec: { name: string; length: number; layout?: CodeLayout; code?: string },
): Promise<CommittedFile> {
  const { file } = await client.createFile({
    name: spec.name,
    code: spec.code ?? "replication",
    length: spec.length,
    layout: spec.layout ?? SINGLE,
  });
  return { file, committed: await client.commitFile(file.fileId, { digest: DIGEST }) };
}

/**
 * A raw connection after the handshake, to send requests no client would.
 *
 * @param address The namenode's `HOST:PORT`.
 * @returns The connection.
 */
export async function rawConnection(address: string): Promise<FrameConnection> {
  const [host, port] = address.split(":");
  const socket = await Deno.connect({ hostname: host!, port: Number(port) });
  const conn = await FrameConnection.create(socket);
  await conn.clientHandshake();
  return conn;
}

/**
 * Sends a REQUEST payload (any bytes) and reads the reply: the RESPONSE object, or the ERROR's
 * code and message.
 *
 * @param conn The connection.
 * @param payload The payload: an object (sent as JSON) or raw bytes.
 * @returns `{ response }` or `{ error: { code, message } }`.
 */
export async function rawCall(
  conn: FrameConnection,
  payload: object | Uint8Array,
): Promise<{ response?: Record<string, unknown>; error?: { code: string; message: string } }> {
  if (payload instanceof Uint8Array) await conn.writeFrame(FRAME_TYPE.REQUEST, payload);
  else await conn.writeJsonFrame(FRAME_TYPE.REQUEST, payload);
  const header = await conn.readFrameHeader();
  if (header === null) throw new Error("the namenode closed the connection");
  if (header.type === FRAME_TYPE.ERROR) {
    const error = await conn.readErrorPayload(header);
    return { error: { code: error.code, message: error.message } };
  }
  const body = new Uint8Array(header.length);
  await conn.readPayloadInto(body);
  return { response: JSON.parse(new TextDecoder().decode(body)) };
}

export { waitFor } from "../helpers/wait.ts";

/**
 * The events of a namenode's log, in order.
 *
 * @param records The records.
 * @param event Only this event.
 * @returns The records of that event.
 */
export function events(records: readonly NameNodeLogRecord[], event: string): NameNodeLogRecord[] {
  return records.filter((r) => r.event === event);
}
