/**
 * The shared test suite of {@linkcode MetadataStore}: every backend runs these cases through
 * a {@linkcode StoreFactory}, so SQLite and etcd are held to the same behaviour.
 *
 * ```ts
 * import { runSharedSuite, type StoreFactory } from "./_suite.ts";
 * declare const myFactory: StoreFactory;
 * Deno.test("my backend", async (t) => {
 *   await runSharedSuite(t, myFactory);
 * });
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MetadataStore } from "../../../src/namenode/meta/store.ts";
import type { BlockPlacement, FileRecord } from "../../../src/namenode/meta/model.ts";
import { cdfsError } from "../../helpers/assert_error.ts";

/**
 * A controllable clock, ms since the epoch.
 *
 * @example
 * ```ts
 * import type { TestClock } from "./_suite.ts";
 * let t = 0;
 * const clock: TestClock = { now: () => t, advance: (ms) => void (t += ms) };
 * ```
 */
export interface TestClock {
  /** The time now. */
  now: () => number;
  /** Moves time forward. */
  advance(ms: number): void;
}

/**
 * Makes a clock that starts at a fixed time and moves only when told.
 *
 * @example
 * ```ts
 * import { testClock } from "./_suite.ts";
 * const clock = testClock();
 * clock.advance(1000);
 * ```
 *
 * @returns The clock.
 */
export function testClock(): TestClock {
  let t = 1_764_000_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/**
 * A fresh, empty store and a way to open it again.
 *
 * @example
 * ```ts
 * import type { StoreHandle } from "./_suite.ts";
 * import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
 * const handle: StoreHandle = {
 *   store: SqliteMetadataStore.open(":memory:"),
 *   reopen: () => Promise.resolve(SqliteMetadataStore.open(":memory:")),
 * };
 * ```
 */
export interface StoreHandle {
  /** The store. */
  readonly store: MetadataStore;
  /** Opens another instance on the same data (same file, same etcd prefix). */
  reopen(): Promise<MetadataStore>;
}

/**
 * Creates fresh, independent stores with a given clock.
 *
 * @example
 * ```ts
 * import type { StoreFactory } from "./_suite.ts";
 * import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
 * const factory: StoreFactory = {
 *   create: (clock) => {
 *     const open = () => SqliteMetadataStore.open(":memory:", { now: clock.now });
 *     return Promise.resolve({ store: open(), reopen: () => Promise.resolve(open()) });
 *   },
 * };
 * ```
 */
export interface StoreFactory {
  /** A new empty store (its own file or key prefix). */
  create(clock: TestClock): Promise<StoreHandle>;
}

/**
 * One case of the suite.
 *
 * @example
 * ```ts
 * import type { SuiteCase } from "./_suite.ts";
 * const nothing: SuiteCase = { name: "does nothing", run: () => Promise.resolve() };
 * ```
 */
export interface SuiteCase {
  /** Its name. */
  readonly name: string;
  /** The case, given a fresh store. */
  run(handle: StoreHandle, clock: TestClock): Promise<void>;
}

const DIGEST = "ab".repeat(32);

/**
 * Registers datanodes `dn0..dn<count-1>` at `127.0.0.1:13100+i`.
 *
 * @example
 * ```ts
 * import { registerNodes } from "./_suite.ts";
 * import { SqliteMetadataStore } from "../../../src/namenode/meta/sqlite_store.ts";
 * await registerNodes(SqliteMetadataStore.open(":memory:"), 3); // dn0, dn1, dn2
 * ```
 *
 * @param store The store.
 * @param count How many.
 */
export async function registerNodes(store: MetadataStore, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await store.registerDatanode({
      id: `dn${i}`,
      address: `127.0.0.1:${13100 + i}`,
      capacity: 1e12,
      free: 1e12,
    });
  }
}

/**
 * Placements of `parts` parts, part j on node `dn<(j + shift) % nodes>`.
 *
 * @example
 * ```ts
 * import { parts } from "./_suite.ts";
 * console.log(parts(3, 2).map((p) => p.node)); // ["dn0", "dn1", "dn0"]
 * ```
 *
 * @param parts How many parts.
 * @param nodes How many nodes to spread over.
 * @param shift Offset of the first node.
 * @returns The placements.
 */
