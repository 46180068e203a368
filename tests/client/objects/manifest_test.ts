import assert from "node:assert/strict";
import {
  encodeManifest,
  manifestBlockId,
  type ObjectManifest,
  parseManifest,
  partLengthOf,
} from "../../../src/client/objects/manifest.ts";
import { isCdfsError } from "../../../src/core/errors.ts";

const manifest: ObjectManifest = {
  module: "rapidraid",
  k: 11,
  n: 16,
  objectLength: 1_000_003,
  partLength: 90_910,
  sha256: "ab".repeat(32),
  created: "2025-06-01T12:00:00.000Z",
};

function corrupt(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isCdfsError(error, "CORRUPT"), `expected CORRUPT, got ${error}`);
    assert.match((error as Error).message, pattern);
    return true;
  };
}

function bytesOf(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

Deno.test("a manifest survives encoding and parsing unchanged", () => {
  const bytes = encodeManifest(manifest);
  assert.deepEqual(parseManifest(bytes), manifest);
  // One line of JSON with exactly the documented fields.
  const text = new TextDecoder().decode(bytes);
  assert.match(text, /^\{[^\n]*\}\n$/);
  assert.deepEqual(Object.keys(JSON.parse(text)).sort(), [
    "created",
    "k",
    "module",
    "n",
    "objectLength",
    "partLength",
    "sha256",
  ]);
  const empty = { ...manifest, objectLength: 0, partLength: 0 };
  assert.deepEqual(parseManifest(encodeManifest(empty)), empty);
});

Deno.test("parseManifest ignores unknown fields and refuses wrong ones, naming the source", () => {
  assert.deepEqual(parseManifest(bytesOf({ ...manifest, future: [1] })), manifest);
  const source = "node 3 (h:1)";
  assert.throws(
    () => parseManifest(new TextEncoder().encode("{"), source),
    corrupt(/^manifest from node 3 \(h:1\): not a JSON document$/),
  );
  assert.throws(() => parseManifest(bytesOf([1]), source), corrupt(/not a JSON object/));
  assert.throws(() => parseManifest(new Uint8Array([0xff, 0xfe]), source), corrupt(/not a JSON/));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ module: undefined }, /"module" must be a coding module name, got nothing/],
    [{ module: "Bad Name" }, /"module"/],
    [{ k: 0 }, /"k" must be an integer >= 1, got 0/],
    [{ n: 1.5 }, /"n" must be an integer/],
    [{ objectLength: -1 }, /"objectLength" must be an integer >= 0/],
    [{ partLength: "10" }, /"partLength" must be an integer/],
    [{ sha256: "AB".repeat(32) }, /"sha256" must be 64 lowercase hex digits/],
    [{ created: 5 }, /"created" must be an ISO-8601 time/],
    [{ partLength: 90_912 }, /partLength 90912 does not fit objectLength 1000003 in k = 11/],
    [{ partLength: 90_909 }, /does not fit/],
  ];
  for (const [change, pattern] of cases) {
    assert.throws(
      () => parseManifest(bytesOf({ ...manifest, ...change }), source),
      corrupt(pattern),
    );
  }
  assert.throws(() => parseManifest(new Uint8Array(70_000)), corrupt(/70000 bytes/));
});

Deno.test("part lengths: ceil(L / k), even in GF(2^16)", () => {
  for (
    const [length, k] of [[0, 11], [1, 11], [10, 11], [11, 11], [12, 11], [1_000_003, 11], [7, 1]]
  ) {
    const p8 = partLengthOf(length!, k!, 8);
    assert.ok(p8 * k! >= length! && (p8 - 1) * k! < length!, `${length}/${k}: ${p8}`);
    const p16 = partLengthOf(length!, k!, 16);
    assert.equal(p16 % 2, 0);
    assert.ok(p16 === p8 || p16 === p8 + 1);
    // Both are accepted by the manifest parser.
    for (const partLength of [p8, p16]) {
      parseManifest(bytesOf({ ...manifest, k, objectLength: length, partLength }));
    }
  }
});

Deno.test("manifestBlockId names {id}.manifest and refuses ids that are not block ids", () => {
  assert.equal(manifestBlockId("movie.mkv"), "movie.mkv.manifest");
  for (const bad of ["", "a/b", "..", "x".repeat(200)]) {
    assert.throws(() => manifestBlockId(bad), (e) => isCdfsError(e, "BAD_REQUEST"));
  }
});

Deno.test("the fields updates add: written only when set, read back, each checked by name", () => {
  const coded = Array.from({ length: 16 }, (_, i) =>
    i === 3 ? { node: 15 } : {
      node: i,
      digest: i.toString(16).repeat(16),
    });
  const updated: ObjectManifest = {
    ...manifest,
    n: 16,
    revision: 2,
    coded,
    encoded: { run: "ab".repeat(16), at: "2025-06-01T12:01:00.000Z" },
    archived: { at: "2025-06-01T12:02:00.000Z", replicas: 22 },
  };
  assert.deepEqual(parseManifest(encodeManifest(updated)), updated);
  const text = new TextDecoder().decode(encodeManifest(updated));
  assert.match(text, /"revision":2,"coded":\[\{"node":0,"digest":"0{16}"\}/);
  assert.match(text, /\{"node":15\}/);
  // A first-version reader ignores them; a first-version manifest has none of them.
  assert.equal(parseManifest(encodeManifest(manifest)).coded, undefined);

  const cases: [Record<string, unknown>, RegExp][] = [
    [{ revision: 1.5 }, /"revision" must be an integer >= 0, got 1.5/],
    [{ coded: coded.slice(1) }, /"coded" must be a list of n = 16 records/],
    [{ coded: { 0: { node: 0 } } }, /"coded" must be a list/],
    [{ coded: coded.with(1, 5 as never) }, /"coded\[1\]" must be a JSON object, got 5/],
    [{ coded: coded.with(2, { node: -1 }) }, /"coded\[2\]\.node" must be an integer >= 0/],
    [
      { coded: coded.with(0, { node: 0, digest: "XYZ" }) },
      /"coded\[0\]\.digest" must be 16 lowercase hex digits, got "XYZ"/,
    ],
    [{ encoded: "yes" }, /"encoded" must be a JSON object/],
    [{ encoded: { run: "abc", at: updated.created } }, /"encoded\.run" must be a run id/],
    [{ encoded: { run: "ab".repeat(16) } }, /"encoded\.at" must be an ISO-8601 time, got nothing/],
    [
      { archived: { at: updated.created, replicas: -1 } },
      /"archived\.replicas" must be an integer/,
    ],
  ];
  for (const [change, pattern] of cases) {
    assert.throws(() => parseManifest(bytesOf({ ...updated, ...change })), corrupt(pattern));
  }
});
