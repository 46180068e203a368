import assert from "node:assert/strict";
import { isCdfsError } from "../../src/core/errors.ts";
import { HEADER_SIZE } from "../../src/store/block_file.ts";
import type { BlockStore } from "../../src/store/block_store.ts";
import { readAll, storeBlock, testBytes, withStore, xxh64 } from "./store_test_util.ts";

const CS = 4096;
const isCorrupt = (e: unknown) => isCdfsError(e, "CORRUPT");

/** Replaces the block file of `id` by `change(bytes)`. */
async function damage(dir: string, id: string, change: (bytes: Uint8Array) => Uint8Array) {
  const path = `${dir}/blocks/${id}`;
  await Deno.writeFile(path, change(await Deno.readFile(path)));
}

/** Asserts that opening, stat-ing, and sha256-ing block `id` all fail CORRUPT. */
async function assertUnopenable(store: BlockStore, id: string, message: RegExp, what: string) {
  await assert.rejects(
    store.openReader(id),
    (e) => isCorrupt(e) && message.test((e as Error).message),
    what,
  );
  await assert.rejects(store.stat(id), isCorrupt, what);
  await assert.rejects(store.sha256(id), isCorrupt, what);
}

Deno.test("a flipped data byte fails that chunk's read and never returns its bytes", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const data = testBytes(3 * CS + 10, 1);
    await storeBlock(store, "flip", data);
    const badOffset = CS + 1234; // in chunk 1
    await damage(dir, "flip", (bytes) => {
      bytes[HEADER_SIZE + badOffset]! ^= 0x04;
      return bytes;
    });
    // stat checks header and footer only; the data is checked by reads.
    assert.equal((await store.stat("flip")).length, data.length);

    using reader = await store.openReader("flip");
    const buffer = new Uint8Array(CS);
    assert.deepEqual(await reader.readChunk(0, buffer), data.subarray(0, CS));
    buffer.fill(0xee);
    await assert.rejects(
      reader.readChunk(1, buffer),
      (e) =>
        isCorrupt(e) && /block 'flip' chunk 1 \(bytes 4096\.\.8191\)/.test((e as Error).message),
    );
    assert.ok(buffer.every((b) => b === 0), "the bad chunk's bytes are wiped from the buffer");
    // The reader stays usable for the other chunks, in any order.
    assert.deepEqual(await reader.readChunk(3, buffer), data.subarray(3 * CS));
    assert.deepEqual(await reader.readChunk(2, buffer), data.subarray(2 * CS, 3 * CS));

    // Iterating yields the good chunk before the bad one, then fails.
    const seen: number[] = [];
    await assert.rejects(async () => {
      using again = await store.openReader("flip");
      for await (const slice of again.slices(new Uint8Array(CS))) seen.push(slice.chunkIndex);
    }, isCorrupt);
    assert.deepEqual(seen, [0]);
    // A range that avoids the bad chunk still reads.
    assert.deepEqual(
      await readAll(store, "flip", { offset: 2 * CS, length: 20 }),
      data.subarray(2 * CS, 2 * CS + 20),
    );
    await assert.rejects(store.sha256("flip"), isCorrupt);
  });
});

Deno.test("flipped header bytes make the block CORRUPT", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const data = testBytes(2 * CS + 1, 2);
    await storeBlock(store, "h", data);
    const original = await Deno.readFile(`${dir}/blocks/h`);
    const positions = [0, 7, 8, 15, 16, 17, 30, 60, 100, 200, 1000, 4000, HEADER_SIZE - 1];
    for (const at of positions) {
      await damage(dir, "h", () => {
        const bytes = original.slice();
        bytes[at]! ^= 0x20;
        return bytes;
      });
      await assertUnopenable(store, "h", /block 'h': /, `header byte ${at}`);
    }
  });
});

Deno.test("flipped footer bytes make the block CORRUPT", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const data = testBytes(2 * CS + 1, 3);
    await storeBlock(store, "f", data);
    const original = await Deno.readFile(`${dir}/blocks/f`);
    const footerStart = HEADER_SIZE + data.length;
    assert.equal(original.length - footerStart, 3 * 8 + 16);
    for (let at = footerStart; at < original.length; at++) {
      await damage(dir, "f", () => {
        const bytes = original.slice();
        bytes[at]! ^= 0x01;
        return bytes;
      });
      await assertUnopenable(store, "f", /block 'f': /, `footer byte ${at - footerStart}`);
    }
  });
});

