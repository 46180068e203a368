/**
 * The cdfs client: {@linkcode DataNodeClient} talks to one datanode (store, retrieve, delete,
 * stat, list, ping) over wire format v1, streaming blocks through pooled WebAssembly memory;
 * {@linkcode parseNodeAddress} reads the `HOST:PORT` people type.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { DataNodeClient } from "./mod.ts";
 * using client = await DataNodeClient.connect("127.0.0.1:13100");
 * using file = await Deno.open("movie.mkv");
 * const stored = await client.store("movie.mkv.0", file, { length: (await file.stat()).size });
 * console.log(stored.digest === (await client.stat("movie.mkv.0")).digest); // true
 * ```
 *
 * @module
 */
export * from "../core/address.ts";
export * from "./byte_io.ts";
export * from "./datanode_client.ts";
