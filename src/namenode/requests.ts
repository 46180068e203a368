/**
 * The requests of the namenode ops (docs/namenode.md): their types and the client's encoder
 * {@linkcode requestToJson}; the server's strict validator is `parse_request.ts`. On the wire
 * a block role is flat (`"kind"`, `"index"`) and a block copy is `"block"` plus `"node"`; in
 * memory they are the metadata model's types.
 *
 * @module
 */
import { type CodeLayout, layoutToJson } from "./layout.ts";
import type { BlockPlacement, BlockRef, FileState, ReportedBlockEntry } from "./meta/model.ts";
import { LIST_LIMITS } from "./meta/model.ts";

/**
 * The namenode's ops.
 *
 * @example
 * ```ts
 * import { NAMENODE_OPS } from "./requests.ts";
 * console.log(NAMENODE_OPS.includes("CREATE_FILE")); // true
 * ```
 */
export const NAMENODE_OPS = [
  "PING",
  "REGISTER",
  "HEARTBEAT",
  "LEAVE",
  "BLOCK_REPORT",
  "CREATE_FILE",
  "COMMIT_FILE",
  "ABORT_FILE",
  "GET_FILE",
  "LIST_FILES",
  "DELETE_FILE",
  "MOVE_BLOCK",
  "ADD_BLOCKS",
  "DROP_BLOCKS",
  "LIST_DATANODES",
  "FSCK",
  "ORPHANS",
  "STATUS",
] as const;

/**
 * One of {@linkcode NAMENODE_OPS}.
 *
 * @example
 * ```ts
 * import type { NameNodeOp } from "./requests.ts";
 * const op: NameNodeOp = "GET_FILE";
 * ```
 */
export type NameNodeOp = typeof NAMENODE_OPS[number];

/**
 * Bounds of the paged ops: default and largest `limit`.
 */
export const PAGE_LIMITS = {
  LIST_FILES: { default: LIST_LIMITS.default, max: LIST_LIMITS.max },
  LIST_DATANODES: { default: 1000, max: 10_000 },
  FSCK: { default: 100, max: 1000 },
  ORPHANS: { default: 1000, max: 10_000 },
} as const;

/**
 * The largest DATA frame of a full block report's stream (its smallest is the protocol's
 * 4 KiB): the namenode holds one such buffer per report being received.
 */
export const MAX_REPORT_CHUNK = 1 << 20;

/**
 * The longest line of a full block report's stream: a 200-character block id, a space, a
 * 16-digit length and a newline.
 */
export const MAX_REPORT_LINE = 218;

/**
 * `PING`: is this a namenode, and which version.
 *
 * @example
 * ```ts
 * import type { NnPingRequest } from "./requests.ts";
 * const ping: NnPingRequest = { op: "PING" };
 * ```
 */
export interface NnPingRequest {
  /** The op. */
  readonly op: "PING";
}

/**
 * `REGISTER`: a datanode announces itself (at start, and again whenever the namenode says it
 * is not registered).
 *
 * @example
 * ```ts
 * import type { RegisterRequest } from "./requests.ts";
 * const r: RegisterRequest = { op: "REGISTER", node: "dn0", address: "127.0.0.1:13100", capacity: 100, free: 90 };
 * ```
 */
export interface RegisterRequest {
  /** The op. */
  readonly op: "REGISTER";
  /** The datanode's id. */
  readonly node: string;
  /** `HOST:PORT` where clients reach it. */
  readonly address: string;
  /** Its capacity in bytes. */
  readonly capacity: number;
  /** Its free bytes. */
  readonly free: number;
}

/**
 * `HEARTBEAT`: a datanode is alive and has this much free space.
 *
 * @example
 * ```ts
 * import type { HeartbeatRequest } from "./requests.ts";
 * const h: HeartbeatRequest = { op: "HEARTBEAT", node: "dn0", free: 80 };
 * ```
 */
export interface HeartbeatRequest {
  /** The op. */
  readonly op: "HEARTBEAT";
  /** The datanode's id. */
  readonly node: string;
  /** Its free bytes now. */
  readonly free: number;
  /** Its capacity, when it changed. */
  readonly capacity?: number;
}

/**
 * `LEAVE`: a datanode is stopping on purpose (SIGTERM, Ctrl-C): the namenode marks it dead now
 * rather than after `deadAfterMs` of silence, so FSCK and reads see its loss at once.
 *
 * @example
 * ```ts
 * import type { LeaveRequest } from "./requests.ts";
 * const bye: LeaveRequest = { op: "LEAVE", node: "dn0" };
 * ```
 */
