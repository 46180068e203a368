/**
 * cdfs wire format v1: framing, messages, connections and chunked data streams, shared by the
 * datanode server and the client. Knows no disk. The byte layouts and the reasoning behind
 * them are in `docs/protocol.md`.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * import { FRAME_TYPE, FrameConnection, parseResponse } from "./mod.ts";
 * const conn = await FrameConnection.create(await Deno.connect({ port: 7070 }));
 * await conn.clientHandshake();
 * await conn.writeJsonFrame(FRAME_TYPE.REQUEST, { op: "PING" });
 * const pong = parseResponse("PING", await conn.readJsonFrame(FRAME_TYPE.RESPONSE));
 * console.log(pong.node);
 * conn.close();
 * ```
 *
 * @module
 */
export * from "../core/block_id.ts";
export * from "./connection.ts";
export * from "./frame.ts";
export * from "./messages.ts";
export * from "./progress_writer.ts";
export * from "./stream.ts";
