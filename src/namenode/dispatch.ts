/**
 * Routes a validated namenode request to its op's handler. The one request with a data stream
 * (a full BLOCK_REPORT) is read by the server first and handed over as a finished report.
 *
 * @module
 */
import { VERSION } from "../core/version.ts";
import {
  abortFile,
  addBlocks,
  commitFile,
  createFile,
  deleteFile,
  dropBlocks,
  getFile,
  listFiles,
  moveBlock,
} from "./file_ops.ts";
import { fsck, listDatanodes, orphans } from "./admin_ops.ts";
import { blockReport, heartbeat, leave, register } from "./datanode_ops.ts";
import type { FullReportRequest, NameNodeRequest, StatusRequest } from "./requests.ts";
import type { NameNodeResponseOf } from "./responses.ts";
import type { NameNodeState } from "./state.ts";

/**
 * Any reply.
 *
 * @example
 * ```ts
 * import type { NameNodeResponse } from "./dispatch.ts";
 * const reply: NameNodeResponse = { node: "dn0", state: "alive" };
 * ```
 */
export type NameNodeResponse = NameNodeResponseOf[keyof NameNodeResponseOf];

/**
 * Serves one request that carries no data stream (STATUS is the server's: it reads what only
 * the server holds, the recent events and the status providers).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const reply = await handleRequest(state, { op: "PING" });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request (not a full BLOCK_REPORT, not STATUS).
 * @returns The reply to send.
 * @throws {CdfsError} The op's refusal, sent back as an ERROR frame.
 */
export function handleRequest(
  state: NameNodeState,
  request: Exclude<NameNodeRequest, FullReportRequest | StatusRequest>,
): Promise<NameNodeResponse> {
  switch (request.op) {
    case "PING":
      return Promise.resolve({ service: "namenode", version: VERSION, id: state.id });
    case "REGISTER":
      return register(state, request);
    case "HEARTBEAT":
      return heartbeat(state, request);
    case "LEAVE":
      return leave(state, request);
    case "BLOCK_REPORT":
      return blockReport(state, request.node, {
        kind: "incremental",
        added: request.added,
        removed: request.removed,
      });
    case "CREATE_FILE":
      return createFile(state, request);
    case "COMMIT_FILE":
      return commitFile(state, request);
    case "ABORT_FILE":
      return abortFile(state, request);
    case "GET_FILE":
      return getFile(state, request);
    case "LIST_FILES":
      return listFiles(state, request);
    case "DELETE_FILE":
      return deleteFile(state, request);
    case "MOVE_BLOCK":
      return moveBlock(state, request);
    case "ADD_BLOCKS":
      return addBlocks(state, request);
    case "DROP_BLOCKS":
      return dropBlocks(state, request);
    case "LIST_DATANODES":
      return listDatanodes(state, request);
    case "FSCK":
      return fsck(state, request);
    case "ORPHANS":
      return orphans(state, request);
  }
}
