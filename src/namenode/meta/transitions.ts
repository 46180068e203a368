/**
 * The rules of every change to a file or datanode record, as pure functions from the old record
 * to the new one (or a {@linkcode CdfsError}). Both backends read a record, call one of these
 * and write the result atomically, so SQLite and etcd cannot disagree on what is allowed.
 *
 * @module
 */
import { quoteForMessage } from "../../core/quote.ts";
import { CdfsError } from "../../core/errors.ts";
import { cannotPlace } from "./failures.ts";
import {
  blockIdOf,
  type BlockPlacement,
  type BlockRecord,
  type BlockRef,
  compareBlocks,
  type DatanodeRecord,
  type DatanodeRegistration,
  type FileCommit,
  type FileRecord,
  type FileState,
  type HeartbeatStats,
  MAX_BLOCKS_PER_FILE,
  type NewFile,
  objectIdOf,
} from "./model.ts";
import {
  canonicalAddress,
  validateByteCount,
  validateCodeName,
  validateCommittedState,
  validateDigest,
  validateFileName,
  validateNodeId,
  validateRole,
} from "./validate_fields.ts";

/**
 * Validates what a caller gives to begin a file (before any id is allocated for it).
 *
 * @example
 * ```ts
 * import { validateNewFile } from "./transitions.ts";
 * const spec = validateNewFile({
 *   name: "a",
 *   code: "replication",
 *   blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
 * });
 * console.log(spec.blocks.length); // 1
 * ```
 *
 * @param spec The candidate.
 * @returns A validated copy.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateNewFile(spec: NewFile): NewFile {
  const name = validateFileName(spec.name);
  const code = validateCodeName(spec.code);
  const blocks = validatePlacements(spec.blocks, [], name);
  if (blocks.length === 0) {
    throw new CdfsError(
      "BAD_REQUEST",
      `file ${quoteForMessage(name)} must have at least one block`,
    );
  }
  return {
    name,
    code,
    blocks,
    ...(spec.length === undefined ? {} : { length: validateByteCount(spec.length, "length") }),
    ...(spec.digest === undefined ? {} : { digest: validateDigest(spec.digest) }),
  };
}

/**
 * The record of a file just begun: pending, every block pending, ids derived from `fileId`.
 *
 * @example
 * ```ts
 * import { newFileRecord } from "./transitions.ts";
 * const file = newFileRecord(3, {
 *   name: "a",
 *   code: "replication",
 *   blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
 * }, 1000);
 * console.log(file.blocks[0]?.blockId, file.state); // "f3.part0" "pending"
 * ```
 *
 * @param fileId The id the store allocated.
 * @param spec The file, already validated by {@linkcode validateNewFile}.
 * @param now The store's clock.
 * @returns The record.
 */
export function newFileRecord(fileId: number, spec: NewFile, now: number): FileRecord {
  return {
    fileId,
    objectId: objectIdOf(fileId),
    name: spec.name,
    code: spec.code,
    length: spec.length ?? null,
    digest: spec.digest ?? null,
    state: "pending",
    created: now,
    committed: null,
    version: 1,
    blocks: spec.blocks.map((p) => pendingBlock(fileId, p)).sort(compareBlocks),
  };
}

/**
 * Commits a file's pending changes: a pending file becomes visible with its length, digest and
 * state; pending blocks of a committed file (added by {@linkcode addBlocks}) become stored. With
 * nothing pending, a commit only changes the state.
 *
 * @example
 * ```ts
 * import { commitRecord, newFileRecord } from "./transitions.ts";
 * const file = newFileRecord(3, {
 *   name: "a",
 *   code: "replication",
 *   blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
 * }, 1000);
 * const done = commitRecord(file, { length: 5, digest: "00".repeat(32) }, 2000);
 * console.log(done.state, done.blocks[0]?.state); // "replicated" "stored"
 * ```
 *
 * @param file The current record.
 * @param commit Length, digest, state.
 * @param now The store's clock.
 * @returns The new record.
 * @throws {CdfsError} `BAD_REQUEST` for bad values, `CONFLICT` for values that differ from the
 * record's or nothing to commit.
 */
