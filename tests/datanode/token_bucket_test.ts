import assert from "node:assert/strict";
import { type Clock, TokenBucket } from "../../src/datanode/token_bucket.ts";

/** A clock whose sleeps pass at once, advancing its time: the bucket's waits, summed. */
function fakeClock(): Clock & { sleeps: number } {
  const clock = {
    time: 0,
    sleeps: 0,
    now: () => clock.time,
    sleep: (ms: number) => {
      clock.sleeps++;
      clock.time += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

Deno.test("the bucket holds its rate: 64 MiB through an 8 MiB/s bucket takes 8 s less the burst", async () => {
  const clock = fakeClock();
  const rate = 8 << 20;
  const burst = rate / 10;
  const bucket = new TokenBucket(rate, { burst, clock });
  let total = 0;
  // Chunks of uneven sizes, larger and smaller than the burst.
  for (let i = 0; total < 64 << 20; i++) {
    const n = [1 << 20, 4096, 300_000, 2 << 20][i % 4]!;
    await bucket.take(n);
    total += n;
  }
  const seconds = clock.now() / 1000;
  const lower = (total - burst) / rate;
  assert.ok(seconds >= lower - 1e-9, `${seconds} s for ${total} bytes, at least ${lower} s`);
  assert.ok(seconds <= total / rate + 1e-9, `${seconds} s for ${total} bytes`);
});

Deno.test("the bucket lets a burst through without waiting, and refills with time", async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket(1000, { burst: 500, clock });
  await bucket.take(500);
  assert.equal(clock.sleeps, 0);
  await bucket.take(100); // 100 in debt: 0.1 s
  assert.equal(clock.sleeps, 1);
  assert.equal(clock.now(), 100);
  const time = clock as unknown as { time: number };
  time.time += 10_000; // idle: full again, but never above the burst
  await bucket.take(500);
  assert.equal(clock.sleeps, 1);
  await bucket.take(1);
  assert.equal(clock.sleeps, 2);
});

Deno.test("a wait of the bucket ends with its signal", async () => {
  const bucket = new TokenBucket(1, { burst: 1 }); // the real clock: a 1000 s wait
  const controller = new AbortController();
  const waiting = bucket.take(1001, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
});

Deno.test("a bucket refuses a rate or burst that is not a positive number", () => {
  assert.throws(() => new TokenBucket(0), RangeError);
  assert.throws(() => new TokenBucket(Infinity), RangeError);
  assert.throws(() => new TokenBucket(10, { burst: -1 }), RangeError);
});
