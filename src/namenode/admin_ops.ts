/**
 * The ops that look over the whole cluster: LIST_DATANODES, FSCK (every file's health, with
 * decodability from `code_analysis.ts`) and ORPHANS (what garbage collection may delete).
 *
 * @module
 */
import type { FileRecord } from "./meta/model.ts";
import { censusOf, healthOf, sharedOf } from "./health.ts";
import type { FsckRequest, ListDatanodesRequest, OrphansRequest } from "./requests.ts";
import { PAGE_LIMITS } from "./requests.ts";
import type { FileHealth, NameNodeResponseOf } from "./responses.ts";
import type { NameNodeState } from "./state.ts";
import { datanodeView, fitPage, type NodeDirectory, orphanView } from "./views.ts";

/**
 * LIST_DATANODES: the datanodes by id, each alive or dead as the namenode judges it now.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const { datanodes } = await listDatanodes(state, { op: "LIST_DATANODES" });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function listDatanodes(
  state: NameNodeState,
  request: ListDatanodesRequest,
): Promise<NameNodeResponseOf["LIST_DATANODES"]> {
  const limit = request.limit ?? PAGE_LIMITS.LIST_DATANODES.default;
  const after = request.after;
  const all = (await state.store.listDatanodes())
    .filter((n) => after === undefined || n.id > after);
  const views = all.slice(0, limit).map((n) => datanodeView(n, state.isAlive(n)));
  const page = fitPage(views, all.length > limit, (v) => v.node);
  return { datanodes: page.entries, next: page.next };
}

/**
 * FSCK: the health of one committed file, or of a page of them. A committed copy is
 * unavailable when its datanode is dead or its reports say it lacks the block; the rest decide
 * between degraded and lost. Datanodes that are several logical nodes of a file are listed
 * (`shared`) whatever its status.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const { files } = await fsck(state, { op: "FSCK", name: "a.bin" });
 * console.log(files[0]?.status);
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function fsck(
  state: NameNodeState,
  request: FsckRequest,
): Promise<NameNodeResponseOf["FSCK"]> {
  const dir = await state.directory();
  if ("name" in request) {
    return {
      files: [await healthOfFile(state, dir, await state.store.getFile(request.name))],
      next: null,
    };
  }
  const limit = request.limit ?? PAGE_LIMITS.FSCK.default;
  const files = await state.store.listFiles(request.prefix ?? "", {
    limit,
    ...(request.after === undefined ? {} : { after: request.after }),
  });
  const healths: FileHealth[] = [];
  for (const file of files) healths.push(await healthOfFile(state, dir, file));
  const page = fitPage(healths, files.length === limit, (h) => h.name);
  return { files: page.entries, next: page.next };
}

/**
 * ORPHANS: reported copies no file places on their datanode, first reported at least
 * `graceMs` ago (a repair's new copy is unknown until MOVE_BLOCK records it, and a writer's
 * block until CREATE_FILE did: the grace keeps them safe), by datanode and block id.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const { orphans } = await orphans(state, { op: "ORPHANS", graceMs: 0 });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function orphans(
  state: NameNodeState,
  request: OrphansRequest,
): Promise<NameNodeResponseOf["ORPHANS"]> {
  const limit = request.limit ?? PAGE_LIMITS.ORPHANS.default;
  const after = request.after;
  const all = (await state.store.listOrphans(request.graceMs ?? state.timing.orphanGraceMs))
    .filter((o) =>
      after === undefined || o.node > after.node ||
      (o.node === after.node && o.blockId > after.blockId)
    );
  const dir = await state.directory();
  const views = all.slice(0, limit).map((o) => orphanView(o, dir.byId));
  const page = fitPage(views, all.length > limit, (o) => ({ block: o.block, node: o.node }));
  return { orphans: page.entries, next: page.next };
}

/**
 * One committed file's health as FSCK reports it (the status page counts files with it).
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const health = await healthOfFile(state, await state.directory(), file);
 * ```
 *
 * @param state The namenode.
 * @param dir The datanodes.
 * @param file The file's record.
 * @returns Its health.
 */
export async function healthOfFile(
  state: NameNodeState,
  dir: NodeDirectory,
  file: FileRecord,
): Promise<FileHealth> {
  const census = censusOf(file, (copy) => {
    const node = dir.byId.get(copy.node);
    if (node === undefined || !dir.isAlive(node)) return "dead";
    return state.isMissing(copy.node, copy.blockId) ? "missing" : null;
  });
  const verdict = census.unavailable.length === 0
    ? { decodable: true, note: null } as const
    : await state.catalog.decodable(file.code, census.available);
  // Healthy or not: a datanode that is two logical nodes lowers what the file survives.
  return healthOf(file, census, verdict, sharedOf(file, await state.catalog.layout(file.code)));
}