export interface LeaveRequest {
  /** The op. */
  readonly op: "LEAVE";
  /** The datanode's id. */
  readonly node: string;
}

/**
 * `BLOCK_REPORT` incremental: the blocks a datanode stored and deleted since its last report.
 *
 * @example
 * ```ts
 * import type { IncrementalReportRequest } from "./requests.ts";
 * const r: IncrementalReportRequest = {
 *   op: "BLOCK_REPORT",
 *   node: "dn0",
 *   kind: "incremental",
 *   added: [{ blockId: "f1.part0", length: 10 }],
 *   removed: [],
 * };
 * ```
 */
export interface IncrementalReportRequest {
  /** The op. */
  readonly op: "BLOCK_REPORT";
  /** The datanode's id. */
  readonly node: string;
  /** Incremental. */
  readonly kind: "incremental";
  /** Blocks stored (at most 100 entries with `removed`). */
  readonly added: readonly ReportedBlockEntry[];
  /** Block ids deleted. */
  readonly removed: readonly string[];
}

/**
 * `BLOCK_REPORT` full: every block a datanode holds, sent as a data stream after the request
 * (one `BLOCK_ID LENGTH\n` line per block), so a report is not bound by the 64 KiB of a
 * REQUEST frame.
 *
 * @example
 * ```ts
 * import type { FullReportRequest } from "./requests.ts";
 * const r: FullReportRequest = {
 *   op: "BLOCK_REPORT",
 *   node: "dn0",
 *   kind: "full",
 *   count: 1,
 *   length: 12,
 *   chunkSize: 65536,
 * };
 * ```
 */
export interface FullReportRequest {
  /** The op. */
  readonly op: "BLOCK_REPORT";
  /** The datanode's id. */
  readonly node: string;
  /** Full. */
  readonly kind: "full";
  /** The number of lines (blocks) of the stream, 0..100000. */
  readonly count: number;
  /** The stream's length in bytes. */
  readonly length: number;
  /** The size of every DATA frame but the last, 4 KiB..1 MiB. */
  readonly chunkSize: number;
}

/**
 * `CREATE_FILE`: reserve a name, allocate ids, place the layout's blocks.
 *
 * @example
 * ```ts
 * import type { CreateFileRequest } from "./requests.ts";
 * const r: CreateFileRequest = {
 *   op: "CREATE_FILE",
 *   name: "a.bin",
 *   code: "replication",
 *   length: 1000,
 *   layout: { n: 1, roles: [{ role: { kind: "part", index: 0 }, nodes: [0] }] },
 * };
 * ```
 */
export interface CreateFileRequest {
  /** The op. */
  readonly op: "CREATE_FILE";
  /** The file's name. */
  readonly name: string;
  /** The coding module. */
  readonly code: string;
  /** The file's length in bytes. */
  readonly length: number;
  /** Its digest, when known already. */
  readonly digest?: string;
  /** The blocks to place now and the relation between their nodes. */
  readonly layout: CodeLayout;
  /** The bytes of one block (default: the length divided by the number of parts, rounded up). */
  readonly blockLength?: number;
}

/**
 * `COMMIT_FILE`: make a file's pending changes visible.
 *
 * @example
 * ```ts
 * import type { CommitFileRequest } from "./requests.ts";
 * const r: CommitFileRequest = { op: "COMMIT_FILE", fileId: 7, digest: "ab".repeat(32) };
 * ```
 */
export interface CommitFileRequest {
  /** The op. */
  readonly op: "COMMIT_FILE";
  /** The file id. */
  readonly fileId: number;
  /** The length (must agree with CREATE_FILE's). */
  readonly length?: number;
  /** The digest, lowercase hex (required unless CREATE_FILE gave it). */
  readonly digest?: string;
  /** The file's state from now on. */
  readonly state?: Exclude<FileState, "pending">;
}

/**
 * `ABORT_FILE`: drop a file's pending changes (a pending file disappears).
 *
 * @example
 * ```ts
 * import type { AbortFileRequest } from "./requests.ts";
 * const r: AbortFileRequest = { op: "ABORT_FILE", fileId: 7 };
 * ```
 */
export interface AbortFileRequest {
  /** The op. */
  readonly op: "ABORT_FILE";
  /** The file id. */
  readonly fileId: number;
}

