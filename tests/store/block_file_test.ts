import assert from "node:assert/strict";
import { createChecksummer } from "../../src/checksum/checksum.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import {
  blockFileSize,
  type BlockHeader,
  chunkCount,
  decodeFooter,
  decodeHeader,
  encodeFooter,
  encodeHeader,
  HEADER_SIZE,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  validateChunkSize,
} from "../../src/store/block_file.ts";
import { xxh64 } from "./store_test_util.ts";

const hasher = await createChecksummer();

const HEADER: BlockHeader = {
  block: "b1",
  length: 10_000,
  chunkSize: 4096,
  chunks: 3,
  digest: 0x0123456789abcdefn,
  created: new Date("2024-05-06T07:08:09.123Z"),
};

const isCorrupt = (e: unknown) => isCdfsError(e, "CORRUPT");

/**
 * A header whose JSON is `json` and whose checksum is right, to reach field validation. (The
 * first test checks the checksum itself against hash-wasm's one-shot xxh64.)
 */
function rawHeader(json: string): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE).fill(0x20);
  bytes.set(new TextEncoder().encode("CDFSBLK1"), 0);
  bytes.set(new TextEncoder().encode(json), 16);
  new DataView(bytes.buffer).setBigUint64(8, hasher.checksum(bytes.subarray(16)), false);
  return bytes;
}

Deno.test("a header round-trips and starts with the magic and an independent checksum", async () => {
  const bytes = encodeHeader(HEADER, hasher);
  assert.equal(bytes.length, HEADER_SIZE);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "CDFSBLK1");
  const checksum = new DataView(bytes.buffer).getBigUint64(8, false);
  assert.equal(checksum, await xxh64(bytes.subarray(16)));
  assert.deepEqual(decodeHeader(bytes, "b1", hasher), HEADER);
});

Deno.test("the header JSON names its fields and the digest in hex", () => {
  const bytes = encodeHeader(HEADER, hasher);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(16)));
  assert.deepEqual(json, {
    version: 1,
    block: "b1",
    length: 10_000,
    chunkSize: 4096,
    chunks: 3,
    digest: "0123456789abcdef",
    created: "2024-05-06T07:08:09.123Z",
  });
  assert.deepEqual(decodeHeader(rawHeader(JSON.stringify(json)), "b1", hasher), HEADER);
});

Deno.test("every flipped header byte is caught", () => {
  const bytes = encodeHeader(HEADER, hasher);
  for (let i = 0; i < HEADER_SIZE; i++) {
    const bad = bytes.slice();
    bad[i]! ^= 0x01;
    assert.throws(() => decodeHeader(bad, "b1", hasher), isCorrupt, `byte ${i}`);
  }
});

Deno.test("a short header, another block's header, and bad fields are CORRUPT", () => {
  const good = encodeHeader(HEADER, hasher);
  assert.throws(() => decodeHeader(good.subarray(0, 100), "b1", hasher), /truncated header/);
  assert.throws(() => decodeHeader(good, "b2", hasher), /file holds block "b1"/);
  const base = JSON.parse(new TextDecoder().decode(good.subarray(16)));
  const variants: [Record<string, unknown>, RegExp][] = [
    [{ version: 2 }, /version 2/],
    [{ length: -1 }, /bad length/],
    [{ length: 1.5 }, /bad length/],
    [{ length: "10" }, /bad length/],
    [{ chunkSize: 0 }, /bad chunk size/],
    [{ chunkSize: MAX_CHUNK_SIZE + 1 }, /bad chunk size/],
    [{ chunks: 2 }, /2 chunks/],
    [{ digest: "xyz" }, /bad digest/],
    [{ digest: 5 }, /bad digest/],
    [{ created: "yesterday" }, /bad creation time/],
    [{ created: undefined }, /bad creation time/],
  ];
  for (const [change, message] of variants) {
    const raw = rawHeader(JSON.stringify({ ...base, ...change }));
    assert.throws(
      () => decodeHeader(raw, "b1", hasher),
      (e) => isCorrupt(e) && message.test((e as Error).message),
      JSON.stringify(change),
    );
  }
  assert.throws(() => decodeHeader(rawHeader("[1]"), "b1", hasher), /not a JSON object/);
  assert.throws(() => decodeHeader(rawHeader("{"), "b1", hasher), /not valid JSON/);
});

Deno.test("a footer round-trips and every flipped footer byte is caught", async () => {
  const chunks = [1n, 0xffffffffffffffffn, 42n];
  const encoded = new Uint8Array(24);
  chunks.forEach((c, i) => new DataView(encoded.buffer).setBigUint64(8 * i, c, false));
  const digest = await xxh64(encoded);
  const header = { ...HEADER, digest };
  const footer = encodeFooter(chunks, digest);
  assert.equal(footer.length, 8 * 3 + 16);
  assert.equal(new TextDecoder().decode(footer.subarray(32)), "CDFSEND1");
  assert.deepEqual([...decodeFooter(footer, header, hasher)], chunks);
  for (let i = 0; i < footer.length; i++) {
    const bad = footer.slice();
    bad[i]! ^= 0x80;
    assert.throws(() => decodeFooter(bad, header, hasher), isCorrupt, `byte ${i}`);
  }
  assert.throws(() => decodeFooter(footer.subarray(8), header, hasher), /footer is 32 bytes/);
  assert.throws(
    () => decodeFooter(footer, { ...header, digest: digest ^ 1n }, hasher),
    /differs from header digest/,
  );
});

Deno.test("an empty block's footer holds only the digest of nothing and the magic", async () => {
  const digest = await xxh64(new Uint8Array());
  const footer = encodeFooter([], digest);
  assert.equal(footer.length, 16);
  const header = { ...HEADER, length: 0, chunks: 0, digest };
  assert.equal(decodeFooter(footer, header, hasher).length, 0);
});

Deno.test("chunk counts and file sizes follow the layout", () => {
  assert.equal(chunkCount(0, 4096), 0);
  assert.equal(chunkCount(1, 4096), 1);
  assert.equal(chunkCount(4096, 4096), 1);
  assert.equal(chunkCount(4097, 4096), 2);
  // header + data + 8 bytes per chunk + digest + end magic
  assert.equal(blockFileSize(0, 4096), 4096 + 16);
  assert.equal(blockFileSize(4097, 4096), 4096 + 4097 + 16 + 16);
});

Deno.test("validateChunkSize accepts the bounds and rejects the rest", () => {
  assert.equal(validateChunkSize(MIN_CHUNK_SIZE), MIN_CHUNK_SIZE);
  assert.equal(validateChunkSize(MAX_CHUNK_SIZE), MAX_CHUNK_SIZE);
  assert.equal(validateChunkSize(100_000), 100_000);
  for (const bad of [MIN_CHUNK_SIZE - 1, MAX_CHUNK_SIZE + 1, 0, -4096, 4096.5, NaN, "4096"]) {
    assert.throws(() => validateChunkSize(bad), (e) => isCdfsError(e, "BAD_REQUEST"));
  }
});
