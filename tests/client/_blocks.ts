/**
 * Test data for the client and CLI tests: random blocks (in memory or streamed, with their
 * SHA-256 computed as they are produced), SHA-256 of bytes and files, and a port where
 * nothing listens.
 *
 * @module
 */
import { createHash } from "node:crypto";

export { randomBytes } from "../helpers/bytes.ts";

/** The SHA-256 of some bytes, in hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const buffer = new Uint8Array(1 << 20);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return hash.digest("hex");
    hash.update(buffer.subarray(0, n));
  }
}

/**
 * A random block of `length` bytes produced piece by piece (pieces of uneven sizes, so the
 * client has to re-chunk them), never whole in memory; `sha256()` is its hash once it has been
 * consumed.
 */
export function streamedBlock(length: number, piece = 700_001): {
  chunks: AsyncIterable<Uint8Array>;
  sha256(): string;
} {
  const hash = createHash("sha256");
  let digest: string | undefined;
  async function* produce() {
    const buffer = new Uint8Array(piece);
    for (let at = 0; at < length; at += piece) {
      const bytes = buffer.subarray(0, Math.min(piece, length - at));
      for (let i = 0; i < bytes.length; i += 65536) {
        crypto.getRandomValues(bytes.subarray(i, Math.min(bytes.length, i + 65536)));
      }
      hash.update(bytes);
      yield bytes;
    }
    digest = hash.digest("hex");
  }
  return {
    chunks: produce(),
    sha256() {
      if (digest === undefined) throw new Error("the block was not consumed to its end");
      return digest;
    },
  };
}

/** Writes a random file of `length` bytes, streamed; returns its SHA-256. */
export async function writeRandomFile(path: string, length: number): Promise<string> {
  const block = streamedBlock(length, 1 << 20);
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  for await (const chunk of block.chunks) {
    let written = 0;
    while (written < chunk.length) written += await file.write(chunk.subarray(written));
  }
  return block.sha256();
}

/** A loopback port where nothing listens (it was free a moment ago). */
export function unusedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