export function commitRecord(file: FileRecord, commit: FileCommit, now: number): FileRecord {
  const length = commit.length === undefined
    ? undefined
    : validateByteCount(commit.length, "length");
  const digest = commit.digest === undefined ? undefined : validateDigest(commit.digest);
  const newState = commit.state === undefined ? undefined : validateCommittedState(commit.state);
  const what = `file ${quoteForMessage(file.name)}`;
  if (length !== undefined && file.length !== null && length !== file.length) {
    throw new CdfsError("CONFLICT", `${what} has length ${file.length}, the commit says ${length}`);
  }
  if (digest !== undefined && file.digest !== null && digest !== file.digest) {
    throw new CdfsError("CONFLICT", `${what} has digest ${file.digest}, the commit says ${digest}`);
  }
  const newLength = file.length ?? length ?? null;
  const newDigest = file.digest ?? digest ?? null;
  if (newLength === null || newDigest === null) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} cannot be committed without its ${newLength === null ? "length" : "digest"}`,
    );
  }
  const pendingBlocks = file.blocks.some((b) => b.state === "pending");
  const state: FileState = newState ?? (file.state === "pending" ? "replicated" : file.state);
  if (file.state !== "pending" && !pendingBlocks && state === file.state) {
    throw new CdfsError("CONFLICT", `${what} has nothing to commit (it is already ${file.state})`);
  }
  return {
    ...file,
    length: newLength,
    digest: newDigest,
    state,
    committed: file.committed ?? now,
    version: file.version + 1,
    blocks: file.blocks.map((b) => b.state === "pending" ? { ...b, state: "stored" } : b),
  };
}

/**
 * Aborts a file's pending changes: a pending file goes away (null); a committed file loses the
 * blocks still pending.
 *
 * @example
 * ```ts
 * import { abortRecord, newFileRecord } from "./transitions.ts";
 * const file = newFileRecord(3, {
 *   name: "a",
 *   code: "replication",
 *   blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
 * }, 1000);
 * console.log(abortRecord(file)); // null
 * ```
 *
 * @param file The current record.
 * @returns The new record, or null when the file is to be removed.
 * @throws {CdfsError} `CONFLICT` when nothing is pending.
 */
export function abortRecord(file: FileRecord): FileRecord | null {
  if (file.state === "pending") return null;
  const kept = file.blocks.filter((b) => b.state !== "pending");
  if (kept.length === file.blocks.length) {
    throw new CdfsError(
      "CONFLICT",
      `file ${quoteForMessage(file.name)} has no pending change to abort`,
    );
  }
  return { ...file, version: file.version + 1, blocks: kept };
}

/**
 * Adds pending blocks to a file (the coded blocks of an encode, new replicas), committed later
 * by {@linkcode commitRecord} or dropped by {@linkcode abortRecord}.
 *
 * @example
 * ```ts
 * import { addBlocksRecord, newFileRecord } from "./transitions.ts";
 * const file = newFileRecord(3, {
 *   name: "a",
 *   code: "replication",
 *   blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
 * }, 1000);
 * const more = addBlocksRecord(file, [{ role: { kind: "coded", index: 0 }, node: "dn1" }]);
 * console.log(more.blocks.length); // 2
 * ```
 *
 * @param file The current record.
 * @param placements The new blocks.
 * @returns The new record.
 * @throws {CdfsError} `BAD_REQUEST` for bad or too many placements, `EXISTS` for a copy the file
 * already has.
 */
export function addBlocksRecord(
  file: FileRecord,
  placements: readonly BlockPlacement[],
): FileRecord {
  const added = validatePlacements(placements, file.blocks, file.name);
  if (added.length === 0) throw new CdfsError("BAD_REQUEST", "no block to add");
  return {
    ...file,
    version: file.version + 1,
    blocks: [...file.blocks, ...added.map((p) => pendingBlock(file.fileId, p))].sort(compareBlocks),
  };
}

/**
 * Removes block copies from a committed file (the replicas once the coded blocks exist), and
 * optionally sets its state.
 *
 * @example
 * ```ts
 * import { commitRecord, dropBlocksRecord, newFileRecord } from "./transitions.ts";
 * const file = commitRecord(newFileRecord(3, {
 *   name: "a",
 *   code: "replication",
 *   blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }, { role: { kind: "part", index: 0 }, node: "dn1" }],
 * }, 1000), { length: 1, digest: "00".repeat(8) }, 1000);
 * console.log(dropBlocksRecord(file, [{ blockId: "f3.part0", node: "dn1" }]).blocks.length); // 1
 * ```
 *
 * @param file The current record.
 * @param refs The copies to remove.
 * @param state The new state, if it changes.
 * @returns The new record.
 * @throws {CdfsError} `NOT_FOUND` for a copy the file does not have, `CONFLICT` for a pending
 * file or one that would be left without blocks.
 */
export function dropBlocksRecord(
  file: FileRecord,
  refs: readonly BlockRef[],
  state?: Exclude<FileState, "pending">,
): FileRecord {
  const what = `file ${quoteForMessage(file.name)}`;
  if (file.state === "pending") {
    throw new CdfsError("CONFLICT", `${what} is pending: abort it instead of dropping blocks`);
  }
  const newState = state === undefined ? undefined : validateCommittedState(state);
  if (refs.length === 0) throw new CdfsError("BAD_REQUEST", "no block to drop");
  const drop = new Set<string>();
  for (const ref of refs) {
    const node = validateNodeId(ref.node);
    if (!file.blocks.some((b) => b.blockId === ref.blockId && b.node === node)) {
      throw new CdfsError(
        "NOT_FOUND",
        `${what} has no block ${quoteForMessage(String(ref.blockId))} on datanode ${node}`,
      );
    }
    drop.add(copyKey(ref.blockId, node));
  }
  const kept = file.blocks.filter((b) => !drop.has(copyKey(b.blockId, b.node)));
  if (kept.length === 0) {
    throw new CdfsError("CONFLICT", `dropping these blocks would leave ${what} without any block`);
  }
  return { ...file, state: newState ?? file.state, version: file.version + 1, blocks: kept };
}

/**
 * Records that a block copy now lives on another node (after a repair rebuilt it there).
 *
 * @example
 * ```ts
 * import { moveBlockRecord, newFileRecord } from "./transitions.ts";
 * const file = newFileRecord(3, {
 *   name: "a",
 *   code: "replication",
 *   blocks: [{ role: { kind: "part", index: 0 }, node: "dn0" }],
 * }, 1000);
 * console.log(moveBlockRecord(file, "f3.part0", "dn0", "dn5").blocks[0]?.node); // "dn5"
 * ```
 *
 * @param file The current record.
 * @param blockId The block.
 * @param from The node the caller believes holds it.
 * @param to The node that holds it now.
 * @returns The new record.
 * @throws {CdfsError} `NOT_FOUND` when the file has no such block, `CONFLICT` when it is not on
 * `from` (someone moved it first) or already on `to`.
 */
export function moveBlockRecord(
  file: FileRecord,
  blockId: string,
  from: string,
  to: string,
): FileRecord {
  validateNodeId(from);
  validateNodeId(to);
  const what = `block ${quoteForMessage(String(blockId))} of file ${quoteForMessage(file.name)}`;
  if (from === to) throw new CdfsError("BAD_REQUEST", `cannot move ${what} to the node it is on`);
  const copies = file.blocks.filter((b) => b.blockId === blockId);
  if (copies.length === 0) throw new CdfsError("NOT_FOUND", `there is no ${what}`);
  if (!copies.some((b) => b.node === from)) {
    throw new CdfsError(
      "CONFLICT",
      `${what} is on datanode ${copies.map((b) => b.node).join(", ")}, not on ${from}`,
    );
  }
  if (copies.some((b) => b.node === to)) {
    throw new CdfsError("CONFLICT", `${what} already has a copy on datanode ${to}`);
  }
  return {
    ...file,
    version: file.version + 1,
    blocks: file.blocks.map((b) =>
      b.blockId === blockId && b.node === from ? { ...b, node: to } : b
    )
      .sort(compareBlocks),
  };
}

/**
 * The record of a datanode after it registered: new, or the same id at the same address
 * (a restart: capacity and free refreshed, alive again).
 *
 * @example
 * ```ts
 * import { registerRecord } from "./transitions.ts";
 * const node = registerRecord(null, { id: "dn0", address: "127.0.0.1:1", capacity: 10, free: 5 }, 7);
 * console.log(node.state, node.registered); // "alive" 7
 * ```
 *
 * @param old The current record, or null for a new id.
 * @param reg What the node says.
 * @param now The store's clock.
 * @returns The new record.
 * @throws {CdfsError} `BAD_REQUEST` for bad values, `CONFLICT` when the id is registered at
 * another address.
 */
export function registerRecord(
  old: DatanodeRecord | null,
  reg: DatanodeRegistration,
  now: number,
): DatanodeRecord {
  const id = validateNodeId(reg.id);
  const address = canonicalAddress(reg.address);
  const capacity = validateByteCount(reg.capacity, "capacity");
  const free = validateFree(reg.free, capacity);
  if (old !== null && old.address !== address) {
    throw new CdfsError(
      "CONFLICT",
      `datanode ${id} is registered at ${old.address}, refusing to register it at ${address}`,
    );
  }
  return {
    id,
    address,
    capacity,
    free,
    registered: old?.registered ?? now,
    lastHeartbeat: now,
    state: "alive",
  };
}

/**
 * The record of a datanode after a heartbeat: heard from now, alive (again).
 *
 * @example
 * ```ts
 * import { heartbeatRecord, registerRecord } from "./transitions.ts";
 * const node = registerRecord(null, { id: "dn0", address: "127.0.0.1:1", capacity: 10, free: 5 }, 7);
 * console.log(heartbeatRecord(node, { free: 4 }, 9).lastHeartbeat); // 9
 * ```
 *
 * @param old The current record.
 * @param stats What the heartbeat carries.
 * @param now The store's clock.
 * @returns The new record.
 * @throws {CdfsError} `BAD_REQUEST` for bad values.
 */
export function heartbeatRecord(
  old: DatanodeRecord,
  stats: HeartbeatStats,
  now: number,
): DatanodeRecord {
  const capacity = stats.capacity === undefined
    ? old.capacity
    : validateByteCount(stats.capacity, "capacity");
  return {
    ...old,
    capacity,
    free: validateFree(stats.free, capacity),
    lastHeartbeat: Math.max(old.lastHeartbeat, now),
    state: "alive",
  };
}

/**
 * Whether an alive datanode has been silent for longer than `deadAfterMs`.
 *
 * @example
 * ```ts
 * import { isSilent, registerRecord } from "./transitions.ts";
 * const node = registerRecord(null, { id: "dn0", address: "127.0.0.1:1", capacity: 10, free: 5 }, 0);
 * console.log(isSilent(node, 31_000, 30_000)); // true
 * ```
 *
 * @param node The record.
 * @param now The store's clock.
 * @param deadAfterMs The silence after which a node is dead.
 * @returns Whether it should now be marked dead.
 */
export function isSilent(node: DatanodeRecord, now: number, deadAfterMs: number): boolean {
  return node.state === "alive" && now - node.lastHeartbeat > deadAfterMs;
}

/**
 * Checks that blocks may be placed on a datanode: registered and alive.
 *
 * @example
 * ```ts
 * import { checkPlacementTarget } from "./transitions.ts";
 * try {
 *   checkPlacementTarget("dn9", undefined);
 * } catch (e) {
 *   console.log((e as Error).message); // datanode dn9 is not registered
 * }
 * ```
 *
 * @param id The node's id.
 * @param node Its record (its state is all that is read), if any.
 * @throws {CdfsError} `NOT_FOUND` when it is not registered, `CONFLICT` when it is dead.
 */
export function checkPlacementTarget(
  id: string,
  node: Pick<DatanodeRecord, "state"> | undefined,
): void {
  if (node === undefined) throw cannotPlace(id, "unregistered");
  if (node.state === "dead") throw cannotPlace(id, "dead");
}

/**
 * The key of a block copy in sets: block id and node.
 *
 * @example
 * ```ts
 * import { copyKey } from "./transitions.ts";
 * console.log(copyKey("f1.part0", "dn0")); // "f1.part0 dn0"
 * ```
 *
 * @param blockId The block id.
 * @param node The node id.
 * @returns A string unique per copy (neither id contains a space).
 */
export function copyKey(blockId: string, node: string): string {
  return `${blockId} ${node}`;
}

function validateFree(value: unknown, capacity: number): number {
  const free = validateByteCount(value, "free");
  if (free > capacity) {
    throw new CdfsError("BAD_REQUEST", `free (${free}) is more than the capacity (${capacity})`);
  }
  return free;
}

function pendingBlock(fileId: number, placement: BlockPlacement): BlockRecord {
  return {
    blockId: blockIdOf(fileId, placement.role),
    role: placement.role,
    node: placement.node,
    state: "pending",
  };
}

function validatePlacements(
  placements: readonly BlockPlacement[],
  existing: readonly BlockRecord[],
  name: string,
): BlockPlacement[] {
  if (!Array.isArray(placements)) throw new CdfsError("BAD_REQUEST", "blocks must be an array");
  if (existing.length + placements.length > MAX_BLOCKS_PER_FILE) {
    throw new CdfsError(
      "BAD_REQUEST",
      `file ${quoteForMessage(name)} would have ${
        existing.length + placements.length
      } blocks, the limit is ${MAX_BLOCKS_PER_FILE}`,
    );
  }
  const seen = new Set(existing.map((b) => roleKey(b)));
  return placements.map((p) => {
    const placement = { role: validateRole(p?.role), node: validateNodeId(p?.node) };
    const key = roleKey(placement);
    if (seen.has(key)) {
      const exists = existing.some((b) => roleKey(b) === key);
      throw new CdfsError(
        exists ? "EXISTS" : "BAD_REQUEST",
        `file ${quoteForMessage(name)} ${
          exists ? "already has" : "lists twice"
        } ${placement.role.kind} ${placement.role.index} on datanode ${placement.node}`,
      );
    }
    seen.add(key);
    return placement;
  });
}

function roleKey(p: BlockPlacement): string {
  return `${p.role.kind}${p.role.index} ${p.node}`;
}
