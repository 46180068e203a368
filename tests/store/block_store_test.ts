import assert from "node:assert/strict";
import { WasmArena } from "../../src/buffer/arena.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import type { BlockChange } from "../../src/store/types.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { DEFAULT_CHUNK_SIZE } from "../../src/store/block_file.ts";
import {
  expectedChecksums,
  listNames,
  readAll,
  storeBlock,
  testBytes,
  withStore,
} from "./store_test_util.ts";

const CS = 4096;
const SIZES = [0, 1, CS - 1, CS, CS + 1, 5 * CS + 7];

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("blocks of edge sizes round-trip with independently computed checksums", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    for (const size of SIZES) {
      // Whole block in one write, odd-sized writes, and 1-byte writes (for small blocks).
      const pieceSizes = [size || 1, 1000, ...(size <= CS + 1 ? [1] : [])];
      for (const [n, pieceSize] of pieceSizes.entries()) {
        const id = `b${size}.${n}`;
        const data = testBytes(size, size + 1);
        const expected = await expectedChecksums(data, CS);
        const info = await storeBlock(store, id, data, pieceSize);
        assert.equal(info.block, id);
        assert.equal(info.length, size);
        assert.equal(info.chunkSize, CS);
        assert.equal(info.digest, expected.digest, `${id} digest`);
        assert.deepEqual(await store.stat(id), info);
        using reader = await store.openReader(id);
        assert.deepEqual([...reader.info.chunkChecksums], expected.chunks, `${id} checksums`);
        assert.equal(reader.info.chunkCount, expected.chunks.length);
        assert.deepEqual(await readAll(store, id), data, `${id} bytes`);
      }
    }
  });
});

Deno.test("a 1 MiB + 1 block round-trips with the default chunk size", async () => {
  await withStore({}, async (store) => {
    assert.equal(store.chunkSize, DEFAULT_CHUNK_SIZE);
    const data = testBytes(DEFAULT_CHUNK_SIZE + 1, 9);
    const info = await storeBlock(store, "big", data, 300_000);
    assert.equal(info.chunkSize, DEFAULT_CHUNK_SIZE);
    assert.equal(info.digest, (await expectedChecksums(data, DEFAULT_CHUNK_SIZE)).digest);
    using reader = await store.openReader("big");
    assert.equal(reader.info.chunkCount, 2);
    assert.equal(reader.chunkLength(1), 1);
    assert.deepEqual(await readAll(store, "big"), data);
  });
});

Deno.test("the created time is the commit time and survives reopening the store", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const before = Date.now();
    const info = await storeBlock(store, "t", testBytes(10, 1));
    const after = Date.now();
    assert.ok(info.created.getTime() >= before && info.created.getTime() <= after);
    const reopened = await BlockStore.open(dir, { chunkSize: CS });
    assert.deepEqual(await reopened.stat("t"), info);
  });
});

Deno.test("writes and reads work on views over a shared WebAssembly memory", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 4, shared: true });
    assert.ok(memory.buffer instanceof SharedArrayBuffer);
    const data = testBytes(3 * CS + 100, 3);
    const source = new Uint8Array(memory.buffer, 300, data.length);
    source.set(data);
    const writer = await store.create("wasm");
    for (let at = 0; at < data.length; at += CS) {
      await writer.write(source.subarray(at, at + CS));
    }
    const info = await writer.commit();
    assert.equal(info.digest, (await expectedChecksums(data, CS)).digest);

    const into = new Uint8Array(memory.buffer, 70_000, CS);
    using reader = await store.openReader("wasm");
    const out: number[] = [];
    for await (const slice of reader.slices(into)) {
      assert.equal(slice.bytes.buffer, memory.buffer);
      out.push(...slice.bytes);
    }
    assert.deepEqual(new Uint8Array(out), data);
  });
});

Deno.test("a block streams through pooled WebAssembly buffers both ways", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const pool = new BufferPool({
      arena: new WasmArena({ maxBytes: 1 << 20 }),
      bufferSize: CS,
      maxBuffers: 2,
    });
    const data = testBytes(7 * CS + 99, 13);
    const { chunks, digest } = await expectedChecksums(data, CS);
    // As the server does: each received frame lands in a pooled buffer with its checksum.
    const writer = await store.create("pooled", { length: data.length });
    for (let index = 0; index * CS < data.length; index++) {
      const buffer = await pool.acquire();
      const piece = data.subarray(index * CS, (index + 1) * CS);
      buffer.bytes.set(piece);
      await writer.write(buffer.bytes.subarray(0, piece.length), chunks[index]);
      buffer.release();
    }
    assert.equal((await writer.commit({ length: data.length, digest })).digest, digest);

    using reader = await store.openReader("pooled");
    const buffer = await pool.acquire();
    const out: number[] = [];
    for (let index = 0; index < reader.info.chunkCount; index++) {
      out.push(...await reader.readChunk(index, buffer.bytes));
    }
    buffer.release();
    assert.deepEqual(new Uint8Array(out), data);
    assert.equal(pool.inUse, 0);
  });
});

