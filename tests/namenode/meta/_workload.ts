/**
 * The concurrency workload: two store instances on the same data (two namenodes on one etcd,
 * two SQLite connections on one file), each running 16 concurrent tasks that create files,
 * race for the same names, and move blocks of shared files; then {@linkcode verify} checks that
 * no id was handed out twice, no update was lost and every file is consistent with the
 * per-node block index.
 *
 * @module
 */
import assert from "node:assert/strict";
import { isCdfsError } from "../../../src/core/errors.ts";
import type { FileRecord } from "../../../src/namenode/meta/model.ts";
import type { MetadataStore } from "../../../src/namenode/meta/store.ts";
import { parts, registerNodes } from "./_suite.ts";

/**
 * Concurrent tasks per instance.
 *
 * @example
 * ```ts
 * import { TASKS } from "./_workload.ts";
 * console.log(TASKS); // 16
 * ```
 */
export const TASKS = 16;
const NODES = 8;
const SHARED_FILES = 4;
const DIGEST = "cd".repeat(32);

/**
 * What both instances start from.
 *
 * @example
 * ```ts
 * import type { Setup } from "./_workload.ts";
 * declare const setup: Setup;
 * console.log(setup.shared.length); // 4
 * ```
 */
export interface Setup {
  /** Files whose blocks the tasks move (16 parts each, part j on dn(j % 8)). */
  readonly shared: FileRecord[];
  /** A one-block file both instances try to move to different nodes. */
  readonly duel: FileRecord;
}

/**
 * A move a task made.
 *
 * @example
 * ```ts
 * import type { Move } from "./_workload.ts";
 * const move: Move = { fileId: 1, blockId: "f1.part0", to: "dn1" };
 * ```
 */
export interface Move {
  readonly fileId: number;
  readonly blockId: string;
  readonly to: string;
}

/**
 * What one instance did.
 *
 * @example
 * ```ts
 * import type { WorkloadResult } from "./_workload.ts";
 * declare const result: WorkloadResult;
 * console.log(result.errors); // []
 * ```
 */
export interface WorkloadResult {
  readonly instance: number;
  /** Files it created and committed. */
  readonly created: FileRecord[];
  /** Race names it won, with the committed record. */
  readonly raceWins: FileRecord[];
  /** Race names it lost (EXISTS). */
  readonly raceLosses: string[];
  /** Moves that succeeded. */
  readonly moves: Move[];
  /** Whether it won the duel (the loser gets CONFLICT). */
  readonly duelWon: boolean;
  /** Unexpected errors (must stay empty). */
  readonly errors: string[];
}

/**
 * Registers the nodes and creates the shared files.
 *
 * @example
 * ```ts
 * import { prepare } from "./_workload.ts";
 * import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
 * const setup = await prepare(SqliteMetadataStore.open(":memory:"));
 * ```
 *
 * @param store One of the instances.
 * @returns The setup.
 */
export async function prepare(store: MetadataStore): Promise<Setup> {
  await registerNodes(store, NODES);
  const shared: FileRecord[] = [];
  for (let s = 0; s < SHARED_FILES; s++) {
    const begun = await store.beginFile({
      name: `shared/${s}`,
      code: "rs",
      blocks: parts(16, NODES),
    });
    shared.push(await store.commitFile(begun.fileId, { length: 16, digest: DIGEST }));
  }
  const begun = await store.beginFile({ name: "duel", code: "rs", blocks: parts(1, NODES) });
  const duel = await store.commitFile(begun.fileId, { length: 1, digest: DIGEST });
  return { shared, duel };
}

/**
 * Runs one instance's 16 concurrent tasks.
 *
 * @example
 * ```ts
 * import { prepare, runWorkload } from "./_workload.ts";
 * import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
 * const store = SqliteMetadataStore.open(":memory:");
 * const result = await runWorkload(store, 0, await prepare(store));
 * ```
 *
 * @param store The instance.
 * @param instance 0 or 1.
 * @param setup From {@linkcode prepare}.
 * @returns What it did.
 */
