/**
 * Test helpers: connected socket pairs over loopback TCP (a listener on port 0).
 *
 * @module
 */
import { FrameConnection, type FrameConnectionOptions } from "../../src/protocol/connection.ts";
import { encodeFrameHeader, type FrameHeader } from "../../src/protocol/frame.ts";

/** Two ends of one loopback TCP connection. */
export interface RawPair {
  /** The end that connected. */
  client: Deno.Conn;
  /** The end that was accepted. */
  server: Deno.Conn;
  /** Closes both ends, ignoring ends already closed. */
  close(): void;
}

/** Connects two sockets over 127.0.0.1 through a listener on an ephemeral port. */
export async function rawPair(): Promise<RawPair> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const accepted = listener.accept();
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const server = await accepted;
    return {
      client,
      server,
      close() {
        for (const end of [client, server]) {
          try {
            end.close();
          } catch {
            // already closed by the code under test
          }
        }
      },
    };
  } finally {
    listener.close();
  }
}

/** Two FrameConnections over one loopback TCP connection. */
export interface FramePair {
  /** The connecting side. */
  client: FrameConnection;
  /** The accepting side. */
  server: FrameConnection;
  /** Closes both. */
  close(): void;
}

/** A connected pair of FrameConnections (no handshake done). */
export async function framePair(
  clientOptions: FrameConnectionOptions = {},
  serverOptions: FrameConnectionOptions = {},
): Promise<FramePair> {
  const raw = await rawPair();
  const client = await FrameConnection.create(raw.client, clientOptions);
  const server = await FrameConnection.create(raw.server, serverOptions);
  return {
    client,
    server,
    close() {
      client.close();
      server.close();
    },
  };
}

/** Writes all of `bytes` to a raw socket. */
export async function writeRaw(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** Encodes a valid frame header (tests then corrupt bytes of it on purpose). */
export function headerBytes(header: FrameHeader): Uint8Array {
  const bytes = new Uint8Array(16);
  encodeFrameHeader(bytes, header);
  return bytes;
}