Deno.test("sha256 equals WebCrypto's digest of the same bytes", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    for (const size of [0, 1, 3 * CS + 5]) {
      const data = testBytes(size, 5);
      await storeBlock(store, `s${size}`, data);
      assert.equal(await store.sha256(`s${size}`), await sha256Hex(data));
    }
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const into = new Uint8Array(memory.buffer, 64, CS);
    assert.equal(
      await store.sha256(`s${3 * CS + 5}`, into),
      await sha256Hex(testBytes(3 * CS + 5, 5)),
    );
  });
});

Deno.test("create fails EXISTS for an existing block unless overwriting", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    await storeBlock(store, "x", testBytes(10, 1));
    await assert.rejects(store.create("x"), (e) => isCdfsError(e, "EXISTS"));
    assert.deepEqual(await listNames(`${dir}/tmp`), [], "no temp file for a refused create");

    const second = testBytes(CS + 3, 2);
    const writer = await store.create("x", { overwrite: true });
    await writer.write(second);
    const info = await writer.commit();
    assert.equal(info.length, CS + 3);
    assert.deepEqual(await readAll(store, "x"), second);
  });
});

Deno.test("of two concurrent writers of one id, the second commit fails EXISTS", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const first = await store.create("race");
    const second = await store.create("race");
    await first.write(testBytes(100, 1));
    await second.write(testBytes(200, 2));
    await first.commit();
    await assert.rejects(second.commit(), (e) => isCdfsError(e, "EXISTS"));
    assert.deepEqual(await readAll(store, "race"), testBytes(100, 1));
    assert.deepEqual(await listNames(`${dir}/tmp`), [], "the losing temp file is removed");
    await assert.rejects(second.write(new Uint8Array(1)), /aborted/);
  });
});

Deno.test("concurrent commits of one id: exactly one wins, or the last with overwrite", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const datas = [1, 2, 3, 4].map((seed) => testBytes(CS + seed, seed));
    const results = await Promise.allSettled(
      datas.map((data) => storeBlock(store, "contended", data)),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert.ok(isCdfsError(r.reason, "EXISTS"));
    }
    const winner = datas[results.findIndex((r) => r.status === "fulfilled")]!;
    assert.deepEqual(await readAll(store, "contended"), winner);

    const writers = await Promise.all(datas.map(() => store.create("ow", { overwrite: true })));
    await Promise.all(writers.map((w, i) => w.write(datas[i]!)));
    const infos = await Promise.all(writers.map((w) => w.commit()));
    const stored = await readAll(store, "ow");
    assert.ok(datas.some((d) => d.length === stored.length && d.every((b, i) => b === stored[i])));
    assert.ok(infos.some((info) => info.length === stored.length));
  });
});

Deno.test("bad ids are rejected everywhere and nothing is created outside the store", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const bad = ["../x", "/etc/passwd", "", "a/b", "x".repeat(10_000), "..", ".", "a..b"];
    for (const id of bad) {
      const isBad = (e: unknown) => isCdfsError(e, "BAD_REQUEST");
      await assert.rejects(store.create(id), isBad, JSON.stringify(id.slice(0, 20)));
      await assert.rejects(store.create(id, { overwrite: true }), isBad);
      await assert.rejects(store.openReader(id), isBad);
      await assert.rejects(store.stat(id), isBad);
      await assert.rejects(store.delete(id), isBad);
      await assert.rejects(store.sha256(id), isBad);
    }
    assert.deepEqual(await listNames(dir), ["blocks", "tmp"]);
    assert.deepEqual(await listNames(`${dir}/blocks`), []);
    assert.deepEqual(await listNames(`${dir}/tmp`), []);
  });
});

Deno.test("a bad chunk size or declared length is rejected at create", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const isBad = (e: unknown) => isCdfsError(e, "BAD_REQUEST");
    await assert.rejects(store.create("a", { chunkSize: 100 }), isBad);
    await assert.rejects(store.create("a", { length: -1 }), isBad);
    await assert.rejects(store.create("a", { length: 0.5 }), isBad);
    await assert.rejects(BlockStore.open(await Deno.makeTempDir(), { chunkSize: 0 }), isBad);
  });
});

