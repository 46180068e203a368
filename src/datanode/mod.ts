/**
 * The datanode server: serves a block store over wire format v1 (docs/protocol.md).
 * {@linkcode DataNodeServer} is the entry point; `cdfs datanode serve` (src/cli/datanode.ts)
 * wires it to the command line.
 *
 * @example
 * Not run by `deno test --doc`: it serves until the process is stopped.
 * ```ts ignore
 * import { BufferPool } from "../buffer/pool.ts";
 * import { BlockStore } from "../store/block_store.ts";
 * import { DataNodeServer, jsonLineSink } from "./mod.ts";
 * const server = DataNodeServer.listen({
 *   store: await BlockStore.open("/srv/cdfs"),
 *   pool: new BufferPool({ bufferSize: (1 << 20) + 64, maxBuffers: 64 }),
 *   nodeId: "dn1",
 *   log: jsonLineSink((line) => Deno.stderr.writeSync(new TextEncoder().encode(line))),
 * });
 * Deno.addSignalListener("SIGTERM", () => server.shutdown());
 * await server.finished;
 * ```
 *
 * @module
 */
export * from "./dispatch.ts";
export * from "./log.ts";
export * from "./op.ts";
export * from "./server.ts";
