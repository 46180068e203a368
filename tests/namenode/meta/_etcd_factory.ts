/**
 * The {@linkcode StoreFactory} of the etcd backend for the shared suite: every store under its
 * own random key prefix of one etcd cluster.
 *
 * @module
 */
import { EtcdMetadataStore } from "../../../src/namenode/meta/etcd_store.ts";
import type { StoreFactory } from "./_suite.ts";

/**
 * A factory of stores on `urls`, each under its own key prefix.
 *
 * @example
 * ```ts
 * import { etcdFactory } from "./_etcd_factory.ts";
 * const factory = etcdFactory(["http://127.0.0.1:2379"], "mine");
 * ```
 *
 * @param urls The members' client URLs.
 * @param tag A word in the prefixes (to tell tests apart when looking at the keys).
 * @returns The factory.
 */
export function etcdFactory(urls: string[], tag: string): StoreFactory {
  let n = 0;
  return {
    async create(clock) {
      const prefix = `/test-${tag}-${crypto.randomUUID().slice(0, 8)}-${n++}/`;
      const open = () => EtcdMetadataStore.open(urls, { prefix, now: clock.now });
      return { store: await open(), reopen: open };
    },
  };
}