Deno.test("a per-block chunk size overrides the store's", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const data = testBytes(3 * 8192 + 1, 4);
    const writer = await store.create("c", { chunkSize: 8192 });
    await writer.write(data);
    const info = await writer.commit();
    assert.equal(info.chunkSize, 8192);
    assert.equal(info.digest, (await expectedChecksums(data, 8192)).digest);
    assert.deepEqual(await readAll(store, "c"), data);
  });
});

Deno.test("delete removes a block; a missing block is NOT_FOUND", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    await storeBlock(store, "d", testBytes(10, 1));
    assert.equal(await store.count(), 1);
    await store.delete("d");
    assert.equal(await store.count(), 0);
    const isMissing = (e: unknown) => isCdfsError(e, "NOT_FOUND");
    await assert.rejects(store.delete("d"), isMissing);
    await assert.rejects(store.stat("d"), isMissing);
    await assert.rejects(store.openReader("d"), isMissing);
    await assert.rejects(store.sha256("d"), isMissing);
    // The id is free again.
    await storeBlock(store, "d", testBytes(5, 2));
    assert.equal((await store.stat("d")).length, 5);
  });
});

Deno.test("list pages through blocks by prefix, cursor and limit, in id order", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const ids = ["b", "a2", "a10", "a1", "A", "a.x", "c-1", "a_"];
    for (const [i, id] of ids.entries()) await storeBlock(store, id, testBytes(i, i + 1));
    const sorted = [...ids].sort(); // ASCII order: "A" < "a.x" < "a1" < "a10" < "a2" < "a_"
    assert.deepEqual(sorted, ["A", "a.x", "a1", "a10", "a2", "a_", "b", "c-1"]);

    const all = await store.list();
    assert.deepEqual(all.blocks.map((b) => b.block), sorted);
    assert.equal(all.next, null);
    for (const entry of all.blocks) {
      const stat = await store.stat(entry.block);
      assert.deepEqual(entry, { block: stat.block, length: stat.length, created: stat.created });
    }

    const pages: string[][] = [];
    let after: string | null = "";
    while (after !== null) {
      const page = await store.list({ after, limit: 3 });
      pages.push(page.blocks.map((b) => b.block));
      after = page.next;
    }
    assert.deepEqual(pages, [["A", "a.x", "a1"], ["a10", "a2", "a_"], ["b", "c-1"]]);

    const prefixed = await store.list({ prefix: "a1" });
    assert.deepEqual(prefixed.blocks.map((b) => b.block), ["a1", "a10"]);
    const page1 = await store.list({ prefix: "a", limit: 2 });
    assert.deepEqual(page1.blocks.map((b) => b.block), ["a.x", "a1"]);
    assert.equal(page1.next, "a1");
    const page2 = await store.list({ prefix: "a", after: "a1", limit: 2 });
    assert.deepEqual(page2.blocks.map((b) => b.block), ["a10", "a2"]);
    const page3 = await store.list({ prefix: "a", after: "a2", limit: 2 });
    assert.deepEqual(page3.blocks.map((b) => b.block), ["a_"]);
    assert.equal(page3.next, null);
    // A full page that ends at the last block says there is no next page.
    const exact = await store.list({ prefix: "c", limit: 1 });
    assert.deepEqual(exact.blocks.map((b) => b.block), ["c-1"]);
    assert.equal(exact.next, null);
    assert.deepEqual(await store.list({ prefix: "zz" }), { blocks: [], next: null });
    assert.equal(await store.count(), ids.length);

    // Files that are not block ids are not blocks.
    await Deno.writeTextFile(`${dir}/blocks/not an id`, "x");
    assert.equal((await store.list()).blocks.length, ids.length);
    assert.equal(await store.count(), ids.length);
  });
});

Deno.test("list rejects bad prefixes, cursors and limits", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const isBad = (e: unknown) => isCdfsError(e, "BAD_REQUEST");
    for (const limit of [0, -1, 10_001, 1.5, NaN]) {
      await assert.rejects(store.list({ limit }), isBad, String(limit));
    }
    await assert.rejects(store.list({ prefix: "a/" }), isBad);
    await assert.rejects(store.list({ after: "../" }), isBad);
    await assert.rejects(store.list({ prefix: "x".repeat(201) }), isBad);
    assert.deepEqual(await store.list({ limit: 10_000 }), { blocks: [], next: null });
  });
});