/**
 * `GET_FILE`: a committed file by name, or any file (pending too) by id.
 *
 * @example
 * ```ts
 * import type { GetFileRequest } from "./requests.ts";
 * const r: GetFileRequest = { op: "GET_FILE", name: "a.bin" };
 * ```
 */
export type GetFileRequest =
  | { readonly op: "GET_FILE"; readonly name: string }
  | { readonly op: "GET_FILE"; readonly fileId: number };

/**
 * `LIST_FILES`: committed files by name, one page.
 *
 * @example
 * ```ts
 * import type { ListFilesRequest } from "./requests.ts";
 * const r: ListFilesRequest = { op: "LIST_FILES", prefix: "photos/", limit: 100 };
 * ```
 */
export interface ListFilesRequest {
  /** The op. */
  readonly op: "LIST_FILES";
  /** Only names starting with this. */
  readonly prefix?: string;
  /** Only names after this one (the `next` of the previous page). */
  readonly after?: string;
  /** At most this many (1..10000, default 1000). */
  readonly limit?: number;
}

/**
 * `DELETE_FILE`: remove a committed file's record.
 *
 * @example
 * ```ts
 * import type { DeleteFileRequest } from "./requests.ts";
 * const r: DeleteFileRequest = { op: "DELETE_FILE", name: "a.bin" };
 * ```
 */
export interface DeleteFileRequest {
  /** The op. */
  readonly op: "DELETE_FILE";
  /** The file's name. */
  readonly name: string;
}

/**
 * `MOVE_BLOCK`: a copy now lives on another datanode (after a repair).
 *
 * @example
 * ```ts
 * import type { MoveBlockRequest } from "./requests.ts";
 * const r: MoveBlockRequest = { op: "MOVE_BLOCK", fileId: 7, blockId: "f7.coded3", from: "dn3", to: "dn9" };
 * ```
 */
export interface MoveBlockRequest {
  /** The op. */
  readonly op: "MOVE_BLOCK";
  /** The file id. */
  readonly fileId: number;
  /** The block id. */
  readonly blockId: string;
  /** The datanode it was on. */
  readonly from: string;
  /** The datanode it is on now. */
  readonly to: string;
}

/**
 * `ADD_BLOCKS`: add pending blocks to a file, placed by the namenode along a layout (every
 * role of the layout the file has no copy of) or on datanodes the client names.
 *
 * @example
 * ```ts
 * import type { AddBlocksRequest } from "./requests.ts";
 * const r: AddBlocksRequest = {
 *   op: "ADD_BLOCKS",
 *   fileId: 7,
 *   placements: [{ role: { kind: "coded", index: 0 }, node: "dn2" }],
 * };
 * ```
 */
export type AddBlocksRequest =
  | {
    readonly op: "ADD_BLOCKS";
    readonly fileId: number;
    readonly layout: CodeLayout;
    readonly blockLength?: number;
  }
  | {
    readonly op: "ADD_BLOCKS";
    readonly fileId: number;
    readonly placements: readonly BlockPlacement[];
  };

/**
 * `DROP_BLOCKS`: remove copies from a committed file (the replicas, once it is archived).
 *
 * @example
 * ```ts
 * import type { DropBlocksRequest } from "./requests.ts";
 * const r: DropBlocksRequest = {
 *   op: "DROP_BLOCKS",
 *   fileId: 7,
 *   blocks: [{ blockId: "f7.part0", node: "dn0" }],
 *   state: "archived",
 * };
 * ```
 */
export interface DropBlocksRequest {
  /** The op. */
  readonly op: "DROP_BLOCKS";
  /** The file id. */
  readonly fileId: number;
  /** The copies to drop. */
  readonly blocks: readonly BlockRef[];
  /** The file's state from now on. */
  readonly state?: Exclude<FileState, "pending">;
}

/**
 * `LIST_DATANODES`: the datanodes by id, one page.
 *
 * @example
 * ```ts
 * import type { ListDatanodesRequest } from "./requests.ts";
 * const r: ListDatanodesRequest = { op: "LIST_DATANODES" };
 * ```
 */
export interface ListDatanodesRequest {
  /** The op. */
  readonly op: "LIST_DATANODES";
  /** Only ids after this one. */
  readonly after?: string;
  /** At most this many (1..10000, default 1000). */
  readonly limit?: number;
}

