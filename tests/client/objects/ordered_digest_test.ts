/**
 * The SHA-256 a read computes while its parts arrive (`src/client/objects/ordered_digest.ts`): equal to
 * the finished file's, whatever the order and sizes of the writes, mostly hashed before the
 * last part is done; a part read again from another copy after some of it was hashed falls
 * back to a pass over the file; a damaged part still gives a digest that differs from the
 * source's. Through `readFile`: a copy found damaged part-way is read from its other copy and
 * the digest is still the file's; a part whose copies both hold other bytes (consistent with
 * their own checksums) is refused as CORRUPT, leaving no output.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { codingModule as rapidraid } from "../../../coding/rapidraid.ts";
import { DataNodeClient } from "../../../src/client/datanode_client.ts";
import { filePartLength } from "../../../src/client/files/file_target.ts";
import { putFile } from "../../../src/client/files/put.ts";
import { readFile } from "../../../src/client/files/read.ts";
import { OrderedFileDigest, partSpans } from "../../../src/client/objects/ordered_digest.ts";
import { isCdfsError } from "../../../src/core/errors.ts";
import { randomBytes } from "../_blocks.ts";
import { startFileCluster } from "../_file_cluster.ts";
import { tempDir } from "../../helpers/temp_dir.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Writes `bytes[from, to)` at offset `from` of `path`. */
async function writeAt(path: string, bytes: Uint8Array, from: number, to: number) {
  using file = await Deno.open(path, { write: true });
  await file.seek(from, Deno.SeekMode.Start);
  let written = from;
  while (written < to) written += await file.write(bytes.subarray(written, to));
}

