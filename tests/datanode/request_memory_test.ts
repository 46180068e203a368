import assert from "node:assert/strict";
import { CdfsError, isCdfsError } from "../../src/core/errors.ts";
import { RequestMemory } from "../../src/datanode/request_memory.ts";

const id = (n: number) => n.toString(16).padStart(32, "0");

Deno.test("RequestMemory: a second request with an id waits for the first and gets its outcome", async () => {
  const memory = new RequestMemory();
  let runs = 0;
  let finish!: () => void;
  const first = memory.once(id(1), "b", () => {
    runs++;
    return new Promise<string>((resolve) => finish = () => resolve("done"));
  });
  const second = memory.once(id(1), "b", () => Promise.resolve(`run ${++runs}`));
  finish();
  assert.deepEqual(await Promise.all([first, second]), ["done", "done"]);
  assert.equal(runs, 1);
});

Deno.test("RequestMemory: NOT_FOUND is remembered, other failures are not", async () => {
  const memory = new RequestMemory();
  const missing = () => Promise.reject(new CdfsError("NOT_FOUND", "gone"));
  await assert.rejects(memory.once(id(1), "b", missing), (e) => isCdfsError(e, "NOT_FOUND"));
  await assert.rejects(
    memory.once(id(1), "b", () => Promise.resolve("second")),
    (e) => isCdfsError(e, "NOT_FOUND"),
  );
  const broken = () => Promise.reject(new CdfsError("UNAVAILABLE", "disk"));
  await assert.rejects(memory.once(id(2), "b", broken));
  assert.equal(await memory.once(id(2), "b", () => Promise.resolve("again")), "again");
});

Deno.test("RequestMemory: bounded in count and in time", async () => {
  let now = 0;
  const memory = new RequestMemory({ max: 3, ttlMs: 1000, now: () => now });
  for (let i = 0; i < 5; i++) await memory.once(id(i), "b", () => Promise.resolve(i));
  assert.equal(memory.size, 3);
  // The oldest were forgotten: their ids run again.
  assert.equal(await memory.once(id(0), "b", () => Promise.resolve("new")), "new");
  assert.equal(await memory.once(id(4), "b", () => Promise.resolve("new")), 4);
  now = 5000;
  assert.equal(await memory.once(id(4), "b", () => Promise.resolve("later")), "later");
  assert.equal(memory.size, 1);
});
