import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { EtcdKeys, prefixEnd } from "../../../src/namenode/meta/etcd_keys.ts";
import { cdfsError } from "../../helpers/assert_error.ts";

Deno.test("keys live under the prefix, which must be absolute", () => {
  const keys = new EtcdKeys("/lab");
  assert.equal(keys.prefix, "/lab/");
  assert.equal(keys.placement("dn1", "f3.part0"), "/lab/placements/dn1/f3.part0");
  assert.equal(keys.report("dn1", "g1", "f3.part0"), "/lab/reports/dn1/g1/f3.part0");
  assert.equal(new EtcdKeys().name("a"), "/cdfs/names/a");
  assert.throws(() => new EtcdKeys("lab/"), cdfsError("USAGE", /must start with "\/"/));
});

Deno.test("the end of a prefix range is the next key after every key with the prefix", () => {
  assert.deepEqual(prefixEnd(Buffer.from("ab")), Buffer.from("ac"));
  assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]));
});