Deno.test("a truncated or extended file is CORRUPT", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const data = testBytes(2 * CS + 1, 4);
    await storeBlock(store, "t", data);
    const original = await Deno.readFile(`${dir}/blocks/t`);
    for (const size of [0, 1, 100, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + CS]) {
      await damage(dir, "t", () => original.slice(0, size));
      await assertUnopenable(store, "t", /truncated/, `truncated to ${size}`);
    }
    await damage(dir, "t", () => original.slice(0, original.length - 1));
    await assertUnopenable(store, "t", /truncated/, "one byte short");
    await damage(dir, "t", () => new Uint8Array([...original, 0]));
    await assertUnopenable(store, "t", /trailing bytes/, "one byte long");
  });
});

Deno.test("a file that is not a block file, or another block's file, is CORRUPT", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    await Deno.writeFile(`${dir}/blocks/junk`, testBytes(10_000, 5));
    await assertUnopenable(store, "junk", /bad header magic/, "junk");
    await storeBlock(store, "orig", testBytes(100, 6));
    await Deno.rename(`${dir}/blocks/orig`, `${dir}/blocks/moved`);
    await assertUnopenable(store, "moved", /holds block "orig"/, "moved");
    await Deno.mkdir(`${dir}/blocks/adir`);
    await assertUnopenable(store, "adir", /not a regular file/, "directory");
  });
});

Deno.test("range reads at and across chunk boundaries return exactly the range", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const data = testBytes(5 * CS + 7, 7);
    await storeBlock(store, "r", data);
    const L = data.length;
    const ranges: [number, number][] = [
      [0, L],
      [0, 0],
      [0, 1],
      [0, CS],
      [0, CS + 1],
      [CS, CS],
      [CS - 1, 2],
      [CS - 1, CS + 2],
      [CS + 1, 3 * CS],
      [5 * CS, 7],
      [5 * CS + 6, 1],
      [L, 0],
      [L - 1, 1],
      [2 * CS, 0],
      [123, L - 123],
    ];
    for (const [offset, length] of ranges) {
      using reader = await store.openReader("r", { offset, length });
      assert.equal(reader.offset, offset);
      assert.equal(reader.length, length);
      const out: number[] = [];
      let expectedIndex = Math.floor(offset / CS);
      for await (const slice of reader.slices(new Uint8Array(CS))) {
        assert.equal(slice.chunkIndex, expectedIndex++);
        assert.equal(slice.checksum, await xxh64(slice.bytes), `checksum of ${offset}+${length}`);
        out.push(...slice.bytes);
      }
      assert.deepEqual(new Uint8Array(out), data.subarray(offset, offset + length));
      assert.equal(
        reader.endChunk - reader.firstChunk,
        length === 0 ? 0 : Math.ceil((offset + length) / CS) - Math.floor(offset / CS),
      );
    }
    // Defaults: from offset to the end.
    assert.deepEqual(await readAll(store, "r", { offset: 3 * CS + 3 }), data.subarray(3 * CS + 3));
  });
});

Deno.test("ranges outside the block are BAD_REQUEST", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    await storeBlock(store, "r", testBytes(100, 8));
    await storeBlock(store, "empty", new Uint8Array());
    const isBad = (e: unknown) => isCdfsError(e, "BAD_REQUEST");
    const bad = [
      { offset: 101 },
      { offset: -1 },
      { offset: 1.5 },
      { offset: NaN },
      { length: 101 },
      { offset: 50, length: 51 },
      { offset: 100, length: 1 },
      { length: -1 },
      { length: Infinity },
    ];
    for (const range of bad) {
      await assert.rejects(store.openReader("r", range), isBad, JSON.stringify(range));
    }
    await assert.rejects(store.openReader("empty", { offset: 1 }), isBad);
    assert.deepEqual(await readAll(store, "empty", { offset: 0, length: 0 }), new Uint8Array());
  });
});

Deno.test("readChunk rejects bad indexes, small buffers and overlapping calls", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    await storeBlock(store, "c", testBytes(CS + 5, 9));
    using reader = await store.openReader("c");
    await assert.rejects(reader.readChunk(2, new Uint8Array(CS)), RangeError);
    await assert.rejects(reader.readChunk(-1, new Uint8Array(CS)), RangeError);
    await assert.rejects(reader.readChunk(0, new Uint8Array(CS - 1)), RangeError);
    assert.equal((await reader.readChunk(1, new Uint8Array(5))).length, 5);
    const first = reader.readChunk(0, new Uint8Array(CS));
    await assert.rejects(reader.readChunk(1, new Uint8Array(CS)), /already reading/);
    assert.equal((await first).length, CS);
    reader.close();
    reader.close();
    await assert.rejects(reader.readChunk(0, new Uint8Array(CS)), /closed/);
  });
});

