/**
 * The NameNode's metadata layer: the model, the {@linkcode MetadataStore} interface and its
 * SQLite and etcd backends.
 *
 * @example
 * ```ts
 * import { openMetadataStore } from "./mod.ts";
 * const store = await openMetadataStore("sqlite::memory:");
 * console.log(store.description); // "sqlite::memory:"
 * await store.close();
 * ```
 *
 * @module
 */
export * from "./model.ts";
export * from "./store.ts";
export { EtcdMetadataStore, type EtcdStoreOptions } from "./etcd_store.ts";
export { DEFAULT_ETCD_PREFIX } from "./etcd_keys.ts";
export { SqliteMetadataStore, type SqliteStoreOptions } from "./sqlite_store.ts";
export { type MetaSpec, openMetadataStore, parseMetaSpec } from "./open.ts";
