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
import { NameNodeServer, type NameNodeServerOptions } from "../../src/namenode/server.ts";
import { loadCodingModule } from "../../src/coding/loader.ts";

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
    ? options.meta ?? `sqlite:${await Deno.makeTempFile({ prefix: "cdfs-nn-", suffix: ".db" })}`
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

/**
 * Waits until `condition` holds, polling.
 *
 * @param what What is awaited, for the failure.
 * @param condition The condition.
 * @param timeoutMs How long to wait.
 */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!await condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

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