export async function runWorkload(
  store: MetadataStore,
  instance: number,
  setup: Setup,
): Promise<WorkloadResult> {
  const result: WorkloadResult = {
    instance,
    created: [],
    raceWins: [],
    raceLosses: [],
    moves: [],
    duelWon: false,
    errors: [],
  };
  let duelWon = false;
  const task = async (i: number) => {
    const own = await store.beginFile({
      name: `inst${instance}/file${i}`,
      code: "rapidraid",
      blocks: parts(4, NODES, i),
    });
    result.created.push(await store.commitFile(own.fileId, { length: 4, digest: DIGEST }));
    try {
      const race = await store.beginFile({
        name: `race/${i}`,
        code: "rs",
        blocks: parts(2, NODES, i),
      });
      result.raceWins.push(await store.commitFile(race.fileId, { length: 2, digest: DIGEST }));
    } catch (error) {
      if (!isCdfsError(error, "EXISTS")) throw error;
      result.raceLosses.push(`race/${i}`);
    }
    // Instance 0 moves part i of shared file i % 4, instance 1 part i of shared file (i+2) % 4:
    // never the same block, often the same file (the same record, updated concurrently).
    const file = setup.shared[(i + 2 * instance) % SHARED_FILES]!;
    const blockId = `${file.objectId}.part${i}`;
    const to = `dn${(i % NODES + 1 + instance) % NODES}`;
    await store.moveBlock(file.fileId, blockId, `dn${i % NODES}`, to);
    result.moves.push({ fileId: file.fileId, blockId, to });
    if (i === 0) {
      try {
        await store.moveBlock(
          setup.duel.fileId,
          setup.duel.blocks[0]!.blockId,
          "dn0",
          `dn${1 + instance}`,
        );
        duelWon = true;
      } catch (error) {
        if (!isCdfsError(error, "CONFLICT")) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: TASKS }, (_, i) =>
    task(i).catch((error) => {
      result.errors.push(`task ${i}: ${error instanceof Error ? error.message : error}`);
    })));
  return { ...result, duelWon };
}

/**
 * Checks the outcome of both instances' workloads.
 *
 * @example
 * ```ts
 * import { prepare, runWorkload, verify } from "./_workload.ts";
 * import type { MetadataStore } from "../../../src/namenode/meta/store.ts";
 * declare const a: MetadataStore, b: MetadataStore;
 * const setup = await prepare(a);
 * await verify(a, setup, await Promise.all([runWorkload(a, 0, setup), runWorkload(b, 1, setup)]));
 * ```
 *
 * @param store Either instance (or a third one).
 * @param setup From {@linkcode prepare}.
 * @param results Both instances' results.
 */
export async function verify(
  store: MetadataStore,
  setup: Setup,
  results: readonly WorkloadResult[],
): Promise<void> {
  assert.deepEqual(results.flatMap((r) => r.errors), []);
  // No file id (and so no block id) handed out twice.
  const files = [
    ...setup.shared,
    setup.duel,
    ...results.flatMap((r) => [...r.created, ...r.raceWins]),
  ];
  assert.equal(files.length, SHARED_FILES + 1 + 2 * TASKS + TASKS);
  assert.equal(new Set(files.map((f) => f.fileId)).size, files.length, "file ids are unique");
  // Each race name has exactly one winner, whose record is the one stored.
  for (let i = 0; i < TASKS; i++) {
    const winners = results.flatMap((r) => r.raceWins).filter((f) => f.name === `race/${i}`);
    assert.equal(winners.length, 1, `one winner for race/${i}`);
    assert.equal(results.flatMap((r) => r.raceLosses).filter((n) => n === `race/${i}`).length, 1);
    assert.deepEqual(await store.getFile(`race/${i}`), winners[0]);
  }
  for (const f of results.flatMap((r) => r.created)) {
    assert.deepEqual(await store.getFileById(f.fileId), f);
  }
  // No lost update: every move of every shared file is there, each counted in its version.
  const moves = results.flatMap((r) => r.moves);
  assert.equal(moves.length, 2 * TASKS);
  for (const shared of setup.shared) {
    const now = await store.getFile(shared.name);
    const mine = moves.filter((m) => m.fileId === shared.fileId);
    assert.equal(now.version, shared.version + mine.length, `${shared.name} version`);
    for (const m of mine) {
      assert.deepEqual(now.blocks.filter((b) => b.blockId === m.blockId).map((b) => b.node), [
        m.to,
      ]);
    }
  }
  // The duel: exactly one move won, and it is the one recorded.
  const duelWinners = results.filter((r) => r.duelWon);
  assert.equal(duelWinners.length, 1);
  const duel = await store.getFile("duel");
  assert.equal(duel.blocks[0]!.node, `dn${1 + duelWinners[0]!.instance}`);
  assert.equal(duel.version, setup.duel.version + 1);
  // Every record agrees with the per-node block index.
  const all = await store.listFiles("", { pending: "include" });
  assert.equal(all.length, files.length);
  for (const node of (await store.listDatanodes()).map((n) => n.id)) {
    const indexed = (await store.blocksOnNode(node)).map((b) => `${b.fileId} ${b.blockId}`).sort();
    const recorded = all.flatMap((f) =>
      f.blocks.filter((b) => b.node === node).map((b) => `${f.fileId} ${b.blockId}`)
    ).sort();
    assert.deepEqual(indexed, recorded, `blocks on ${node}`);
  }
}