export function parts(parts: number, nodes: number, shift = 0): BlockPlacement[] {
  return Array.from({ length: parts }, (_, j) => ({
    role: { kind: "part", index: j },
    node: `dn${(j + shift) % nodes}`,
  }));
}

async function putFile(store: MetadataStore, name: string, blocks: BlockPlacement[]) {
  const file = await store.beginFile({ name, code: "replication", blocks });
  return await store.commitFile(file.fileId, { length: 100, digest: DIGEST });
}

/**
 * Every case, in order.
 *
 * @example
 * ```ts
 * import { SUITE } from "./_suite.ts";
 * console.log(SUITE.length > 10); // true
 * ```
 */
export const SUITE: readonly SuiteCase[] = [
  {
    name: "datanodes register, re-register at the same address, refuse another address",
    async run({ store }, clock) {
      const first = await store.registerDatanode({
        id: "dn0",
        address: "127.0.0.1:13100",
        capacity: 1000,
        free: 900,
      });
      assert.deepEqual(first, {
        id: "dn0",
        address: "127.0.0.1:13100",
        capacity: 1000,
        free: 900,
        registered: clock.now(),
        lastHeartbeat: clock.now(),
        state: "alive",
      });
      clock.advance(5000);
      const again = await store.registerDatanode({
        id: "dn0",
        address: "127.0.0.1:13100",
        capacity: 2000,
        free: 1500,
      });
      assert.equal(again.registered, first.registered);
      assert.equal(again.lastHeartbeat, clock.now());
      assert.equal(again.capacity, 2000);
      await assert.rejects(
        store.registerDatanode({ id: "dn0", address: "127.0.0.1:13199", capacity: 1, free: 1 }),
        cdfsError("CONFLICT", /dn0 is registered at 127\.0\.0\.1:13100.*127\.0\.0\.1:13199/),
      );
      assert.equal((await store.getDatanode("dn0")).address, "127.0.0.1:13100");
      await assert.rejects(
        store.registerDatanode({ id: "../x", address: "127.0.0.1:1", capacity: 1, free: 1 }),
        cdfsError("BAD_REQUEST", /datanode id/),
      );
      await assert.rejects(
        store.registerDatanode({ id: "dn1", address: "nohost", capacity: 1, free: 1 }),
        cdfsError("BAD_REQUEST", /datanode address "nohost"/),
      );
      await assert.rejects(
        store.registerDatanode({ id: "dn1", address: "h:1", capacity: 1, free: 2 }),
        cdfsError("BAD_REQUEST", /free \(2\) is more than the capacity \(1\)/),
      );
      await assert.rejects(
        store.getDatanode("dn9"),
        cdfsError("NOT_FOUND", /dn9 is not registered/),
      );
      assert.deepEqual((await store.listDatanodes()).map((n) => n.id), ["dn0"]);
    },
  },
  {
    name: "heartbeats, and nodes silent for too long are marked dead once",
    async run({ store }, clock) {
      await registerNodes(store, 3);
      await assert.rejects(store.heartbeat("dn9", { free: 1 }), cdfsError("NOT_FOUND", /dn9/));
      clock.advance(20_000);
      const beat = await store.heartbeat("dn1", { free: 5 });
      assert.equal(beat.free, 5);
      assert.equal(beat.lastHeartbeat, clock.now());
      clock.advance(11_000); // dn0 and dn2 silent for 31 s, dn1 for 11 s
      assert.deepEqual(await store.markDeadDatanodes(), ["dn0", "dn2"]);
      assert.deepEqual(await store.markDeadDatanodes(), []);
      assert.equal((await store.getDatanode("dn0")).state, "dead");
      assert.equal((await store.getDatanode("dn1")).state, "alive");
      await assert.rejects(
        store.beginFile({ name: "x", code: "replication", blocks: parts(1, 1) }),
        cdfsError("CONFLICT", /datanode dn0 is dead/),
      );
      assert.equal((await store.heartbeat("dn0", { free: 1 })).state, "alive");
      await store.beginFile({ name: "x", code: "replication", blocks: parts(1, 1) });
    },
  },
  {
    name: "a datanode marked dead at once (it left) takes no blocks until it is back",
    async run({ store }, clock) {
      await registerNodes(store, 2);
      clock.advance(1_000); // far from deadAfterMs: only the explicit mark can kill it
      assert.equal(await store.markDatanodeDead("dn0"), true);
      assert.equal((await store.getDatanode("dn0")).state, "dead");
      assert.equal((await store.getDatanode("dn1")).state, "alive");
      // Marked once: a second call (another namenode, a repeated LEAVE) says it was dead.
      assert.equal(await store.markDatanodeDead("dn0"), false);
      // Neither the silence check nor a new file counts it alive.
      assert.deepEqual(await store.markDeadDatanodes(), []);
      await assert.rejects(
        store.beginFile({ name: "x", code: "replication", blocks: parts(1, 1) }),
        cdfsError("CONFLICT", /datanode dn0 is dead/),
      );
      await assert.rejects(store.markDatanodeDead("dn9"), cdfsError("NOT_FOUND", /dn9/));
      await assert.rejects(store.markDatanodeDead("../x"), cdfsError("BAD_REQUEST", /datanode id/));
      // Registering again (its restart) makes it alive and a target again.
      const back = await store.registerDatanode({
        id: "dn0",
        address: "127.0.0.1:13100",
        capacity: 1e12,
        free: 1e12,
      });
      assert.equal(back.state, "alive");
      await store.beginFile({ name: "x", code: "replication", blocks: parts(1, 1) });
      // A heartbeat revives a node marked dead too.
      assert.equal(await store.markDatanodeDead("dn1"), true);
      assert.equal((await store.heartbeat("dn1", { free: 1 })).state, "alive");
    },
  },
  {
    name: "a begun file is invisible until committed; its ids come from the store",
    async run({ store }, clock) {
      await registerNodes(store, 2);
      const file = await store.beginFile({
        name: "dir/a.bin",
        code: "replication",
        blocks: [...parts(2, 2), { role: { kind: "part", index: 0 }, node: "dn1" }],
      });
      assert.equal(file.state, "pending");
      assert.equal(file.objectId, `f${file.fileId}`);
      assert.deepEqual(file.blocks.map((b) => [b.blockId, b.node, b.state]), [
        [`f${file.fileId}.part0`, "dn0", "pending"],
        [`f${file.fileId}.part0`, "dn1", "pending"],
        [`f${file.fileId}.part1`, "dn1", "pending"],
      ]);
      await assert.rejects(
        store.getFile("dir/a.bin"),
        cdfsError("NOT_FOUND", /no file "dir\/a\.bin"/),
      );
      assert.deepEqual(await store.listFiles(""), []);
      assert.deepEqual((await store.listFiles("", { pending: "only" })).map((f) => f.name), [
        "dir/a.bin",
      ]);
      assert.deepEqual(await store.getFileById(file.fileId), file);
      await assert.rejects(
        store.commitFile(file.fileId, { length: 10 }),
        cdfsError("BAD_REQUEST", /without its digest/),
      );
      clock.advance(1000);
      const done = await store.commitFile(file.fileId, { length: 10, digest: DIGEST });
      assert.equal(done.state, "replicated");
      assert.equal(done.committed, clock.now());
      assert.equal(done.version, 2);
      assert.ok(done.blocks.every((b) => b.state === "stored"));
      assert.deepEqual(await store.getFile("dir/a.bin"), done);
      assert.deepEqual(await store.listFiles("dir/"), [done]);
      assert.deepEqual(await store.listFiles("", { pending: "only" }), []);
      await assert.rejects(
        store.commitFile(file.fileId, {}),
        cdfsError("CONFLICT", /nothing to commit/),
      );
      await assert.rejects(
        store.commitFile(file.fileId, { length: 11, state: "encoded" }),
        cdfsError("CONFLICT", /has length 10, the commit says 11/),
      );
    },
  },
  {
    name: "a name is taken while pending and once committed; bad names are refused",
    async run({ store }) {
      await registerNodes(store, 1);
      const file = await store.beginFile({ name: "a", code: "rs", blocks: parts(1, 1) });
      await assert.rejects(
        store.beginFile({ name: "a", code: "rs", blocks: parts(1, 1) }),
        cdfsError("EXISTS", /file "a" is being created/),
      );
      await store.commitFile(file.fileId, { length: 0, digest: DIGEST });
      await assert.rejects(
        store.beginFile({ name: "a", code: "rs", blocks: parts(1, 1) }),
        cdfsError("EXISTS", /file "a" already exists/),
      );
      const bad: [string, RegExp][] = [
        ["", /file name is empty/],
        ["x".repeat(1025), /1025 bytes long, the limit is 1024/],
        ["é".repeat(513), /1026 bytes long/],
        ["a\nb", /control character "\\n"/],
        ["a\u0000", /control character/],
        ["a\ud800", /not valid Unicode/],
      ];
      for (const [name, pattern] of bad) {
        await assert.rejects(
          store.beginFile({ name, code: "rs", blocks: parts(1, 1) }),
          cdfsError("BAD_REQUEST", pattern),
        );
      }
      await assert.rejects(
        store.beginFile({ name: "b", code: "rs", blocks: [] }),
        cdfsError("BAD_REQUEST", /at least one block/),
      );
      await assert.rejects(
        store.beginFile({ name: "b", code: "rs", blocks: [...parts(1, 1), ...parts(1, 1)] }),
        cdfsError("BAD_REQUEST", /lists twice part 0 on datanode dn0/),
      );
      await assert.rejects(
        store.beginFile({ name: "b", code: "rs", blocks: parts(101, 1) }),
        cdfsError("BAD_REQUEST", /101 blocks, the limit is 100/),
      );
      await assert.rejects(
        store.beginFile({
          name: "b",
          code: "rs",
          blocks: [{ role: { kind: "part", index: 0 }, node: "dn7" }],
        }),
        cdfsError("NOT_FOUND", /datanode dn7 is not registered/),
      );
      const unicode = "\u00e9t\u00e9/\ud83d\ude00 \u4e2d.txt";
      await putFile(store, unicode, parts(1, 1));
      assert.equal((await store.getFile(unicode)).name, unicode);
    },
  },
  {
    name: "unknown files and blocks are refused with NOT_FOUND",
    async run({ store }) {
      await registerNodes(store, 2);
      await assert.rejects(
        store.commitFile(999_999, { length: 1, digest: DIGEST }),
        cdfsError("NOT_FOUND", /no file with id 999999/),
      );
      await assert.rejects(store.abortFile(999_999), cdfsError("NOT_FOUND", /id 999999/));
      await assert.rejects(store.getFileById(999_999), cdfsError("NOT_FOUND", /id 999999/));
      await assert.rejects(
        store.moveBlock(999_999, "f1.part0", "dn0", "dn1"),
        cdfsError("NOT_FOUND", /id 999999/),
      );
      await assert.rejects(store.getFile("nope"), cdfsError("NOT_FOUND", /no file "nope"/));
      await assert.rejects(store.deleteFile("nope"), cdfsError("NOT_FOUND", /no file "nope"/));
      await assert.rejects(store.getFileById(0), cdfsError("BAD_REQUEST", /positive integer/));
      const file = await putFile(store, "x", parts(1, 2));
      await assert.rejects(
        store.moveBlock(file.fileId, `f${file.fileId}.coded9`, "dn0", "dn1"),
        cdfsError("NOT_FOUND", /there is no block/),
      );
    },
  },
  {
    name: "ids are never allocated twice, across aborts and deletes",
    async run({ store }) {
      await registerNodes(store, 1);
      const ids = new Set<number>();
      const a = await store.beginFile({ name: "n", code: "rs", blocks: parts(1, 1) });
      ids.add(a.fileId);
      assert.equal(await store.abortFile(a.fileId), null);
      await assert.rejects(store.getFileById(a.fileId), cdfsError("NOT_FOUND", /id/));
      const b = await putFile(store, "n", parts(1, 1));
      ids.add(b.fileId);
      await store.deleteFile("n");
      const c = await putFile(store, "n", parts(1, 1));
      ids.add(c.fileId);
      assert.equal(ids.size, 3);
      const blockIds = [a, b, c].map((f) => f.blocks[0]!.blockId);
      assert.equal(new Set(blockIds).size, 3);
      await assert.rejects(
        store.commitFile(a.fileId, { length: 1, digest: DIGEST }),
        cdfsError("NOT_FOUND", /id/),
      );
    },
  },
  {
    name: "abort frees a pending name; on a committed file it drops only pending blocks",
    async run({ store }) {
      await registerNodes(store, 3);
      const file = await putFile(store, "f", parts(2, 3));
      await assert.rejects(
        store.abortFile(file.fileId),
        cdfsError("CONFLICT", /no pending change/),
      );
      const more = await store.addBlocks(file.fileId, [{
        role: { kind: "coded", index: 0 },
        node: "dn2",
      }]);
      assert.equal(more.blocks.length, 3);
      assert.equal(more.blocks[2]!.state, "pending");
      const back = await store.abortFile(file.fileId);
      assert.deepEqual(back?.blocks, file.blocks);
      assert.equal((await store.getFile("f")).blocks.length, 2);
    },
  },
  {
    name: "encode flow: add coded blocks, commit them as encoded, drop the replicas as archived",
    async run({ store }) {
      await registerNodes(store, 4);
      const file = await putFile(store, "big", [...parts(2, 4), ...parts(2, 4, 2)]);
      assert.equal(file.blocks.length, 4);
      const coded = await store.addBlocks(file.fileId, [
        { role: { kind: "coded", index: 0 }, node: "dn0" },
        { role: { kind: "coded", index: 1 }, node: "dn1" },
        { role: { kind: "coded", index: 2 }, node: "dn2" },
      ]);
      assert.deepEqual(coded.blocks.filter((b) => b.role.kind === "coded").map((b) => b.blockId), [
        `f${file.fileId}.coded0`,
        `f${file.fileId}.coded1`,
        `f${file.fileId}.coded2`,
      ]);
      await assert.rejects(
        store.addBlocks(file.fileId, [{ role: { kind: "coded", index: 0 }, node: "dn0" }]),
        cdfsError("EXISTS", /already has coded 0 on datanode dn0/),
      );
      const encoded = await store.commitFile(file.fileId, { state: "encoded" });
      assert.equal(encoded.state, "encoded");
      assert.equal(encoded.blocks.filter((b) => b.state === "stored").length, 7);
      const archived = await store.dropBlocks(
        file.fileId,
        file.blocks.map((b) => ({ blockId: b.blockId, node: b.node })),
        "archived",
      );
      assert.equal(archived.state, "archived");
      assert.deepEqual(archived.blocks.map((b) => b.role.kind), ["coded", "coded", "coded"]);
      await assert.rejects(
        store.dropBlocks(file.fileId, [{ blockId: `f${file.fileId}.part0`, node: "dn0" }]),
        cdfsError("NOT_FOUND", /no block "f\d+\.part0" on datanode dn0/),
      );
      await assert.rejects(
        store.dropBlocks(
          file.fileId,
          archived.blocks.map((b) => ({ blockId: b.blockId, node: b.node })),
        ),
        cdfsError("CONFLICT", /without any block/),
      );
      assert.deepEqual(await store.getFile("big"), archived);
      assert.equal(archived.version, 5); // begin, commit, add, commit, drop
    },
  },
  {
    name: "a block moves to another node; a stale move or a bad target is refused",
    async run({ store }, clock) {
      await registerNodes(store, 4);
      const file = await putFile(store, "m", [...parts(2, 2), {
        role: { kind: "part", index: 0 },
        node: "dn1",
      }]);
      const id = `f${file.fileId}.part0`;
      const moved = await store.moveBlock(file.fileId, id, "dn0", "dn2");
      assert.deepEqual(moved.blocks.filter((b) => b.blockId === id).map((b) => b.node), [
        "dn1",
        "dn2",
      ]);
      await assert.rejects(
        store.moveBlock(file.fileId, id, "dn0", "dn3"),
        cdfsError("CONFLICT", /is on datanode dn1, dn2, not on dn0/),
      );
      await assert.rejects(
        store.moveBlock(file.fileId, id, "dn1", "dn2"),
        cdfsError("CONFLICT", /already has a copy on datanode dn2/),
      );
      await assert.rejects(
        store.moveBlock(file.fileId, id, "dn1", "dn9"),
        cdfsError("NOT_FOUND", /dn9 is not registered/),
      );
      clock.advance(31_000);
      for (const n of ["dn0", "dn1", "dn2"]) await store.heartbeat(n, { free: 1 });
      await store.markDeadDatanodes();
      await assert.rejects(
        store.moveBlock(file.fileId, id, "dn1", "dn3"),
        cdfsError("CONFLICT", /dn3 is dead/),
      );
      assert.deepEqual(
        (await store.blocksOnNode("dn2")).map((b) => [b.blockId, b.name, b.fileId]),
        [
          [id, "m", file.fileId],
        ],
      );
      assert.deepEqual(await store.blocksOnNode("dn0"), []);
      assert.deepEqual(await store.getFile("m"), moved);
    },
  },
  {
    name: "listing by prefix pages in UTF-8 byte order",
    async run({ store }) {
      await registerNodes(store, 1);
      const names = ["a/1", "a/2", "a/10", "a/\u00e9", "a/\ud83d\ude00", "a/\uffff", "b/1", "a"];
      for (const name of names) await putFile(store, name, parts(1, 1));
      await store.beginFile({ name: "a/0-pending", code: "rs", blocks: parts(1, 1) });
      const all = (await store.listFiles("a/")).map((f) => f.name);
      // U+FFFF is 3 bytes in UTF-8, U+1F600 is 4 bytes starting 0xF0: after U+FFFF (0xEF...).
      assert.deepEqual(all, ["a/1", "a/10", "a/2", "a/\u00e9", "a/\uffff", "a/\ud83d\ude00"]);
      const page1 = await store.listFiles("a/", { limit: 2 });
      assert.deepEqual(page1.map((f) => f.name), ["a/1", "a/10"]);
      const page2 = await store.listFiles("a/", { limit: 10, after: "a/10" });
      assert.deepEqual(page2.map((f) => f.name), all.slice(2));
      assert.equal((await store.listFiles("")).length, names.length);
      assert.deepEqual(await store.listFiles("a/", { after: "zzz" }), []);
      await assert.rejects(store.listFiles("", { limit: 0 }), cdfsError("BAD_REQUEST", /limit/));
      await assert.rejects(
        store.listFiles("", { pending: "all" as "include" }),
        cdfsError("BAD_REQUEST", /pending must be "exclude", "include" or "only", got all/),
      );
      assert.equal((await store.listFiles("", { pending: "exclude" })).length, names.length);
      assert.equal((await store.listFiles("", { pending: "include" })).length, names.length + 1);
      assert.deepEqual((await store.listFiles("a/", { pending: "only" })).map((f) => f.name), [
        "a/0-pending",
      ]);
      assert.deepEqual(await store.listFiles("b/", { pending: "only" }), []);
      await assert.rejects(store.listFiles("\u0007"), cdfsError("BAD_REQUEST", /control/));
    },
  },
  {
    name: "delete removes a committed file and frees its name; pending files are not deleted",
    async run({ store }) {
      await registerNodes(store, 2);
      const file = await putFile(store, "d", parts(2, 2));
      await store.beginFile({ name: "p", code: "rs", blocks: parts(1, 1, 0) });
      await assert.rejects(store.deleteFile("p"), cdfsError("NOT_FOUND", /no file "p"/));
      assert.deepEqual(await store.deleteFile("d"), file);
      await assert.rejects(store.getFile("d"), cdfsError("NOT_FOUND", /no file "d"/));
      await assert.rejects(store.getFileById(file.fileId), cdfsError("NOT_FOUND", /id/));
      assert.deepEqual((await store.blocksOnNode("dn0")).map((b) => b.name), ["p"]);
      const again = await putFile(store, "d", parts(1, 2));
      assert.notEqual(again.fileId, file.fileId);
    },
  },
  {
    name: "block reports: missing copies, unknown blocks, first-seen kept, unknown node refused",
    async run({ store }, clock) {
      await registerNodes(store, 2);
      const file = await putFile(store, "r", parts(2, 1));
      const pending = await store.beginFile({ name: "q", code: "rs", blocks: parts(1, 1) });
      const [p0, p1] = [`f${file.fileId}.part0`, `f${file.fileId}.part1`];
      const q0 = `f${pending.fileId}.part0`;
      await assert.rejects(
        store.reportBlocks("dn9", { kind: "full", blocks: [] }),
        cdfsError("NOT_FOUND", /dn9 is not registered/),
      );
      // dn0 lacks p1 (lost) and the pending q0 (still being written: not missing); has junk.
      const full = await store.reportBlocks("dn0", {
        kind: "full",
        blocks: [{ blockId: p0, length: 50 }, { blockId: "junk.part0", length: 7 }],
      });
      assert.deepEqual(full.missing.map((b) => [b.blockId, b.name, b.node]), [[p1, "r", "dn0"]]);
      assert.deepEqual(full.unknown, ["junk.part0"]);
      const t0 = clock.now();
      assert.deepEqual(await store.listReportedBlocks("dn0"), [
        { node: "dn0", blockId: p0, length: 50, firstSeen: t0 },
        { node: "dn0", blockId: "junk.part0", length: 7, firstSeen: t0 },
      ]);
      clock.advance(1000);
      const delta = await store.reportBlocks("dn0", {
        kind: "incremental",
        added: [{ blockId: p1, length: 50 }, { blockId: q0, length: 3 }, {
          blockId: p0,
          length: 51,
        }],
        removed: ["junk.part0", "never-had.part0"],
      });
      assert.deepEqual(delta, { missing: [], unknown: [] });
      assert.deepEqual(await store.listReportedBlocks("dn0"), [
        { node: "dn0", blockId: p0, length: 51, firstSeen: t0 },
        { node: "dn0", blockId: p1, length: 50, firstSeen: t0 + 1000 },
        { node: "dn0", blockId: q0, length: 3, firstSeen: t0 + 1000 },
      ]);
      const lost = await store.reportBlocks("dn0", {
        kind: "incremental",
        added: [],
        removed: [p0],
      });
      assert.deepEqual(lost.missing.map((b) => b.blockId), [p0]);
      assert.deepEqual(lost.unknown, []);
      clock.advance(1000);
      const same = await store.reportBlocks("dn0", {
        kind: "full",
        blocks: [{ blockId: p1, length: 50 }, { blockId: q0, length: 3 }],
      });
      assert.deepEqual(same.missing.map((b) => b.blockId), [p0]);
      assert.equal((await store.listReportedBlocks("dn0"))[0]!.firstSeen, t0 + 1000);
      assert.deepEqual(await store.listReportedBlocks("dn1"), []);
      await assert.rejects(
        store.reportBlocks("dn0", { kind: "incremental", added: [], removed: ["a", "a"] }),
        cdfsError("BAD_REQUEST", /twice/),
      );
      await assert.rejects(
        store.reportBlocks("dn0", { kind: "full", blocks: [{ blockId: "../x", length: 1 }] }),
        cdfsError("BAD_REQUEST", /block id/),
      );
      await assert.rejects(
        store.reportBlocks("dn0", {
          kind: "incremental",
          added: [],
          removed: Array.from({ length: 101 }, (_, i) => `b${i}`),
        }),
        cdfsError("BAD_REQUEST", /101 entries, the limit is 100/),
      );
    },
  },
  {
    name: "orphans: blocks in no file, listed only after the grace period",
    async run({ store }, clock) {
      await registerNodes(store, 2);
      const file = await putFile(store, "o", parts(1, 1));
      const pending = await store.beginFile({ name: "w", code: "rs", blocks: parts(1, 2, 1) });
      const [f0, w0] = [`f${file.fileId}.part0`, `f${pending.fileId}.part0`];
      await store.reportBlocks("dn0", {
        kind: "full",
        blocks: [{ blockId: f0, length: 1 }, { blockId: "stray.coded1", length: 1 }],
      });
      // dn1 holds the pending file's block (not an orphan) and a stale copy of f0 (an orphan:
      // no file places f0 on dn1).
      await store.reportBlocks("dn1", {
        kind: "full",
        blocks: [{ blockId: w0, length: 1 }, { blockId: f0, length: 1 }],
      });
      clock.advance(30_000);
      assert.deepEqual(await store.listOrphans(60_000), []);
      clock.advance(30_000);
      assert.deepEqual(
        (await store.listOrphans(60_000)).map((o) => [o.node, o.blockId]),
        [["dn0", "stray.coded1"], ["dn1", f0]],
      );
      await store.deleteFile("o");
      assert.equal(await store.abortFile(pending.fileId), null);
      assert.deepEqual(
        (await store.listOrphans(60_000)).map((o) => [o.node, o.blockId]),
        [["dn0", f0], ["dn0", "stray.coded1"], ["dn1", f0], ["dn1", w0]],
      );
      await assert.rejects(store.listOrphans(-1), cdfsError("BAD_REQUEST", /grace/));
    },
  },
  {
    name: "restart: a store opened again on the same data has lost nothing",
    async run(handle, clock) {
      const { store } = handle;
      await registerNodes(store, 3);
      const kept = await putFile(store, "keep", parts(3, 3));
      const pending = await store.beginFile({ name: "half", code: "rs", blocks: parts(1, 3) });
      await store.reportBlocks("dn1", {
        kind: "full",
        blocks: [{ blockId: "x.part0", length: 9 }],
      });
      clock.advance(40_000);
      await store.heartbeat("dn0", { free: 1 });
      await store.markDeadDatanodes();
      const nodes = await store.listDatanodes();
      await store.close();
      const reopened = await handle.reopen();
      try {
        assert.deepEqual(await reopened.getFile("keep"), kept);
        assert.deepEqual(await reopened.getFileById(pending.fileId), pending);
        assert.deepEqual(await reopened.listDatanodes(), nodes);
        assert.deepEqual((await reopened.listReportedBlocks("dn1")).map((r) => r.blockId), [
          "x.part0",
        ]);
        const done: FileRecord = await reopened.commitFile(pending.fileId, {
          length: 1,
          digest: DIGEST,
        });
        assert.equal(done.state, "replicated");
        const next = await reopened.beginFile({ name: "new", code: "rs", blocks: parts(1, 1) });
        assert.ok(next.fileId !== kept.fileId && next.fileId !== pending.fileId);
      } finally {
        await reopened.close();
      }
    },
  },
];

/**
 * Runs every case as a step, each on a fresh store from the factory.
 *
 * @example
 * ```ts
 * import { runSharedSuite, type StoreFactory } from "./_suite.ts";
 * declare const factory: StoreFactory;
 * Deno.test("my backend", (t) => runSharedSuite(t, factory));
 * ```
 *
 * @param t The test context.
 * @param factory Makes the stores.
 * @param between Called between cases with the index of the case just finished (the 3-member
 * cluster test kills a member there).
 */
export async function runSharedSuite(
  t: Deno.TestContext,
  factory: StoreFactory,
  between?: (index: number) => Promise<void>,
): Promise<void> {
  for (const [i, c] of SUITE.entries()) {
    await t.step(c.name, async () => {
      const clock = testClock();
      const handle = await factory.create(clock);
      let closed = false;
      try {
        await c.run(handle, clock);
        closed = c.name.startsWith("restart");
      } finally {
        if (!closed) await handle.store.close();
      }
    });
    await between?.(i);
  }
}
