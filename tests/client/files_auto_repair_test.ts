/**
 * The repair loop of `src/client/files/auto_repair.ts` against in-process datanodes and
 * namenode (`_file_cluster.ts`), driven round by round: two datanodes lost, one round queues
 * every degraded file, repairs them most endangered first (each repair logged with its bytes
 * and charged to the rate limiter), and leaves every file healthy and byte-identical; a repair
 * that fails is retried only after its backoff, by the loop's injected clock.
 *
 * @module
 */
import assert from "node:assert/strict";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { codingModule as replication } from "../../coding/replication.ts";
import { archiveFile } from "../../src/client/files/archive.ts";
import { AutoRepair, SCAN_REST_FACTOR } from "../../src/client/files/auto_repair.ts";
import { putFile } from "../../src/client/files/put.ts";
import { readFile } from "../../src/client/files/read.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { DecisionLog, type NameNodeLogRecord } from "../../src/namenode/log.ts";
import { randomBytes } from "./_blocks.ts";
import { type FileCluster, startFileCluster } from "./_file_cluster.ts";
import { tempDir } from "../helpers/temp_dir.ts";

const CHUNK = 4096;

/** Puts (and archives when asked) a file of `length` random bytes; returns the bytes. */
async function store(
  files: FileCluster,
  work: string,
  name: string,
  module: CodingModule,
  length: number,
  archive: boolean,
): Promise<Uint8Array> {
  const bytes = randomBytes(length);
  const path = `${work}/${name}`;
  await Deno.writeFile(path, bytes);
  const { file } = await putFile({ namenode: files.client, module, path, name, chunkSize: CHUNK });
  if (archive) await archiveFile({ namenode: files.client, file, module, chunkSize: CHUNK });
  return bytes;
}

/** A fake clock for the loop (backoff, rate limiter). */
/**
 * The index of a live datanode holding a copy of every one of `names` (of 18; placement is
 * random), other than `except`: killing it degrades them all.
 */
async function holderOfEvery(
  files: FileCluster,
  names: readonly string[],
  except?: number,
): Promise<number> {
  const holders = await Promise.all(
    names.map((n) => files.client.getFile(n).then((f) => new Set(f.blocks.map((b) => b.node)))),
  );
  const index = Array.from({ length: 18 }, (_, i) => i)
    .find((i) => i !== except && holders.every((h) => h.has(files.id(i))));
  assert.ok(index !== undefined, "a datanode holding a block of every file");
  return index;
}

function fakeClock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => now += ms };
}