Deno.test("list reports a block with a damaged header as corrupt instead of failing", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    await storeBlock(store, "good", testBytes(10, 1));
    await storeBlock(store, "hurt", testBytes(10, 2));
    const path = `${dir}/blocks/hurt`;
    const bytes = await Deno.readFile(path);
    bytes[20]! ^= 0xff;
    await Deno.writeFile(path, bytes);
    const { blocks } = await store.list();
    assert.deepEqual(blocks.map((b) => b.block), ["good", "hurt"]);
    assert.equal(blocks[0]!.corrupt, undefined);
    assert.match(blocks[1]!.corrupt ?? "", /block 'hurt': header checksum mismatch/);
    assert.equal(blocks[1]!.length, 0);
  });
});

Deno.test("an aborted writer leaves nothing; abort is idempotent", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const writer = await store.create("gone");
    await writer.write(testBytes(CS + 10, 1));
    assert.equal((await listNames(`${dir}/tmp`)).length, 1);
    await writer.abort();
    await writer.abort();
    assert.deepEqual(await listNames(`${dir}/tmp`), []);
    assert.deepEqual(await listNames(`${dir}/blocks`), []);
    await assert.rejects(store.stat("gone"), (e) => isCdfsError(e, "NOT_FOUND"));
    await assert.rejects(writer.write(new Uint8Array(1)), /aborted/);
    await assert.rejects(writer.commit(), /aborted/);
  });
});

Deno.test("await using aborts an uncommitted writer and keeps a committed one", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    {
      await using writer = await store.create("scoped");
      await writer.write(testBytes(10, 1));
    }
    assert.deepEqual(await listNames(`${dir}/tmp`), []);
    assert.equal(await store.count(), 0);
    {
      await using writer = await store.create("kept");
      await writer.write(testBytes(10, 1));
      await writer.commit();
    }
    assert.equal((await store.stat("kept")).length, 10);
  });
});

Deno.test("a writer dropped without abort (a crash) leaves only a temp file, removed at open", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const crashed = await store.create("crashed");
    await crashed.write(testBytes(2 * CS, 1));
    const temps = await listNames(`${dir}/tmp`);
    assert.equal(temps.length, 1);
    assert.match(temps[0]!, /^crashed\.[0-9a-f]{16}\.tmp$/);
    assert.deepEqual((await store.list()).blocks, []);
    assert.equal(await store.count(), 0);
    await assert.rejects(store.stat("crashed"), (e) => isCdfsError(e, "NOT_FOUND"));

    const restarted = await BlockStore.open(dir, { chunkSize: CS });
    assert.equal(restarted.removedTempFiles, 1);
    assert.deepEqual(await listNames(`${dir}/tmp`), []);
    assert.equal(store.removedTempFiles, 0);
    await crashed.abort(); // only to close the file handle this test process still holds
  });
});

Deno.test("freeBytes reports space on the store's file system", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const free = await store.freeBytes();
    assert.ok(Number.isSafeInteger(free) && free > 0, String(free));
  });
});

Deno.test("space: capacity and free bytes of the store's file system", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const { capacity, free } = await store.space();
    assert.ok(Number.isSafeInteger(capacity) && capacity >= free && free > 0, `${capacity}`);
  });
});

Deno.test("watch: every commit and delete once, never an aborted or refused write", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const seen: BlockChange[] = [];
    const stop = store.watch((change) => seen.push(change));
    // A listener that throws changes nothing for the store or the other listeners.
    const stopBroken = store.watch(() => {
      throw new Error("broken listener");
    });
    await storeBlock(store, "a", testBytes(10, 1));
    await storeBlock(store, "b", testBytes(CS + 1, 2));
    const aborted = await store.create("c");
    await aborted.write(testBytes(5, 3));
    await aborted.abort();
    await assert.rejects(storeBlock(store, "a", testBytes(3, 4)), (e) => isCdfsError(e, "EXISTS"));
    // An overwrite is a new version of the block: added again, with its new length.
    const again = await store.create("a", { overwrite: true });
    await again.write(testBytes(7, 5));
    await again.commit();
    await store.delete("b");
    await assert.rejects(store.delete("b"), (e) => isCdfsError(e, "NOT_FOUND"));
    stop();
    stopBroken();
    await storeBlock(store, "d", testBytes(1, 6));
    assert.deepEqual(seen, [
      { kind: "added", block: "a", length: 10 },
      { kind: "added", block: "b", length: CS + 1 },
      { kind: "added", block: "a", length: 7 },
      { kind: "removed", block: "b" },
    ]);
  });
});
