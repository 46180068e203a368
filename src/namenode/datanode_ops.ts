/**
 * The ops datanodes call (REGISTER, HEARTBEAT, LEAVE, BLOCK_REPORT) and the liveness decision
 * the namenode makes on its own (marking silent datanodes dead). Each decision is one log
 * record; a death says why (`reason`: `left` for a LEAVE, `silent` for a silence).
 *
 * @module
 */
import { isCdfsError } from "../core/errors.ts";
import type { BlockReport, DatanodeRecord } from "./meta/model.ts";
import type { HeartbeatRequest, LeaveRequest, RegisterRequest } from "./requests.ts";
import type { NameNodeResponseOf } from "./responses.ts";
import type { NameNodeState } from "./state.ts";

/** How many block ids a `blocks-missing` record lists (the count is always complete). */
const LOGGED_IDS = 20;

/**
 * REGISTER: records the datanode (a restart at the same address is welcome; another address
 * under the same id is refused with `CONFLICT`) and tells it the timing it must keep.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const reply = await register(state, { op: "REGISTER", node: "dn0", address: "127.0.0.1:13100", capacity: 100, free: 90 });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function register(
  state: NameNodeState,
  request: RegisterRequest,
): Promise<NameNodeResponseOf["REGISTER"]> {
  const before = await existing(state, request.node);
  const node = await state.store.registerDatanode({
    id: request.node,
    address: request.address,
    capacity: request.capacity,
    free: request.free,
  });
  state.heard(node.id);
  state.noteDatanode(node);
  state.log.emit("datanode-registered", {
    node: node.id,
    address: node.address,
    capacity: node.capacity,
    free: node.free,
    again: before !== null,
    wasDead: before !== null && !state.isAlive(before),
  });
  return {
    node: node.id,
    address: node.address,
    state: "alive",
    deadAfterMs: state.timing.deadAfterMs,
    heartbeatIntervalMs: state.timing.heartbeatIntervalMs,
    blockReportIntervalMs: state.timing.blockReportIntervalMs,
  };
}

/**
 * HEARTBEAT: the datanode is alive and has this much free space; a node that was dead is
 * alive again (logged). An unregistered node gets `NOT_FOUND` and must REGISTER.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * await heartbeat(state, { op: "HEARTBEAT", node: "dn0", free: 80 });
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function heartbeat(
  state: NameNodeState,
  request: HeartbeatRequest,
): Promise<NameNodeResponseOf["HEARTBEAT"]> {
  const before = await state.store.getDatanode(request.node);
  const node = await state.store.heartbeat(request.node, {
    free: request.free,
    ...(request.capacity === undefined ? {} : { capacity: request.capacity }),
  });
  state.heard(node.id);
  state.noteDatanode(node);
  if (!state.isAlive(before)) {
    state.log.emit("datanode-alive-again", {
      node: node.id,
      address: node.address,
      silentMs: state.now() - before.lastHeartbeat,
    });
  }
  return { node: node.id, state: "alive" };
}

/**
 * LEAVE: the datanode is stopping gracefully, so it is dead now: FSCK, GET_FILE and placement
 * treat it so at once instead of after `deadAfterMs` of silence. A node dead already (a second
 * LEAVE, or another namenode on the same store marked it first) is answered the same and not
 * logged again. `NOT_FOUND` for an unregistered node. Its REGISTER when it starts again makes
 * it alive.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const reply = await leave(state, { op: "LEAVE", node: "dn0" }); // { node: "dn0", state: "dead" }
 * ```
 *
 * @param state The namenode.
 * @param request The validated request.
 * @returns The reply.
 */
export async function leave(
  state: NameNodeState,
  request: LeaveRequest,
): Promise<NameNodeResponseOf["LEAVE"]> {
  const before = await state.store.getDatanode(request.node);
  const marked = await state.store.markDatanodeDead(before.id);
  state.forgetDirectory();
  if (marked) await logDeath(state, before.id, before, "left");
  return { node: before.id, state: "dead" };
}

/**
 * BLOCK_REPORT (either kind, the full one already read from its stream): records what the
 * datanode holds, remembers the copies it lacks, logs them.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * await blockReport(state, "dn0", { kind: "incremental", added: [{ blockId: "f1.part0", length: 9 }], removed: [] });
 * ```
 *
 * @param state The namenode.
 * @param node The datanode's id.
 * @param report The report.
 * @returns The reply.
 */
export async function blockReport(
  state: NameNodeState,
  node: string,
  report: BlockReport,
): Promise<NameNodeResponseOf["BLOCK_REPORT"]> {
  const result = await state.store.reportBlocks(node, report);
  const missing = result.missing.map((b) => b.blockId);
  const present = report.kind === "full" ? [] : report.added.map((e) => e.blockId);
  state.noteReport(node, report.kind === "full", missing, present);
  if (missing.length > 0) {
    state.log.emit("blocks-missing", {
      node,
      report: report.kind,
      count: missing.length,
      files: new Set(result.missing.map((b) => b.fileId)).size,
      blocks: missing.slice(0, LOGGED_IDS),
    });
  }
  return {
    node,
    kind: report.kind,
    blocks: report.kind === "full"
      ? report.blocks.length
      : report.added.length + report.removed.length,
    missing: missing.length,
    unknown: result.unknown.length,
  };
}

/**
 * The liveness decision: marks dead every datanode silent for longer than `deadAfterMs`, and
 * logs each with what it held. Two namenodes sharing a store may both run it: the store marks
 * each node once, and only the namenode that marked it logs it.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode's state (`state`) with its metadata store.
 * ```ts ignore
 * const dead = await markDeadDatanodes(state);
 * ```
 *
 * @param state The namenode.
 * @returns The ids marked dead now.
 */
export async function markDeadDatanodes(state: NameNodeState): Promise<string[]> {
  const ids = await state.store.markDeadDatanodes();
  if (ids.length > 0) state.forgetDirectory();
  for (const id of ids) await logDeath(state, id, await existing(state, id), "silent");
  return ids;
}

/** One `datanode-dead` record: why, how long it was silent, what its loss costs. */
async function logDeath(
  state: NameNodeState,
  id: string,
  node: DatanodeRecord | null,
  reason: "left" | "silent",
): Promise<void> {
  // What it held is detail for the record: a store failing here must not undo the decision.
  const held = await state.store.blocksOnNode(id).catch(() => []);
  state.log.emit("datanode-dead", {
    node: id,
    address: node?.address ?? null,
    reason,
    silentMs: node === null ? null : state.now() - node.lastHeartbeat,
    blocks: held.length,
    files: new Set(held.map((b) => b.fileId)).size,
  });
}

async function existing(state: NameNodeState, id: string): Promise<DatanodeRecord | null> {
  try {
    return await state.store.getDatanode(id);
  } catch (error) {
    if (isCdfsError(error, "NOT_FOUND")) return null;
    throw error;
  }
}