Deno.test("auto repair: one round repairs every degraded file, most endangered first; every file healthy and identical", async () => {
  await using files = await startFileCluster(18);
  await using dir = await tempDir("cdfs-auto-repair-");
  const sources = new Map<string, { module: CodingModule; bytes: Uint8Array }>();
  const add = async (name: string, module: CodingModule, length: number, archive: boolean) =>
    sources.set(name, {
      module,
      bytes: await store(files, dir.path, name, module, length, archive),
    });
  await add("coded-a", rapidraid, 11 * 3 * CHUNK + 17, true);
  await add("coded-b", rapidraid, 11 * CHUNK, true);
  await add("parts", rapidraid, 11 * 2 * CHUNK + 5, false);
  await add("copies", replication, 3 * CHUNK + 1, true);
  // One datanode holding blocks of the parts-only and the replication file (placement is
  // random: the replication file's copies are on a few of the 18, the parts on 16), another
  // holding blocks of an archived one.
  const holders = (name: string) =>
    files.client.getFile(name).then((f) => new Set(f.blocks.map((b) => b.node)));
  const [codedA, , parts, copies] = await Promise.all([...sources.keys()].map(holders));
  const nodes = Array.from({ length: 18 }, (_, i) => i);
  const first = nodes.find((i) => parts!.has(files.id(i)) && copies!.has(files.id(i)));
  // The second holds no copy of the replicated file (that would leave it at margin 0 too, tied
  // with the parts file) nor a replica of a part whose other replica is on the first.
  const partsFile = await files.client.getFile("parts");
  const partsOnFirst = new Set(
    partsFile.blocks.filter((b) => b.node === files.id(first ?? -1)).map((b) => b.index),
  );
  const second = nodes.find((i) =>
    i !== first && codedA!.has(files.id(i)) && !copies!.has(files.id(i)) &&
    !partsFile.blocks.some((b) => b.node === files.id(i) && partsOnFirst.has(b.index))
  );
  assert.ok(first !== undefined && second !== undefined, "datanodes holding the files");
  await files.kill([first, second]);
  const degraded =
    (await Array.fromAsync(files.client.health())).filter((h) => h.status === "degraded").length;
  assert.ok(degraded >= 3, `${degraded} files degraded`);

  const records: NameNodeLogRecord[] = [];
  const clock = fakeClock();
  const loop = new AutoRepair({
    namenode: files.client,
    log: new DecisionLog("nn-test", (r) => records.push(r)),
    rate: 1 << 20,
    now: clock.now,
    chunkSize: CHUNK,
  });
  const round = await loop.runOnce();
  assert.deepEqual(round.failed, []);
  assert.equal(round.repaired.length, degraded);
  const queued = records.filter((r) => r.event === "repair-queued");
  assert.equal(queued.length, degraded);
  // Repaired in the order of their margins (copies to spare): the parts-only file first, a
  // part of it down to its last copy (0).
  const started = records.filter((r) => r.event === "repair-started");
  const margins = started.map((r) => r.margin as number);
  assert.deepEqual(margins, [...margins].sort((a, b) => a - b), JSON.stringify(started));
  assert.equal(started[0]!.name, "parts");
  assert.equal(started[0]!.margin, 0);
  const finished = records.filter((r) => r.event === "repair-finished");
  assert.equal(finished.length, degraded);
  for (const f of finished) {
    assert.ok(
      (f.bytesWritten as number) > 0 && (f.bytesRead as number) >= (f.bytesWritten as number),
      JSON.stringify(f),
    );
  }
  // Every byte moved was charged to the datanodes it went through (the clock stood still).
  const charged = Array.from(
    { length: 18 },
    (_, i) => (1 << 20) - loop.limiter.available(files.id(i)),
  );
  const written = finished.reduce((sum, f) => sum + (f.bytesWritten as number), 0);
  const read = finished.reduce((sum, f) => sum + (f.bytesRead as number), 0);
  assert.equal(charged.reduce((a, b) => a + b, 0), written + read);

  assert.deepEqual(loop.repairQueueSnapshot(), []);
  for (const health of await Array.fromAsync(files.client.health())) {
    assert.equal(health.status, "healthy", JSON.stringify(health));
    const file = await files.client.getFile(health.name);
    assert.ok(file.blocks.every((b) => b.alive), `${health.name}: every block on a live node`);
    const output = `${dir.path}/${health.name}.out`;
    await readFile({ file, module: sources.get(health.name)!.module, output, chunkSize: CHUNK });
    assert.deepEqual(await Deno.readFile(output), sources.get(health.name)!.bytes, health.name);
  }
  // Nothing left: the next round does nothing.
  assert.deepEqual(await loop.runOnce(), { repaired: [], failed: [], removed: 0 });
});

Deno.test("auto repair: a failed repair waits for its backoff, then is tried again; the queue shows it", async () => {
  await using files = await startFileCluster(18);
  await using dir = await tempDir("cdfs-auto-repair-");
  const bytes = await store(files, dir.path, "a", rapidraid, 11 * CHUNK, true);
  const holder = (await files.client.getFile("a")).blocks[0]!.node;
  await files.kill([Number(holder.slice(2))]);
  const records: NameNodeLogRecord[] = [];
  const clock = fakeClock();
  let broken = true;
  const loop = new AutoRepair({
    namenode: files.client,
    log: new DecisionLog("nn-test", (r) => records.push(r)),
    rate: 1 << 30,
    now: clock.now,
    chunkSize: CHUNK,
    loadModule: (name) =>
      broken
        ? Promise.reject(new CdfsError("NOT_FOUND", `no coding module ${name} here`))
        : Promise.resolve(rapidraid),
  });
  assert.deepEqual((await loop.runOnce()).failed, ["a"]);
  const failed = records.filter((r) => r.event === "repair-failed");
  assert.equal(failed.length, 1);
  assert.match(String(failed[0]!.reason), /no coding module rapidraid here/);
  assert.equal(failed[0]!.retryInMs, 5_000);
  const [entry] = loop.repairQueueSnapshot();
  assert.equal(entry!.state, "waiting");
  assert.equal(entry!.attempts, 1);
  assert.equal(entry!.retryAt, new Date(clock.now() + 5_000).toISOString());

  // Not due yet: the round does not try it (no hot loop).
  assert.deepEqual(await loop.runOnce(), { repaired: [], failed: [], removed: 0 });
  assert.equal(records.filter((r) => r.event === "repair-started").length, 1);
  // A datanode joins: the waiting repair is due at once (the clock stood still); it fails
  // again and backs off further (its failures are kept).
  loop.retryWaiting();
  assert.deepEqual((await loop.runOnce()).failed, ["a"]);
  assert.equal(records.filter((r) => r.event === "repair-failed").at(-1)!.retryInMs, 10_000);
  // Not due yet again, even with the module back.
  broken = false;
  assert.deepEqual(await loop.runOnce(), { repaired: [], failed: [], removed: 0 });
  assert.equal(records.filter((r) => r.event === "repair-started").length, 2);
  clock.advance(10_000);
  assert.deepEqual((await loop.runOnce()).repaired, ["a"]);
  assert.equal(records.filter((r) => r.event === "repair-queued").length, 1);
  const file = await files.client.getFile("a");
  const output = `${dir.path}/a.out`;
  await readFile({ file, module: rapidraid, output, chunkSize: CHUNK });
  assert.deepEqual(await Deno.readFile(output), bytes);
});

