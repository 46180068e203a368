/**
 * The file ops clients call: create (place and reserve), commit, abort, get, list, delete, and
 * the block changes of encodes and repairs (add, drop, move), plus the expiry of files whose
 * writer vanished. The namenode only records where blocks go; the client writes them to the
 * datanodes itself. Each decision is one log record.
 *
 * @module
 */
import { quoteForMessage } from "../core/quote.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import {
  type CodeLayout,
  layoutNeeds,
  layoutPlacements,
  partCount,
  resolveLayout,
  roleKey,
} from "./layout.ts";
import type { FileRecord } from "./meta/model.ts";
import { placeNodes } from "./placement.ts";
import type {
  AbortFileRequest,
  AddBlocksRequest,
  CommitFileRequest,
  CreateFileRequest,
  DeleteFileRequest,
  DropBlocksRequest,
  GetFileRequest,
  ListFilesRequest,
  MoveBlockRequest,
} from "./requests.ts";
import { PAGE_LIMITS } from "./requests.ts";
import type { NameNodeResponseOf } from "./responses.ts";
import type { NameNodeState } from "./state.ts";
import { fileSummary, fileView, fitPage, nodeRefs } from "./views.ts";

/** Placement retries when a chosen datanode died between the choice and the record. */
const PLACEMENT_ATTEMPTS = 3;

/**
 * CREATE_FILE: chooses a datanode for every logical node of the layout that receives blocks
 * (distinct, live, with room: `placement.ts`), reserves the name and the block ids, and
 * returns the pending file with the chosen datanodes. The file stays invisible to GET_FILE by
 * name and LIST_FILES until COMMIT_FILE.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const { file, nodes } = await createFile(state, request);
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 * @throws {CdfsError} `EXISTS` for a taken name; `UNAVAILABLE` when the datanodes cannot take
 * the blocks, naming how many were needed and available.
 */
export async function createFile(
  state: NameNodeState,
  request: CreateFileRequest,
): Promise<NameNodeResponseOf["CREATE_FILE"]> {
  const what = `file ${quoteForMessage(request.name)}`;
  const blockLength = request.blockLength ?? Math.ceil(request.length / partCount(request.layout));
  const adding = new Set(request.layout.roles.map((r) => roleKey(r.role)));
  const needs = layoutNeeds(request.layout, adding, blockLength);
  for (let attempt = 1;; attempt++) {
    const { dir, chosen } = await placeFromDirectory(
      state,
      what,
      (dir) => placeNodes({ needs, nodes: state.space(dir.nodes), random: state.random }),
    );
    let file: FileRecord;
    try {
      file = await state.store.beginFile({
        name: request.name,
        code: request.code,
        length: request.length,
        ...(request.digest === undefined ? {} : { digest: request.digest }),
        blocks: layoutPlacements(request.layout, chosen, adding),
      });
    } catch (error) {
      // A chosen node was marked dead meanwhile (or another namenode won a race; or the
      // cached directory did not know yet): choose again from the store's records.
      if (isCdfsError(error, "CONFLICT") && attempt < PLACEMENT_ATTEMPTS) {
        state.forgetDirectory();
        continue;
      }
      throw error;
    }
    state.reserve(chosen, needs);
    state.log.emit("file-created", {
      fileId: file.fileId,
      name: file.name,
      code: file.code,
      length: request.length,
      blocks: file.blocks.length,
      nodes: chosen.map((id) => id ?? "-"),
    });
    return { file: fileView(file, dir), nodes: nodeRefs(chosen, dir.byId) };
  }
}

