import assert from "node:assert/strict";
import { isCdfsError } from "../../src/core/errors.ts";
import {
  digestOf,
  expectedChecksums,
  listNames,
  readAll,
  testBytes,
  withStore,
} from "./store_test_util.ts";

const CS = 4096;

Deno.test("a checksum given with a whole aligned chunk is stored without hashing again", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const data = testBytes(2 * CS, 1);
    const { chunks } = await expectedChecksums(data, CS);
    const writer = await store.create("trusted");
    await writer.write(data.subarray(0, CS), chunks[0]);
    // A deliberately wrong checksum is recorded as given: proof that the chunk was not
    // hashed again. The read then rejects that chunk.
    await writer.write(data.subarray(CS), chunks[1]! ^ 1n);
    const info = await writer.commit();
    assert.equal(info.digest, await digestOf([chunks[0]!, chunks[1]! ^ 1n]));
    using reader = await store.openReader("trusted");
    assert.deepEqual([...reader.info.chunkChecksums], [chunks[0], chunks[1]! ^ 1n]);
    assert.deepEqual(await reader.readChunk(0, new Uint8Array(CS)), data.subarray(0, CS));
    await assert.rejects(
      reader.readChunk(1, new Uint8Array(CS)),
      (e) => isCdfsError(e, "CORRUPT"),
    );
  });
});

Deno.test("a checksum given with an unaligned or partial write is ignored", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const data = testBytes(3 * CS + 100, 2);
    const writer = await store.create("hashed");
    await writer.write(data.subarray(0, 100), 1n); // partial: not a whole chunk
    await writer.write(data.subarray(100, 100 + CS), 2n); // whole size, not aligned
    await writer.write(data.subarray(100 + CS, 2 * CS), 3n);
    await writer.write(data.subarray(2 * CS), 4n); // more than a chunk
    const info = await writer.commit();
    assert.equal(info.digest, (await expectedChecksums(data, CS)).digest);
    assert.deepEqual(await readAll(store, "hashed"), data);
  });
});

Deno.test("writes of any sizes give the same checksums as one write", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const data = testBytes(4 * CS + 33, 3);
    const { digest } = await expectedChecksums(data, CS);
    const pieces = [1, CS - 1, 2 * CS + 1, 0, 7, CS + 25];
    assert.equal(pieces.reduce((a, b) => a + b), data.length);
    const writer = await store.create("pieces");
    let at = 0;
    for (const size of pieces) {
      await writer.write(data.subarray(at, at + size));
      at += size;
      assert.equal(writer.length, at);
    }
    assert.equal((await writer.commit()).digest, digest);
  });
});

Deno.test("a declared length is enforced on write and commit", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const isBad = (e: unknown) => isCdfsError(e, "BAD_REQUEST");
    const long = await store.create("long", { length: 10 });
    await long.write(new Uint8Array(6));
    await assert.rejects(long.write(new Uint8Array(5)), isBad);
    assert.deepEqual(await listNames(`${dir}/tmp`), [], "the failed writer cleaned up");
    await assert.rejects(long.commit(), /aborted/);

    const short = await store.create("short", { length: 10 });
    await short.write(new Uint8Array(9));
    await assert.rejects(short.commit(), isBad);
    assert.deepEqual(await listNames(`${dir}/tmp`), []);

    const exact = await store.create("exact", { length: 10 });
    await exact.write(testBytes(10, 1));
    assert.equal((await exact.commit()).length, 10);
    assert.deepEqual(await listNames(`${dir}/blocks`), ["exact"]);
  });
});

Deno.test("commit checks the sender's length and digest before the block appears", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const data = testBytes(CS + 1, 4);
    const { digest } = await expectedChecksums(data, CS);
    const isCorrupt = (e: unknown) => isCdfsError(e, "CORRUPT");
    for (
      const expected of [{ length: CS }, { digest: digest ^ 1n }, { length: CS + 1, digest: 0n }]
    ) {
      const writer = await store.create("e");
      await writer.write(data);
      await assert.rejects(writer.commit(expected), isCorrupt, String(Object.keys(expected)));
      assert.deepEqual(await listNames(`${dir}/blocks`), []);
      assert.deepEqual(await listNames(`${dir}/tmp`), []);
    }
    const writer = await store.create("e");
    await writer.write(data);
    assert.equal((await writer.commit({ length: CS + 1, digest })).digest, digest);
  });
});