/** Lets the digest's loop run (it reads the file back between the writes). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

Deno.test("the ordered digest equals the file's SHA-256 for parts written in any order and chunking, offered or not", async () => {
  await using dir = await tempDir("cdfs-digest-");
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (
    const [length, partLength] of [[0, 4], [1, 4], [10, 4], [300_001, 29_000], [3 << 20, 1 << 20]]
  ) {
    const path = `${dir.path}/f${length}`;
    const bytes = randomBytes(length!);
    await Deno.writeFile(path, new Uint8Array(0));
    const spans = partSpans(length!, partLength!);
    const digest = new OrderedFileDigest(path, spans);
    // Every part advances by random chunks, parts interleaved at random.
    const done = spans.map(() => 0);
    while (done.some((d, j) => d < spans[j]!)) {
      const j = done.findIndex((d, i) => d < spans[i]! && random() < 0.5);
      if (j < 0) continue;
      const start = j * partLength!;
      const to = Math.min(spans[j]!, done[j]! + 1 + Math.floor(random() * 70_000));
      // Half the pieces offered too (hashed from memory when next), the others only written.
      if (random() < 0.5) digest.offer(j, done[j]!, bytes.subarray(start + done[j]!, start + to));
      await writeAt(path, bytes, start + done[j]!, start + to);
      digest.written(j, done[j] = to);
      if (random() < 0.3) await settle();
    }
    assert.equal(await digest.digest(), sha256(bytes), `length ${length}`);
    assert.equal(digest.spoiled, false);
  }
});

Deno.test("offered pieces are hashed from memory when they are next, the rest read back; a mix gives the file's SHA-256", async () => {
  await using dir = await tempDir("cdfs-digest-");
  const path = `${dir.path}/f`;
  const bytes = randomBytes(4 * 100_000 + 17);
  await Deno.writeFile(path, new Uint8Array(0));
  const spans = partSpans(bytes.length, 100_000);
  const digest = new OrderedFileDigest(path, spans);
  // Part 0 in pieces, each offered then written: all hashed as offered.
  for (let at = 0; at < spans[0]!; at += 30_000) {
    const to = Math.min(spans[0]!, at + 30_000);
    digest.offer(0, at, bytes.subarray(at, to));
    await writeAt(path, bytes, at, to);
    digest.written(0, to);
  }
  assert.equal(digest.hashedAsOffered, spans[0]);
  // Parts 3 and 4 ahead of their turn: offered but not next, so left in the file.
  for (const j of [4, 3]) {
    const start = j * 100_000;
    digest.offer(j, 0, bytes.subarray(start, start + spans[j]!));
    await writeAt(path, bytes, start, start + spans[j]!);
    digest.written(j, spans[j]!);
  }
  assert.equal(digest.hashedAsOffered, spans[0]);
  // Parts 1 and 2, not offered: read back, then 3 and 4 too.
  await writeAt(path, bytes, 100_000, 300_000);
  digest.written(2, 100_000);
  digest.written(1, 100_000);
  assert.equal(await digest.digest(), sha256(bytes));
  assert.equal(digest.hashedAsOffered, spans[0]);
  assert.equal(digest.spoiled, false);
});

Deno.test("the ordered digest hashes during the writes; a restart after hashing falls back to the whole file", async () => {
  await using dir = await tempDir("cdfs-digest-");
  const path = `${dir.path}/f`;
  const bytes = randomBytes(4 << 20);
  await Deno.writeFile(path, new Uint8Array(0));
  const digest = new OrderedFileDigest(path, partSpans(bytes.length, 1 << 20));
  // Parts 0 and 1 whole, part 2 half: 2.5 MiB can be hashed before the rest arrives.
  await writeAt(path, bytes, 0, 2 << 20);
  digest.written(0, 1 << 20);
  digest.written(1, 1 << 20);
  await writeAt(path, bytes, 2 << 20, (2 << 20) + (1 << 19));
  digest.written(2, 1 << 19);
  for (let i = 0; i < 100 && digest.hashedSoFar < (2 << 20) + (1 << 19); i++) await settle();
  assert.equal(digest.hashedSoFar, (2 << 20) + (1 << 19));
  // Part 3 read again from another copy before any of it was hashed: nothing lost.
  digest.restart(3);
  assert.equal(digest.spoiled, false);
  // Part 2 read again after half of it was hashed, and its second copy differs: the running
  // hash is given up, the digest is the file's as it ends up.
  digest.restart(2);
  assert.equal(digest.spoiled, true);
  const other = randomBytes(1 << 20);
  const final = bytes.slice();
  final.set(other, 2 << 20);
  await writeAt(path, final, 2 << 20, 4 << 20);
  digest.written(2, 1 << 20);
  digest.written(3, 1 << 20);
  assert.equal(await digest.digest(), sha256(final));
});

Deno.test("the ordered digest is of the bytes in the file: a damaged part does not hash to the source's", async () => {
  await using dir = await tempDir("cdfs-digest-");
  const path = `${dir.path}/f`;
  const source = randomBytes(100_000);
  const damaged = source.slice();
  damaged[60_123] = damaged[60_123]! ^ 1;
  await Deno.writeFile(path, damaged);
  const digest = new OrderedFileDigest(path, partSpans(source.length, 30_000));
  for (const j of [3, 1, 2, 0]) digest.written(j, 30_000);
  const got = await digest.digest();
  assert.equal(got, sha256(damaged));
  assert.notEqual(got, sha256(source));
});

Deno.test("the ordered digest refuses a digest before every part is written, and can be closed", async () => {
  await using dir = await tempDir("cdfs-digest-");
  const path = `${dir.path}/f`;
  await Deno.writeFile(path, new Uint8Array(8));
  const digest = new OrderedFileDigest(path, [4, 4]);
  digest.written(0, 4);
  await assert.rejects(digest.digest(), /part 1 of .* is not written whole/);
  const closed = new OrderedFileDigest(path, [4, 4]);
  closed.close();
  closed.close();
});

const CHUNK = 4096;

Deno.test("get: a copy damaged part-way is read from its other copy, the streamed digest is the file's", async () => {
  await using files = await startFileCluster(16);
  await using dir = await tempDir("cdfs-digest-");
  const bytes = randomBytes(11 * 8 * CHUNK + 777);
  await Deno.writeFile(`${dir.path}/src`, bytes);
  const { file } = await putFile({
    namenode: files.client,
    module: rapidraid,
    path: `${dir.path}/src`,
    name: "f",
    chunkSize: CHUNK,
  });
  const record = await files.client.getFile(file.name);
  const part0 = record.blocks.filter((b) => b.block === `${file.objectId}.part0`);
  // The first copy of part 0 (the one read first) is damaged in its 6th chunk: 5 chunks were
  // written (and could be hashed) before the datanode's checksum stops it.
  const node = files.cluster.nodes.indexOf(part0[0]!.address!);
  await files.cluster.corrupt(node, part0[0]!.block, 5 * CHUNK + 10);
  const failed: string[] = [];
  const output = `${dir.path}/out`;
  const result = await readFile({
    file: record,
    module: rapidraid,
    output,
    onFailedCopy: (c) => failed.push(`${c.block}@${c.node} corrupt=${c.corrupt}`),
  });
  assert.deepEqual(failed, [`${part0[0]!.block}@${part0[0]!.node} corrupt=true`]);
  assert.equal(result.via, "parts");
  assert.equal(result.sha256, sha256(bytes));
  assert.deepEqual(await Deno.readFile(output), bytes);
});

Deno.test("get: a part whose copies both hold other bytes is refused as CORRUPT, no output left", async () => {
  await using files = await startFileCluster(16);
  await using dir = await tempDir("cdfs-digest-");
  const bytes = randomBytes(11 * 4 * CHUNK + 99);
  await Deno.writeFile(`${dir.path}/src`, bytes);
  const { file } = await putFile({
    namenode: files.client,
    module: rapidraid,
    path: `${dir.path}/src`,
    name: "f",
    chunkSize: CHUNK,
  });
  const record = await files.client.getFile(file.name);
  const partLength = filePartLength(record, rapidraid);
  // Both copies of part 4 replaced by other bytes of the same length, stored properly (their
  // own checksums agree): only the file's SHA-256 can tell.
  const wrong = randomBytes(partLength);
  for (const copy of record.blocks.filter((b) => b.block === `${file.objectId}.part4`)) {
    using client = await DataNodeClient.connect(copy.address!);
    await client.store(copy.block, [wrong], { overwrite: true, chunkSize: CHUNK });
  }
  const output = `${dir.path}/out`;
  await assert.rejects(
    readFile({ file: record, module: rapidraid, output }),
    (e) =>
      isCdfsError(e, "CORRUPT") &&
      e.message.includes(`read from its parts has SHA-256`) &&
      e.message.includes(`its record says ${record.digest}`),
  );
  assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), ["src"]);
});