/**
 * `FSCK`: the health of one file, or of the committed files under a prefix, one page.
 *
 * @example
 * ```ts
 * import type { FsckRequest } from "./requests.ts";
 * const one: FsckRequest = { op: "FSCK", name: "a.bin" };
 * const all: FsckRequest = { op: "FSCK", prefix: "", limit: 100 };
 * ```
 */
export type FsckRequest =
  | { readonly op: "FSCK"; readonly name: string }
  | {
    readonly op: "FSCK";
    readonly prefix?: string;
    readonly after?: string;
    readonly limit?: number;
  };

/**
 * `ORPHANS`: block copies datanodes reported that no file places on them, first reported at
 * least `graceMs` ago, by node and block id: what garbage collection may delete.
 *
 * @example
 * ```ts
 * import type { OrphansRequest } from "./requests.ts";
 * const r: OrphansRequest = { op: "ORPHANS", graceMs: 3_600_000 };
 * ```
 */
export interface OrphansRequest {
  /** The op. */
  readonly op: "ORPHANS";
  /** How long ago a copy must have been first reported (default: the namenode's). */
  readonly graceMs?: number;
  /** Only copies after this one (the `next` of the previous page). */
  readonly after?: BlockRef;
  /** At most this many (1..10000, default 1000). */
  readonly limit?: number;
}

/**
 * `STATUS`: the cluster at a glance (`status.ts`): datanodes, file health counts, the most
 * endangered files, the repair queue, recent events.
 *
 * @example
 * ```ts
 * import type { StatusRequest } from "./requests.ts";
 * const r: StatusRequest = { op: "STATUS" };
 * ```
 */
export interface StatusRequest {
  /** The op. */
  readonly op: "STATUS";
}

/**
 * Any namenode request.
 *
 * @example
 * ```ts
 * import type { NameNodeRequest } from "./requests.ts";
 * const requests: NameNodeRequest[] = [{ op: "PING" }, { op: "ABORT_FILE", fileId: 3 }];
 * ```
 */
export type NameNodeRequest =
  | NnPingRequest
  | RegisterRequest
  | HeartbeatRequest
  | LeaveRequest
  | IncrementalReportRequest
  | FullReportRequest
  | CreateFileRequest
  | CommitFileRequest
  | AbortFileRequest
  | GetFileRequest
  | ListFilesRequest
  | DeleteFileRequest
  | MoveBlockRequest
  | AddBlocksRequest
  | DropBlocksRequest
  | ListDatanodesRequest
  | FsckRequest
  | OrphansRequest
  | StatusRequest;

/**
 * Encodes a request as its REQUEST payload object (the inverse of
 * `parseNameNodeRequest`).
 *
 * @example
 * ```ts
 * import { requestToJson } from "./requests.ts";
 * console.log(requestToJson({ op: "MOVE_BLOCK", fileId: 7, blockId: "f7.part0", from: "a", to: "b" }));
 * // { op: "MOVE_BLOCK", fileId: 7, block: "f7.part0", from: "a", to: "b" }
 * ```
 *
 * @param request The request.
 * @returns The JSON object to send.
 */
export function requestToJson(request: NameNodeRequest): Record<string, unknown> {
  switch (request.op) {
    case "BLOCK_REPORT":
      return request.kind === "full" ? { ...request } : {
        op: request.op,
        node: request.node,
        kind: request.kind,
        added: request.added.map((e) => ({ block: e.blockId, length: e.length })),
        removed: [...request.removed],
      };
    case "CREATE_FILE":
      return { ...request, layout: layoutToJson(request.layout) };
    case "MOVE_BLOCK":
      return {
        op: request.op,
        fileId: request.fileId,
        block: request.blockId,
        from: request.from,
        to: request.to,
      };
    case "ADD_BLOCKS":
      return "layout" in request ? { ...request, layout: layoutToJson(request.layout) } : {
        op: request.op,
        fileId: request.fileId,
        placements: request.placements.map((p) => ({
          kind: p.role.kind,
          index: p.role.index,
          node: p.node,
        })),
      };
    case "DROP_BLOCKS":
      return { ...request, blocks: request.blocks.map(blockRefToJson) };
    case "ORPHANS":
      return request.after === undefined
        ? { ...request }
        : { ...request, after: blockRefToJson(request.after) };
    default:
      return { ...request };
  }
}

function blockRefToJson(ref: BlockRef): { block: string; node: string } {
  return { block: ref.blockId, node: ref.node };
}
