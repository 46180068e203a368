/**
 * A child process for the fsync count of `sqlite_fsync_test.ts`: opens a SQLite store, creates
 * N files one at a time (each alone in its group), commits each too when asked, and closes.
 * Usage: `deno run -A _fsync_workload.ts PATH N create|put`.
 *
 * @module
 */
import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";

const [path, count, mode] = Deno.args as [string, string, string];
const store = SqliteMetadataStore.open(path);
await store.registerDatanode({ id: "dn0", address: "127.0.0.1:13100", capacity: 1e12, free: 1e12 });
for (let i = 0; i < Number(count); i++) {
  const file = await store.beginFile({
    name: `f${i}`,
    code: "replication",
    blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
  });
  if (mode === "put") await store.commitFile(file.fileId, { length: 1, digest: "ab".repeat(32) });
}
await store.close();
