/**
 * The NameNode: which blocks live where, datanode liveness, placement. A server
 * ({@linkcode NameNodeServer}) over a metadata store (`meta/`), and the client library
 * ({@linkcode NameNodeClient}) that datanodes and clients use to talk to it. The ops are
 * documented in docs/namenode.md.
 *
 * @example
 * ```ts
 * import { NameNodeClient, NameNodeServer } from "./mod.ts";
 * await using server = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
 * using client = await NameNodeClient.connect(server.address);
 * console.log((await client.listDatanodes()).datanodes.length); // 0
 * ```
 *
 * @module
 */
export {
  type CommitSpec,
  NameNodeClient,
  type NameNodeClientOptions,
  type NewFileSpec,
  nodesOfFile,
  type PageOptions,
} from "./client.ts";
export { CodeCatalog, type Decodability, type ModuleLoader } from "./code_analysis.ts";
export {
  type CodeLayout,
  layoutOfModule,
  type LayoutRole,
  logicalNodeOfCopy,
  MAX_LAYOUT_NODES,
  resolveLayout,
  roleKey,
  sharedDatanodes,
} from "./layout.ts";
export {
  DecisionLog,
  discardNameNodeLog,
  type LogValue,
  nameNodeJsonLineSink,
  type NameNodeLogRecord,
  type NameNodeLogSink,
} from "./log.ts";
export { type NodeSpace, type PlacementRequest, placeNodes } from "./placement.ts";
export * from "./requests.ts";
export * from "./responses.ts";
export {
  DEFAULT_NAMENODE_PORT,
  NAMENODE_DEFAULTS,
  NameNodeServer,
  type NameNodeServerOptions,
} from "./server.ts";