Deno.test("auto repair: a round that fails is logged as an error, unless stop() cut it short", async () => {
  // A namenode whose FSCK hangs until `fail` is called, then fails as a closed connection does.
  const hanging = () => {
    let fail = () => {};
    let asked = () => {};
    const askedFor = new Promise<void>((resolve) => asked = resolve);
    const failed = new Promise<never>((_, reject) =>
      fail = () => reject(new CdfsError("UNAVAILABLE", "connection closed while reading a reply"))
    );
    failed.catch(() => {});
    const namenode = {
      async *health() {
        asked();
        yield await failed;
      },
    } as unknown as ConstructorParameters<typeof AutoRepair>[0]["namenode"];
    return { namenode, askedFor, fail: () => fail() };
  };
  const errorsOf = async (stopFirst: boolean) => {
    const records: NameNodeLogRecord[] = [];
    const { namenode, askedFor, fail } = hanging();
    const loop = new AutoRepair({
      namenode,
      log: new DecisionLog("nn-test", (r) => records.push(r)),
      rate: 1 << 30,
      intervalMs: 60_000,
    });
    loop.start();
    await askedFor;
    const stopping = stopFirst ? loop.stop() : null;
    fail();
    if (stopping === null) {
      // Let the failed round be logged, then stop the loop while it sleeps.
      while (!records.some((r) => r.event === "error")) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await loop.stop();
    } else {
      await stopping;
    }
    return records.filter((r) => r.event === "error").map((r) => String(r.message));
  };
  assert.deepEqual(await errorsOf(false), [
    "repair round failed: connection closed while reading a reply",
  ]);
  assert.deepEqual(await errorsOf(true), []);
});

Deno.test("auto repair: up to `concurrency` files are repaired at once, started in repair order", async () => {
  await using files = await startFileCluster(18);
  await using dir = await tempDir("cdfs-auto-repair-");
  const names = ["f0", "f1", "f2"];
  const bytes = new Map<string, Uint8Array>();
  for (const name of names) {
    bytes.set(name, await store(files, dir.path, name, rapidraid, 11 * 2 * CHUNK, true));
  }
  // A datanode holding a coded block of every file (16 of 18 datanodes hold one of each).
  const victim = await holderOfEvery(files, names);
  await files.kill([victim]);

  const roundWith = async (concurrency: number) => {
    const records: NameNodeLogRecord[] = [];
    const loop = new AutoRepair({
      namenode: files.client,
      log: new DecisionLog("nn-test", (r) => records.push(r)),
      rate: 1 << 30,
      chunkSize: CHUNK,
      concurrency,
    });
    const round = await loop.runOnce();
    return { round, records: records.filter((r) => /^repair-(started|finished)$/.test(r.event)) };
  };
  // Two at once: the second starts before the first finishes, the third only after one did.
  const { round, records } = await roundWith(2);
  assert.deepEqual(round.failed, []);
  assert.deepEqual([...round.repaired].sort(), names);
  const events = records.map((r) => r.event.slice("repair-".length));
  assert.deepEqual(events.slice(0, 3), ["started", "started", "finished"], events.join(" "));
  assert.equal(events.filter((e) => e === "finished").length, 3);
  for (const name of names) {
    const file = await files.client.getFile(name);
    assert.ok(file.blocks.every((b) => b.alive), `${name}: every block on a live node`);
    const output = `${dir.path}/${name}.out`;
    await readFile({ file, module: rapidraid, output, chunkSize: CHUNK });
    assert.deepEqual(await Deno.readFile(output), bytes.get(name), name);
  }

  // One at a time: each repair starts after the one before it finished.
  await files.kill([await holderOfEvery(files, names, victim)]);
  const one = await roundWith(1);
  assert.equal(one.round.repaired.length, 3);
  assert.deepEqual(
    one.records.map((r) => r.event),
    names.flatMap(() => ["repair-started", "repair-finished"]),
  );
});