Deno.test("writer calls may not overlap, and nothing works after commit", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const writer = await store.create("w");
    const pending = writer.write(new Uint8Array(CS));
    const overlappingWrite = writer.write(new Uint8Array(1));
    const overlappingCommit = writer.commit();
    await assert.rejects(overlappingWrite, /in progress/);
    await assert.rejects(overlappingCommit, /in progress/);
    await pending;
    assert.equal(writer.length, CS);
    await writer.commit();
    await assert.rejects(writer.write(new Uint8Array(1)), /committed/);
    await assert.rejects(writer.commit(), /committed/);
    await writer.abort(); // a no-op after commit
    assert.equal((await store.stat("w")).length, CS);
  });
});

Deno.test("many writers in turn reuse hashers without mixing their state", async () => {
  await withStore({ chunkSize: CS }, async (store) => {
    const datas = Array.from({ length: 6 }, (_, i) => testBytes(2 * CS + 100 * i + 1, 20 + i));
    const writers = await Promise.all(datas.map((_, i) => store.create(`m${i}`)));
    // Interleave odd-sized writes of all writers, so incremental hashes are open at once.
    for (let at = 0; at < 3 * CS; at += 1000) {
      await Promise.all(writers.map((w, i) => w.write(datas[i]!.subarray(at, at + 1000))));
    }
    const infos = await Promise.all(writers.map((w) => w.commit()));
    for (const [i, info] of infos.entries()) {
      assert.equal(info.digest, (await expectedChecksums(datas[i]!, CS)).digest, `m${i}`);
    }
    // Aborted and committed writers returned their hashers; new ones still hash correctly.
    await (await store.create("x")).abort();
    const again = await store.create("again");
    await again.write(datas[0]!);
    assert.equal((await again.commit()).digest, infos[0]!.digest);
  });
});

Deno.test("abort during a write or a commit leaves a consistent store", async () => {
  await withStore({ chunkSize: CS }, async (store, dir) => {
    const data = testBytes(3 * CS + 5, 30);
    const { digest } = await expectedChecksums(data, CS);
    for (let delay = 0; delay < 6; delay++) {
      const duringWrite = await store.create(`w${delay}`);
      // Handlers go on at once: a rejection with none attached fails the test run.
      const write = duringWrite.write(data).catch(() => {}); // may finish or fail
      for (let i = 0; i < delay; i++) await Promise.resolve();
      await duringWrite.abort();
      await write;
      await assert.rejects(duringWrite.commit(), /aborted/);

      const duringCommit = await store.create(`c${delay}`);
      await duringCommit.write(data);
      const commit = duringCommit.commit().then(() => true, (e) => {
        assert.match(String(e), /the writer was aborted/);
        return false;
      });
      // Microtask pauses stop the commit early, timer pauses late (or after it is done).
      if (delay < 3) { for (let i = 0; i < 3 * delay; i++) await Promise.resolve(); }
      else await new Promise((resolve) => setTimeout(resolve, delay - 3));
      await duringCommit.abort();
      if (await commit) assert.equal((await store.stat(`c${delay}`)).digest, digest);
      else await assert.rejects(store.stat(`c${delay}`), (e) => isCdfsError(e, "NOT_FOUND"));
      assert.deepEqual(await listNames(`${dir}/tmp`), []);

      // The hashers the aborted writers gave back still produce right checksums.
      const next = await store.create(`n${delay}`);
      await next.write(data);
      assert.equal((await next.commit()).digest, digest);
    }
    assert.deepEqual(
      (await listNames(`${dir}/blocks`)).filter((name) => name.startsWith("w")),
      [],
    );
  });
});
