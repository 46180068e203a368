/**
 * Opening a metadata store from the `--meta` option of `cdfs namenode serve`:
 * `sqlite:PATH` or `etcd:URL[,URL...]`.
 *
 * @module
 */
import { CdfsError } from "../../core/errors.ts";
import type { EtcdStoreOptions } from "./etcd_store.ts";
import { SqliteMetadataStore, type SqliteStoreOptions } from "./sqlite_store.ts";
import type { MetadataStore } from "./store.ts";

/**
 * A parsed `--meta` value.
 *
 * @example
 * ```ts
 * import type { MetaSpec } from "./open.ts";
 * const spec: MetaSpec = { kind: "sqlite", path: "meta.db" };
 * ```
 */
export type MetaSpec =
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "etcd"; readonly hosts: readonly string[] };

/**
 * Parses `sqlite:PATH` or `etcd:URL[,URL...]` (each URL `http://HOST:PORT`).
 *
 * @example
 * ```ts
 * import { parseMetaSpec } from "./open.ts";
 * console.log(parseMetaSpec("etcd:http://127.0.0.1:2379,http://127.0.0.1:22379"));
 * // { kind: "etcd", hosts: ["http://127.0.0.1:2379", "http://127.0.0.1:22379"] }
 * ```
 *
 * @param text The option's value.
 * @returns The spec.
 * @throws {CdfsError} `USAGE` naming the problem.
 */
export function parseMetaSpec(text: string): MetaSpec {
  if (text.startsWith("sqlite:")) {
    const path = text.slice("sqlite:".length);
    if (path.length === 0) throw new CdfsError("USAGE", "--meta sqlite: needs a path");
    return { kind: "sqlite", path };
  }
  if (text.startsWith("etcd:")) {
    const hosts = text.slice("etcd:".length).split(",");
    for (const host of hosts) {
      let url: URL | undefined;
      try {
        url = new URL(host);
      } catch {
        url = undefined;
      }
      if (
        url === undefined || url.protocol !== "http:" || url.port === "" || url.pathname !== "/"
      ) {
        throw new CdfsError(
          "USAGE",
          `--meta etcd: ${JSON.stringify(host)} is not an etcd URL (expected http://HOST:PORT)`,
        );
      }
    }
    return { kind: "etcd", hosts };
  }
  throw new CdfsError(
    "USAGE",
    `--meta ${JSON.stringify(text)}: expected sqlite:PATH or etcd:URL[,URL...]`,
  );
}

/**
 * Opens the store a spec names.
 *
 * @example
 * ```ts
 * import { openMetadataStore } from "./open.ts";
 * const store = await openMetadataStore("sqlite::memory:");
 * await store.close();
 * ```
 *
 * @param spec `sqlite:PATH`, `etcd:URL[,URL...]`, or a parsed spec.
 * @param options Options of both backends (each ignores the other's).
 * @returns The store.
 * @throws {CdfsError} `USAGE` for a bad spec, `UNAVAILABLE` when the backend cannot be opened.
 */
export async function openMetadataStore(
  spec: string | MetaSpec,
  options: SqliteStoreOptions & EtcdStoreOptions = {},
): Promise<MetadataStore> {
  const parsed = typeof spec === "string" ? parseMetaSpec(spec) : spec;
  if (parsed.kind === "sqlite") return SqliteMetadataStore.open(parsed.path, options);
  // Imported only here: the etcd client (etcd3 and gRPC) takes ~95 ms to load, which every
  // cdfs process (each CLI command, each datanode) would pay at start for a backend that
  // only a namenode on etcd uses.
  const { EtcdMetadataStore } = await import("./etcd_store.ts");
  return await EtcdMetadataStore.open(parsed.hosts, options);
}