Deno.test("auto repair: a repair reserves its budget as it starts, so repairs at once do not all start on the same budget", async () => {
  await using files = await startFileCluster(18);
  await using dir = await tempDir("cdfs-auto-repair-");
  const names = ["r0", "r1"];
  for (const name of names) await store(files, dir.path, name, rapidraid, 11 * 2 * CHUNK, true);
  await files.kill([await holderOfEvery(files, names)]);
  const records: NameNodeLogRecord[] = [];
  // A budget of 4 KiB/s against a reservation of one 8 KiB block per source: the first repair
  // overdraws every bucket it may read from as it starts, so the second waits (about 1 s and
  // more once the first is charged), although 4 could run at once.
  const loop = new AutoRepair({
    namenode: files.client,
    log: new DecisionLog("nn-test", (r) => records.push(r)),
    rate: 4 * 1024,
    chunkSize: CHUNK,
    concurrency: 4,
  });
  const round = await loop.runOnce();
  assert.deepEqual([...round.repaired].sort(), names);
  const events = records.filter((r) => /^repair-(started|finished)$/.test(r.event))
    .map((r) => r.event);
  assert.deepEqual(events, [
    "repair-started",
    "repair-finished",
    "repair-started",
    "repair-finished",
  ]);
  // Every reservation was given back: what is left charged is what the repairs moved.
  const finished = records.filter((r) => r.event === "repair-finished");
  const moved = finished.reduce(
    (s, f) => s + (f.bytesRead as number) + (f.bytesWritten as number),
    0,
  );
  assert.ok(moved > 0);
});

/**
 * A loop on a fake clock over a namenode with no file to repair, whose every scan is counted
 * and takes `scanMs` by that clock; `rounds(n)` lets n of its 2 ms rounds go by.
 */
function scanningLoop(scanMs = 0) {
  const clock = fakeClock();
  const counted = { scans: 0 };
  const namenode = {
    // deno-lint-ignore require-yield
    async *health() {
      counted.scans++;
      clock.advance(scanMs);
    },
  } as unknown as ConstructorParameters<typeof AutoRepair>[0]["namenode"];
  const loop = new AutoRepair({
    namenode,
    log: new DecisionLog("nn-test", () => {}),
    rate: 1 << 30,
    now: clock.now,
    intervalMs: 2,
    scanIntervalMs: 60_000,
  });
  const rounds = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 4));
  };
  return { loop, clock, counted, rounds };
}

Deno.test("auto repair: a round scans every file's health only when woken, by hand or after scanIntervalMs", async () => {
  const { loop, clock, counted, rounds } = scanningLoop();
  try {
    loop.start();
    await rounds(20);
    assert.equal(counted.scans, 1, "the first round scans, the next ones (not woken) do not");
    loop.wake();
    await rounds(20);
    assert.equal(counted.scans, 2, "a wake asks for one scan");
    loop.retryWaiting();
    await rounds(20);
    assert.equal(counted.scans, 3, "a datanode back asks for one scan");
    clock.advance(59_000);
    await rounds(20);
    assert.equal(counted.scans, 3);
    clock.advance(1_000);
    await rounds(20);
    assert.equal(counted.scans, 4, "a scan at most scanIntervalMs after the last one");
    await loop.runOnce();
    assert.equal(counted.scans, 5, "a round by hand scans");
  } finally {
    await loop.stop();
  }
});

Deno.test("auto repair: a scan that took long waits SCAN_REST_FACTOR times as long before the next one no one woke it for", async () => {
  // A scan of a large namespace: 10 s by the loop's clock.
  const { loop, clock, counted, rounds } = scanningLoop(10_000);
  try {
    loop.start();
    await rounds(10);
    assert.equal(counted.scans, 1);
    // 60 s (scanIntervalMs) is not enough after a 10 s scan: 19 x 10 s = 190 s is.
    clock.advance(60_000);
    await rounds(10);
    assert.equal(counted.scans, 1, "not after scanIntervalMs when the scan took a twentieth of it");
    // The scan started at 0 and ended at 10 s: 189 s after its start.
    clock.advance(189_000 - 70_000);
    await rounds(10);
    assert.equal(counted.scans, 1);
    clock.advance(1_000);
    await rounds(10);
    assert.equal(counted.scans, 2, `after ${SCAN_REST_FACTOR} times the scan's own time`);
    // A wake still scans at once.
    loop.wake();
    await rounds(10);
    assert.equal(counted.scans, 3, "a wake asks for one scan, whatever the last one cost");
  } finally {
    await loop.stop();
  }
});
