import assert from "node:assert/strict";
import { BufferQueue, DEFAULT_QUEUE_CAPACITY } from "../../../src/coding/runtime/buffer_queue.ts";
import { RunRegistry } from "../../../src/coding/runtime/run_registry.ts";
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
