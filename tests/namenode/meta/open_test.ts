import assert from "node:assert/strict";
import { openMetadataStore, parseMetaSpec } from "../../../src/namenode/meta/open.ts";
import { cdfsError } from "../../helpers/assert_error.ts";

Deno.test("--meta specs: sqlite:PATH and etcd:URL[,URL...]", () => {
  assert.deepEqual(parseMetaSpec("sqlite:/var/lib/cdfs/meta.db"), {
    kind: "sqlite",
    path: "/var/lib/cdfs/meta.db",
  });
  assert.deepEqual(parseMetaSpec("etcd:http://10.0.0.1:2379,http://10.0.0.2:2379"), {
    kind: "etcd",
    hosts: ["http://10.0.0.1:2379", "http://10.0.0.2:2379"],
  });
  assert.throws(() => parseMetaSpec("sqlite:"), cdfsError("USAGE", /needs a path/));
  assert.throws(() => parseMetaSpec("etcd:10.0.0.1:2379"), cdfsError("USAGE", /not an etcd URL/));
  assert.throws(() => parseMetaSpec("etcd:http://h"), cdfsError("USAGE", /not an etcd URL/));
  assert.throws(
    () => parseMetaSpec("mysql://x"),
    cdfsError("USAGE", /expected sqlite:PATH or etcd/),
  );
});

Deno.test("openMetadataStore opens the SQLite backend from a spec", async () => {
  const store = await openMetadataStore("sqlite::memory:");
  try {
    assert.equal(store.description, "sqlite::memory:");
    assert.deepEqual(await store.listDatanodes(), []);
  } finally {
    await store.close();
  }
});
