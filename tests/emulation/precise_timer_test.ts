import assert from "node:assert/strict";
import { PreciseTimer } from "../../src/emulation/precise_timer.ts";

Deno.test("PreciseTimer: concurrent sleeps resolve in deadline order", async () => {
  const timer = new PreciseTimer();
  try {
    await timer.warmUp();
    const order: number[] = [];
    const lengths = [40, 5, 25, 15, 35];
    await Promise.all(lengths.map((ms) => timer.sleep(ms).then(() => order.push(ms))));
    assert.deepEqual(order, [...lengths].sort((a, b) => a - b));
  } finally {
    timer.close();
  }
});

Deno.test("PreciseTimer: a sleep lasts about as long as asked, never far less", async () => {
  const timer = new PreciseTimer();
  try {
    await timer.warmUp();
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await timer.sleep(8);
      const took = performance.now() - start;
      // It may wake early by the lateness it has learned, which is bounded to 2 ms.
      assert.ok(took >= 8 - 2, `slept ${took} ms for 8`);
    }
    assert.ok(timer.compensationMs >= 0 && timer.compensationMs <= 2);
  } finally {
    timer.close();
  }
});

Deno.test("PreciseTimer: zero and negative sleeps resolve at once; close() releases waiters", async () => {
  const timer = new PreciseTimer();
  await timer.sleep(0);
  await timer.sleep(-5);
  const long = timer.sleep(60_000);
  timer.close();
  await long; // would time the test out if close() did not release it
  await timer.sleep(60_000); // closed: at once
});
