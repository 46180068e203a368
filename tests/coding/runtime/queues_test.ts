import assert from "node:assert/strict";
import { isCdfsError } from "../../../src/core/errors.ts";
import {
  BufferQueue,
  DEFAULT_QUEUE_CAPACITY,
  RunRegistry,
} from "../../../src/coding/runtime/queues.ts";
import { smallPool } from "./interpreter_support.ts";

/** Lets pending promise callbacks run. */
function settle(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("a queue is FIFO and hands over the references it holds", async () => {
  const pool = smallPool(64, 8);
  const queue = new BufferQueue("q", 4);
  for (let i = 0; i < 3; i++) {
    const buffer = await pool.acquire();
    buffer.bytes[0] = i;
    await queue.push(buffer, 10 + i);
  }
  assert.equal(queue.size, 3);
  assert.equal(pool.inUse, 3);
  for (let i = 0; i < 3; i++) {
    const { buffer, length } = await queue.pop();
    assert.equal(buffer.bytes[0], i);
    assert.equal(length, 10 + i);
    buffer.release();
  }
  assert.equal(pool.inUse, 0);
  assert.ok(queue.idle);
});

Deno.test("PUSH waits while the queue is full; POP waits while it is empty", async () => {
  const pool = smallPool(64, 8);
  const queue = new BufferQueue("q", 2);
  await queue.push(await pool.acquire(), 1);
  await queue.push(await pool.acquire(), 2);
  let pushed = false;
  const third = queue.push(await pool.acquire(), 3).then(() => pushed = true);
  await settle();
  assert.equal(pushed, false, "the third push waits for room");
  assert.equal(queue.size, 2);
  (await queue.pop()).buffer.release();
  await third;
  assert.equal(pushed, true);
  assert.deepEqual([(await queue.pop()).length, (await queue.pop()).length], [2, 3]);

  let popped = false;
  const waiting = queue.pop().then((entry) => {
    popped = true;
    return entry;
  });
  await settle();
  assert.equal(popped, false, "pop waits for a push");
  await queue.push(await pool.acquire(), 4);
  const entry = await waiting;
  assert.equal(entry.length, 4);
  entry.buffer.release();
  // The popped buffers above were released by nobody yet: count them out.
  assert.equal(pool.inUse, 2);
});

Deno.test("closing a queue releases queued buffers and fails waiters and later calls", async () => {
  const pool = smallPool(64, 8);
  const full = new BufferQueue("full", 1);
  await full.push(await pool.acquire(), 1);
  const blocked = full.push(await pool.acquire(), 2);
  const empty = new BufferQueue("empty", 1);
  const popping = empty.pop();
  const reason = new Error("run aborted");
  full.close(reason);
  empty.close(reason);
  await assert.rejects(blocked, /run aborted/);
  await assert.rejects(popping, /run aborted/);
  assert.equal(pool.inUse, 0, "queued and waiting buffers are released");
  await assert.rejects(full.push(await pool.acquire(), 3), /run aborted/);
  await assert.rejects(full.pop(), /run aborted/);
  assert.equal(pool.inUse, 0, "a push after close releases its buffer");
  full.close(new Error("again")); // idempotent
});

Deno.test("an aborted signal gives up waiting and releases the waiting buffer", async () => {
  const pool = smallPool(64, 8);
  const queue = new BufferQueue("q", 1);
  await queue.push(await pool.acquire(), 1);
  const controller = new AbortController();
  const push = queue.push(await pool.acquire(), 2, controller.signal);
  controller.abort(new Error("cancelled"));
  await assert.rejects(push, /cancelled/);
  assert.equal(pool.inUse, 1);
  (await queue.pop()).buffer.release();
  const pop = queue.pop(AbortSignal.timeout(5));
  await assert.rejects(pop, (e) => e instanceof DOMException && e.name === "TimeoutError");
  assert.ok(queue.idle);
});

Deno.test("bad capacities are refused", () => {
  assert.throws(() => new BufferQueue("q", 0), RangeError);
  assert.throws(() => new RunRegistry({ queueCapacity: 1.5 }), RangeError);
  assert.throws(() => new RunRegistry({ ttlMs: 0 }), RangeError);
  assert.equal(new RunRegistry().queueCapacity, DEFAULT_QUEUE_CAPACITY);
});

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