/**
 * COMMIT_FILE: makes a file's pending changes visible (a new file, or blocks added by an
 * encode), optionally setting its state.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * await commitFile(state, { op: "COMMIT_FILE", fileId: 7, digest: "ab".repeat(32) });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function commitFile(
  state: NameNodeState,
  request: CommitFileRequest,
): Promise<NameNodeResponseOf["COMMIT_FILE"]> {
  const file = await state.store.commitFile(request.fileId, {
    ...(request.length === undefined ? {} : { length: request.length }),
    ...(request.digest === undefined ? {} : { digest: request.digest }),
    ...(request.state === undefined ? {} : { state: request.state }),
  });
  state.log.emit("file-committed", {
    fileId: file.fileId,
    name: file.name,
    state: file.state,
    length: file.length,
    version: file.version,
  });
  return { file: fileView(file, await state.directory()) };
}

/**
 * ABORT_FILE: drops a file's pending changes; a pending file disappears and frees its name.
 * Blocks the client already wrote become orphans, collected after the grace period.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * await abortFile(state, { op: "ABORT_FILE", fileId: 7 });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function abortFile(
  state: NameNodeState,
  request: AbortFileRequest,
): Promise<NameNodeResponseOf["ABORT_FILE"]> {
  const before = await state.store.getFileById(request.fileId);
  const after = await state.store.abortFile(request.fileId);
  state.log.emit("file-aborted", {
    fileId: before.fileId,
    name: before.name,
    removed: after === null,
    blocks: before.blocks.length - (after?.blocks.length ?? 0),
  });
  return {
    fileId: request.fileId,
    file: after === null ? null : fileView(after, await state.directory()),
  };
}

/**
 * GET_FILE: a committed file by name (a pending one is `NOT_FOUND`), or any file by id (its
 * writer follows its own pending file that way), with every copy's datanode address and
 * liveness.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const { file } = await getFile(state, { op: "GET_FILE", name: "a.bin" });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function getFile(
  state: NameNodeState,
  request: GetFileRequest,
): Promise<NameNodeResponseOf["GET_FILE"]> {
  const file = "name" in request
    ? await state.store.getFile(request.name)
    : await state.store.getFileById(request.fileId);
  return { file: fileView(file, await state.directory()) };
}

/**
 * LIST_FILES: committed files whose names start with `prefix`, by name, one page.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const { files, next } = await listFiles(state, { op: "LIST_FILES", prefix: "a/" });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function listFiles(
  state: NameNodeState,
  request: ListFilesRequest,
): Promise<NameNodeResponseOf["LIST_FILES"]> {
  const limit = request.limit ?? PAGE_LIMITS.LIST_FILES.default;
  const files = await state.store.listFiles(request.prefix ?? "", {
    limit,
    ...(request.after === undefined ? {} : { after: request.after }),
  });
  const page = fitPage(files.map(fileSummary), files.length === limit, (f) => f.name);
  return { files: page.entries, next: page.next };
}

/**
 * DELETE_FILE: removes a committed file's record and returns it, so the caller can delete its
 * blocks from the datanodes (copies left behind become orphans).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const { file } = await deleteFile(state, { op: "DELETE_FILE", name: "a.bin" });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function deleteFile(
  state: NameNodeState,
  request: DeleteFileRequest,
): Promise<NameNodeResponseOf["DELETE_FILE"]> {
  const file = await state.store.deleteFile(request.name);
  for (const b of file.blocks) state.forgetMissing(b.node, b.blockId);
  state.log.emit("file-deleted", {
    fileId: file.fileId,
    name: file.name,
    blocks: file.blocks.length,
  });
  return { file: fileView(file, await state.directory()) };
}

/**
 * MOVE_BLOCK: a copy now lives on another datanode (a repair rebuilt it there).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * await moveBlock(state, { op: "MOVE_BLOCK", fileId: 7, blockId: "f7.coded3", from: "dn3", to: "dn9" });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function moveBlock(
  state: NameNodeState,
  request: MoveBlockRequest,
): Promise<NameNodeResponseOf["MOVE_BLOCK"]> {
  const file = await state.store.moveBlock(
    request.fileId,
    request.blockId,
    request.from,
    request.to,
  );
  state.forgetMissing(request.from, request.blockId);
  state.log.emit("block-moved", {
    fileId: file.fileId,
    name: file.name,
    block: request.blockId,
    from: request.from,
    to: request.to,
  });
  return { file: fileView(file, await state.directory()) };
}

/**
 * ADD_BLOCKS: adds pending blocks to a file (an encode's coded blocks, new replicas), committed
 * later by COMMIT_FILE. With a layout, every role of it the file has no copy of is added: the
 * logical nodes that hold the file already are found from its blocks (`resolveLayout`), and
 * the others are chosen like CREATE_FILE's, distinct from every datanode holding the file.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const { nodes } = await addBlocks(state, { op: "ADD_BLOCKS", fileId: 7, layout });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function addBlocks(
  state: NameNodeState,
  request: AddBlocksRequest,
): Promise<NameNodeResponseOf["ADD_BLOCKS"]> {
  if ("placements" in request) {
    const file = await state.store.addBlocks(request.fileId, request.placements);
    logAdded(state, file, request.placements.length);
    return { file: fileView(file, await state.directory()), nodes: null };
  }
  for (let attempt = 1;; attempt++) {
    const before = await state.store.getFileById(request.fileId);
    const plan = planAdd(before, request.layout, request.blockLength);
    const { dir, chosen } = await placeFromDirectory(
      state,
      `file ${quoteForMessage(before.name)}`,
      (dir) =>
        placeNodes({
          needs: plan.needs,
          nodes: state.space(dir.nodes),
          assigned: plan.assigned,
          exclude: before.blocks.map((b) => b.node),
          random: state.random,
        }),
    );
    let file: FileRecord;
    try {
      file = await state.store.addBlocks(
        request.fileId,
        layoutPlacements(request.layout, chosen, plan.adding),
      );
    } catch (error) {
      if (isCdfsError(error, "CONFLICT") && attempt < PLACEMENT_ATTEMPTS) {
        state.forgetDirectory();
        continue;
      }
      throw error;
    }
    state.reserve(chosen, plan.needs);
    logAdded(state, file, file.blocks.length - before.blocks.length);
    return { file: fileView(file, dir), nodes: nodeRefs(chosen, dir.byId) };
  }
}

/**
 * DROP_BLOCKS: removes copies from a committed file (the replicas once it is archived),
 * optionally setting its state.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * await dropBlocks(state, { op: "DROP_BLOCKS", fileId: 7, blocks: [{ blockId: "f7.part0", node: "dn0" }] });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function dropBlocks(
  state: NameNodeState,
  request: DropBlocksRequest,
): Promise<NameNodeResponseOf["DROP_BLOCKS"]> {
  const file = await state.store.dropBlocks(request.fileId, request.blocks, request.state);
  for (const ref of request.blocks) state.forgetMissing(ref.node, ref.blockId);
  state.log.emit("blocks-dropped", {
    fileId: file.fileId,
    name: file.name,
    state: file.state,
    blocks: request.blocks.map((r) => `${r.blockId}@${r.node}`),
  });
  return { file: fileView(file, await state.directory()) };
}

/**
 * The expiry decision: aborts pending files begun more than `timeoutMs` ago (their writer
 * died or gave up; their name is freed and their blocks become orphans). Two namenodes may
 * both run it: a file the other one expired (or its writer committed meanwhile) is skipped.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const expired = await expirePendingFiles(state, 3_600_000);
 * ```
 *
 * @param state The namenode.
 * @param timeoutMs How old a pending file may get.
 * @returns The ids of the files aborted.
 */
