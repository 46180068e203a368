// deno-lint-ignore-file no-console
/**
 * The reference of `bench/datanode/datanode.ts`: the least a Deno process can do to move a block between
 * a socket and a file, with the same 1 MiB buffers in WebAssembly memory as the datanode and
 * none of its work (no framing, no checksums, no temp file and rename).
 *
 * Run as a child: `deno run -A bench/datanode/datanode_baseline.ts DIR`. It listens on a free loopback
 * port and prints `listening 127.0.0.1:PORT`. Each connection sends one byte:
 *
 * - `S`: everything after it, up to the client's end of stream, is written to `DIR/block.bin`,
 *   which is then fsynced; the server answers `K` and closes.
 * - `R`: the server sends `DIR/block.bin` and closes.
 *
 * @module
 */
import { ioBytes } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";

const BUFFER_SIZE = 1 << 20;

async function writeAll(target: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) written += await target.write(bytes.subarray(written));
}

async function serveStore(conn: Deno.Conn, path: string, buffer: Uint8Array): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) break;
    await writeAll(file, buffer.subarray(0, n));
  }
  await file.sync();
  await writeAll(conn, new TextEncoder().encode("K"));
}

async function serveRetrieve(conn: Deno.Conn, path: string, buffer: Uint8Array): Promise<void> {
  using file = await Deno.open(path, { read: true });
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    await writeAll(conn, buffer.subarray(0, n));
  }
}

async function serve(conn: Deno.Conn, path: string, pool: BufferPool): Promise<void> {
  const lease = await pool.acquire();
  try {
    const buffer = ioBytes(lease.bytes);
    const op = new Uint8Array(1);
    if (await conn.read(op) !== 1) return;
    if (op[0] === "S".charCodeAt(0)) await serveStore(conn, path, buffer);
    else if (op[0] === "R".charCodeAt(0)) await serveRetrieve(conn, path, buffer);
  } catch (e) {
    console.error(`baseline: ${e instanceof Error ? e.message : e}`);
  } finally {
    lease.release();
    try {
      conn.close();
    } catch {
      // The client closed first.
    }
  }
}

if (import.meta.main) {
  const dir = Deno.args[0];
  if (dir === undefined) {
    console.error("usage: datanode_baseline.ts DIR");
    Deno.exit(2);
  }
  const pool = new BufferPool({ bufferSize: BUFFER_SIZE, maxBuffers: 4 });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening 127.0.0.1:${listener.addr.port}`);
  for await (const conn of listener) {
    conn.setNoDelay(true);
    void serve(conn, `${dir}/block.bin`, pool);
  }
}
