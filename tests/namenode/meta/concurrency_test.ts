import { EtcdMetadataStore } from "../../../src/namenode/meta/etcd_store.ts";
import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
import { EtcdCluster, findEtcd } from "../_etcd.ts";
import { prepare, runWorkload, verify, type WorkloadResult } from "./_workload.ts";

const etcd = await findEtcd();
const skip = etcd.found ? "" : ` (skipped: ${etcd.reason})`;

Deno.test({
  name:
    `etcd backend: two namenodes, 16 concurrent begin/commit/move each: nothing lost or doubled${skip}`,
  ignore: !etcd.found,
  async fn() {
    await using cluster = await EtcdCluster.start();
    // Small id batches, so the two instances also race for the id counter.
    const open = () => EtcdMetadataStore.open(cluster.clientUrls, { prefix: "/race/", idBatch: 4 });
    const [a, b] = [await open(), await open()];
    try {
      const setup = await prepare(a);
      const results = await Promise.all([runWorkload(a, 0, setup), runWorkload(b, 1, setup)]);
      await verify(b, setup, results);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test("sqlite backend: two connections on one file (two threads), 16 concurrent tasks each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-meta-" });
  const path = `${dir}/meta.db`;
  const store = SqliteMetadataStore.open(path);
  const worker = new Worker(new URL("./_sqlite_worker.ts", import.meta.url).href, {
    type: "module",
  });
  try {
    const setup = await prepare(store);
    const other = new Promise<WorkloadResult>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<WorkloadResult>) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    });
    worker.postMessage({ path, instance: 1, setup });
    const results = await Promise.all([runWorkload(store, 0, setup), other]);
    await verify(store, setup, results);
  } finally {
    worker.terminate();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
