/**
 * A worker thread that opens its own SQLite connection and runs the concurrency workload, so
 * the two connections of the SQLite concurrency test really run at the same time.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
import { runWorkload, type Setup } from "./_workload.ts";

self.onmessage = async (event: MessageEvent<{ path: string; instance: number; setup: Setup }>) => {
  const { path, instance, setup } = event.data;
  const store = SqliteMetadataStore.open(path);
  try {
    self.postMessage(await runWorkload(store, instance, setup));
  } finally {
    await store.close();
  }
};