Deno.test("an open reader keeps reading a block deleted or overwritten meanwhile", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const data = testBytes(4 * CS + 1, 10);
    await storeBlock(store, "live", data);

    using deletedUnder = await store.openReader("live");
    using overwrittenUnder = await store.openReader("live");
    const buffer = new Uint8Array(CS);
    assert.deepEqual(await deletedUnder.readChunk(0, buffer), data.subarray(0, CS));
    await store.delete("live");
    const replacement = testBytes(4 * CS + 1, 11);
    const writer = await store.create("live");
    await writer.write(replacement);
    await writer.commit();
    const newer = testBytes(CS, 12);
    const overwriter = await store.create("live", { overwrite: true });
    await overwriter.write(newer);
    await overwriter.commit();

    for (const reader of [deletedUnder, overwrittenUnder]) {
      const out: number[] = [];
      for await (const slice of reader.slices(buffer)) out.push(...slice.bytes);
      assert.deepEqual(new Uint8Array(out), data);
    }
    assert.deepEqual(await readAll(store, "live"), newer);
  });
});

/** Lets pending I/O (a read ahead) run to completion, as a consumer's socket write would. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

Deno.test("slices with a read-ahead buffer: same pieces, alternating buffers, each intact", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const data = testBytes(5 * CS + 7, 21);
    await storeBlock(store, "ra", data);
    const ranges: [number, number][] = [
      [0, data.length],
      [0, 1],
      [CS - 1, 2],
      [CS + 1, 3 * CS],
      [5 * CS, 7],
      [123, data.length - 123],
      [2 * CS, 0],
    ];
    for (const [offset, length] of ranges) {
      using reader = await store.openReader("ra", { offset, length });
      const a = new Uint8Array(CS);
      const b = new Uint8Array(CS);
      const out: number[] = [];
      const buffersUsed: Uint8Array[] = [];
      let expectedIndex = Math.floor(offset / CS);
      for await (const slice of reader.slices(a, b)) {
        assert.equal(slice.chunkIndex, expectedIndex++);
        buffersUsed.push(slice.bytes.buffer === a.buffer ? a : b);
        // The consumer takes its time (the next chunk is read meanwhile); its piece must not
        // change under it.
        await settle();
        const pieceStart = Math.max(offset, slice.chunkIndex * CS);
        assert.deepEqual(
          slice.bytes,
          data.subarray(pieceStart, pieceStart + slice.bytes.length),
          `piece of chunk ${slice.chunkIndex} of ${offset}+${length}`,
        );
        assert.equal(slice.checksum, await xxh64(slice.bytes));
        out.push(...slice.bytes);
      }
      assert.deepEqual(new Uint8Array(out), data.subarray(offset, offset + length));
      for (let i = 1; i < buffersUsed.length; i++) {
        assert.notEqual(buffersUsed[i], buffersUsed[i - 1], "consecutive pieces share a buffer");
      }
    }
  });
});

Deno.test("with read-ahead, a bad chunk still fails in turn, after every good piece", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const data = testBytes(4 * CS, 22);
    await storeBlock(store, "rabad", data);
    await damage(dir, "rabad", (bytes) => {
      bytes[HEADER_SIZE + 2 * CS + 5]! ^= 0x10; // chunk 2
      return bytes;
    });
    using reader = await store.openReader("rabad");
    const a = new Uint8Array(CS);
    const b = new Uint8Array(CS);
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const slice of reader.slices(a, b)) {
        await settle(); // chunk 2 is read (and fails) while chunk 1 is still being used
        assert.deepEqual(
          slice.bytes,
          data.subarray(slice.chunkIndex * CS, (slice.chunkIndex + 1) * CS),
        );
        seen.push(slice.chunkIndex);
      }
    }, (e) => isCorrupt(e) && /chunk 2/.test((e as Error).message));
    assert.deepEqual(seen, [0, 1]);
    // The bad bytes went nowhere: the buffer chunk 2 was read into is wiped.
    assert.ok(a.every((x) => x === 0), "the bad chunk's buffer is wiped");
  });
});

Deno.test("stopping early waits for the read in flight, leaving the reader usable", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const data = testBytes(6 * CS, 23);
    await storeBlock(store, "stop", data);
    using reader = await store.openReader("stop");
    const a = new Uint8Array(CS);
    const b = new Uint8Array(CS);
    for await (const slice of reader.slices(a, b)) {
      assert.equal(slice.chunkIndex, 0);
      break; // chunk 1 is being read ahead right now
    }
    // Not "already reading": the read ahead finished before the loop let go.
    assert.deepEqual(await reader.readChunk(5, a), data.subarray(5 * CS));
  });
});
