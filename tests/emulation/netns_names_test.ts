/** The names of the emulated networks: no root needed. */
import assert from "node:assert/strict";
import { validateClusterName } from "../../src/core/cluster_name.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import {
  hubNamespace,
  nodeAddress,
  nodeNamespace,
  parseNamespaceName,
} from "../../src/emulation/netns_names.ts";
import { runInNamespace } from "../../src/emulation/netns_tools.ts";

Deno.test("netns names: namespaces, addresses and their parsing agree", () => {
  assert.equal(hubNamespace("demo"), "cdfs-demo-hub");
  assert.equal(nodeNamespace("demo", 0), "cdfs-demo-n0");
  assert.equal(nodeAddress(0), "10.213.0.10");
  assert.equal(nodeAddress(239), "10.213.0.249");
  assert.deepEqual(parseNamespaceName("cdfs-demo-n12"), {
    name: "cdfs-demo-n12",
    cluster: "demo",
    index: 12,
  });
  assert.deepEqual(parseNamespaceName("cdfs-demo-hub"), { name: "cdfs-demo-hub", cluster: "demo" });
  // A cluster named like another cluster's node is still told apart.
  assert.deepEqual(parseNamespaceName("cdfs-a-n0-n3"), {
    name: "cdfs-a-n0-n3",
    cluster: "a-n0",
    index: 3,
  });
  for (
    const other of [
      "docker0",
      "cdfs-demo",
      "cdfs--hub",
      "cdfs-demo-n01",
      "cdfs-demo-n240",
      "cdfs-demo-x",
    ]
  ) {
    assert.equal(parseNamespaceName(other), undefined, other);
  }
  for (const bad of ["", "-a", "a-", "a b", "a/b", "x".repeat(33), "ü"]) {
    assert.throws(() => validateClusterName(bad), (e) => isCdfsError(e, "USAGE"), bad);
  }
  assert.throws(() => nodeAddress(240), (e) => isCdfsError(e, "USAGE"));
  assert.throws(() => runInNamespace("not-ours", "true", []), (e) => isCdfsError(e, "USAGE"));
});
