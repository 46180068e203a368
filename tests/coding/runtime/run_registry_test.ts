import assert from "node:assert/strict";
import { isCdfsError } from "../../../src/core/errors.ts";
import { RunRegistry } from "../../../src/coding/runtime/run_registry.ts";
import { smallPool } from "./interpreter_support.ts";

/** Lets pending promise callbacks run. */
function settle(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("runs are keyed by run id and node", () => {
  const runs = new RunRegistry();
  const a = runs.join("r", 0);
  const b = runs.join("r", 1);
  const c = runs.join("s", 0);
  assert.equal(runs.size, 3);
  assert.notEqual(a.queue("queue"), b.queue("queue"), "two logical nodes never share a queue");
  assert.notEqual(a.queue("queue"), c.queue("queue"));
  assert.equal(a.queue("queue"), runs.join("r", 0).queue("queue"));
  runs.close();
  assert.equal(runs.size, 0);
});

Deno.test("a run ends when every member left and its queues are empty", async () => {
  const pool = smallPool(64, 8);
  const runs = new RunRegistry();
  const pusher = runs.join("r", 2);
  pusher.setLength(100);
  await pusher.queue("q").push(await pool.acquire(), 100);
  pusher.leave();
  pusher.leave(); // idempotent
  assert.equal(runs.size, 1, "queued data keeps the run");
  const aux = runs.join("r", 2);
  assert.equal(await aux.length(), 100);
  (await aux.queue("q").pop()).buffer.release();
  assert.equal(runs.size, 1, "a member is still in");
  aux.leave();
  assert.equal(runs.size, 0);
  assert.equal(pool.inUse, 0);
  runs.close();
});

Deno.test("a late aux program of an ended run still learns the length", async () => {
  const runs = new RunRegistry();
  const pusher = runs.join("empty", 0);
  pusher.setLength(0); // a zero-length run pushes nothing and ends at once
  pusher.leave();
  assert.equal(runs.size, 0);
  const aux = runs.join("empty", 0);
  assert.equal(await aux.length(), 0);
  aux.leave();
  runs.close();
});

Deno.test("length() waits for the program that records it; a different length is refused", async () => {
  const runs = new RunRegistry();
  const aux = runs.join("r", 0);
  const pending = aux.length();
  const pusher = runs.join("r", 0);
  pusher.setLength(42);
  assert.equal(await pending, 42);
  assert.throws(
    () => runs.join("r", 0).setLength(41),
    (e) => isCdfsError(e, "BAD_REQUEST") && /41 differs from the length 42/.test(e.message),
  );
  runs.close();
});

Deno.test("an idle run is dropped after the TTL: buffers released, waiters get TIMEOUT", async () => {
  const pool = smallPool(64, 8);
  const runs = new RunRegistry({ ttlMs: 30 });
  const pusher = runs.join("r", 0);
  await pusher.queue("q").push(await pool.acquire(), 1);
  pusher.leave(); // nobody ever pops: an abandoned run
  const waiter = runs.join("other", 1);
  const lengthWait = waiter.length();
  const popWait = waiter.queue("q").pop();
  await assert.rejects(lengthWait, (e) => isCdfsError(e, "TIMEOUT") && /idle/.test(e.message));
  await assert.rejects(popWait, (e) => isCdfsError(e, "TIMEOUT"));
  await settle(40);
  assert.equal(runs.size, 0);
  assert.equal(pool.inUse, 0);
  runs.close();
});

Deno.test("activity keeps a run alive past the TTL", async () => {
  const pool = smallPool(64, 8);
  const runs = new RunRegistry({ ttlMs: 60 });
  const member = runs.join("r", 0);
  const queue = member.queue("q");
  for (let i = 0; i < 6; i++) {
    await settle(20);
    await queue.push(await pool.acquire(), 1);
    (await queue.pop()).buffer.release();
  }
  assert.equal(runs.size, 1, "120 ms of activity with a 60 ms TTL");
  member.leave();
  assert.equal(runs.size, 0);
  runs.close();
});

Deno.test("abortRun fails the run on every node and releases its buffers", async () => {
  const pool = smallPool(64, 8);
  const runs = new RunRegistry();
  const a = runs.join("r", 0);
  const b = runs.join("r", 1);
  const other = runs.join("s", 0);
  await a.queue("q").push(await pool.acquire(), 1);
  const waiting = b.queue("q").pop();
  runs.abortRun("r", new Error("node 3 failed"));
  await assert.rejects(waiting, /node 3 failed/);
  await assert.rejects(a.length(), /node 3 failed/);
  assert.ok(a.queue("fresh").closed, "queues made after the abort are closed too");
  assert.equal(pool.inUse, 0);
  assert.equal(runs.size, 1, "other runs are untouched");
  other.leave();
  runs.close();
});