export async function expirePendingFiles(
  state: NameNodeState,
  timeoutMs: number,
): Promise<number[]> {
  const expired: number[] = [];
  const cutoff = state.now() - timeoutMs;
  let after: string | undefined;
  while (true) {
    const page = await state.store.listFiles("", {
      pending: "only",
      limit: 1000,
      ...(after === undefined ? {} : { after }),
    });
    for (const file of page) {
      if (file.created > cutoff) continue;
      try {
        await state.store.abortFile(file.fileId);
      } catch (error) {
        if (isCdfsError(error, "NOT_FOUND") || isCdfsError(error, "CONFLICT")) continue;
        throw error;
      }
      expired.push(file.fileId);
      state.log.emit("file-expired", {
        fileId: file.fileId,
        name: file.name,
        ageMs: state.now() - file.created,
        blocks: file.blocks.length,
      });
    }
    if (page.length < 1000) return expired;
    after = page[page.length - 1]!.name;
  }
}

/** What an ADD_BLOCKS with a layout adds, and where the file's logical nodes are already. */
function planAdd(
  file: FileRecord,
  layout: CodeLayout,
  blockLength: number | undefined,
): { adding: Set<string>; needs: number[]; assigned: (string | null)[] } {
  const assigned = resolveLayout(layout, file.blocks, file.name);
  const has = new Set(file.blocks.map((b) => roleKey(b.role)));
  const adding = new Set(layout.roles.map((r) => roleKey(r.role)).filter((k) => !has.has(k)));
  if (adding.size === 0) {
    throw new CdfsError(
      "EXISTS",
      `file ${quoteForMessage(file.name)} already has every block of the layout`,
    );
  }
  const length = blockLength ?? Math.ceil((file.length ?? 0) / partCount(layout));
  return { adding, needs: layoutNeeds(layout, adding, length), assigned };
}

function logAdded(state: NameNodeState, file: FileRecord, count: number): void {
  state.log.emit("blocks-added", {
    fileId: file.fileId,
    name: file.name,
    count,
    blocks: file.blocks.filter((b) => b.state === "pending").map((b) => `${b.blockId}@${b.node}`),
  });
}

/**
 * The datanode directory and a placement made from it. Too few live datanodes in a cached
 * directory may only mean that it does not know yet of a datanode that registered or came back
 * through another namenode on the same store (its TTL): the store's records are read once more
 * before the placement is refused.
 */
async function placeFromDirectory<T>(
  state: NameNodeState,
  what: string,
  place: (dir: Awaited<ReturnType<NameNodeState["directory"]>>) => T,
): Promise<{ dir: Awaited<ReturnType<NameNodeState["directory"]>>; chosen: T }> {
  const dir = await state.directory();
  try {
    return { dir, chosen: placed(what, () => place(dir)) };
  } catch (error) {
    if (!isCdfsError(error, "UNAVAILABLE")) throw error;
    state.forgetDirectory();
    const fresh = await state.directory();
    return { dir: fresh, chosen: placed(what, () => place(fresh)) };
  }
}

/** Runs a placement, naming the file in its error. */
function placed<T>(what: string, place: () => T): T {
  try {
    return place();
  } catch (error) {
    if (error instanceof CdfsError) {
      throw new CdfsError(error.code, `cannot place the blocks of ${what}: ${error.message}`);
    }
    throw error;
  }
}
