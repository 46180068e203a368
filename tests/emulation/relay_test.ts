/**
 * The delay relay on loopback, in this process (no root needed). Holds are checked through a
 * recording sleeper (which hold each direction asks for) and, with the real timer, as a lower
 * bound only: the timings themselves are measured in netns_test.ts and docs/netem.md.
 */
import assert from "node:assert/strict";
import { DelayRelay, type DelayRelayOptions, sampleHold } from "../../src/emulation/relay.ts";
import type { Sleeper } from "../../src/emulation/precise_timer.ts";
import { concatBytes, randomBytes } from "../helpers/bytes.ts";

/** An echo server on loopback. */
function echoServer(): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      const done = (async () => {
        const buffer = new Uint8Array(65536);
        try {
          for (;;) {
            const n = await conn.read(buffer);
            if (n === null) break;
            await writeAll(conn, buffer.subarray(0, n));
          }
          await conn.closeWrite();
        } catch {
          // Reset by the relay.
        } finally {
          conn.close();
        }
      })();
      connections.add(done);
      done.then(() => connections.delete(done));
    }
  })();
  return {
    port: listener.addr.port,
    async close() {
      listener.close();
      await accepting;
      await Promise.all(connections);
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

async function readExactly(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await conn.read(out.subarray(got));
    if (n === null) throw new Error(`the stream ended after ${got} of ${length} bytes`);
    got += n;
  }
  return out;
}

async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    parts.push(buffer.slice(0, n));
  }
  return concatBytes(parts);
}

/** A sleeper that resolves at once and records what it was asked. */
function recordingSleeper(): Sleeper & { asked: number[] } {
  const asked: number[] = [];
  return { asked, sleep: (ms) => (asked.push(ms), Promise.resolve()), close: () => {} };
}

/** A sleeper that holds every sleep until `open()`. */
function gateSleeper(): Sleeper & { open(): void; waiting(): number } {
  const waiting: (() => void)[] = [];
  let opened = false;
  return {
    sleep: () => opened ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve)),
    close: () => {},
    open() {
      opened = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
    waiting: () => waiting.length,
  };
}

function relayTo(port: number, options: Partial<DelayRelayOptions> = {}): DelayRelay {
  return DelayRelay.listen({
    listen: { hostname: "127.0.0.1", port: 0 },
    target: { hostname: "127.0.0.1", port },
    toPeer: { delayMs: 0, jitterMs: 0 },
    ...options,
  });
}

Deno.test("sampleHold is uniform in delay ± jitter and never negative", () => {
  const hold = { delayMs: 10, jitterMs: 4 };
  assert.equal(sampleHold(hold, () => 0), 6);
  assert.equal(sampleHold(hold, () => 0.5), 10);
  assert.ok(Math.abs(sampleHold(hold, () => 0.999999) - 14) < 1e-4);
  assert.equal(sampleHold({ delayMs: 3, jitterMs: 0 }, () => 0.9), 3);
  assert.equal(sampleHold({ delayMs: 2, jitterMs: 2 }, () => 0), 0);
  let sum = 0;
  for (let i = 0; i < 10_000; i++) sum += sampleHold(hold, Math.random);
  assert.ok(Math.abs(sum / 10_000 - 10) < 0.2);
});

Deno.test("relay: 4 MiB through the relay and back, intact and in order, with jitter", async () => {
  const echo = echoServer();
  const relay = relayTo(echo.port, {
    toPeer: { delayMs: 2, jitterMs: 2 },
    toTargetDefault: { delayMs: 2, jitterMs: 2 },
  });
  try {
    await relay.ready;
    const data = randomBytes(4 * 1024 * 1024);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port });
    const [, back] = await Promise.all([
      (async () => {
        for (let i = 0; i < data.length; i += 100_000) {
          await writeAll(conn, data.subarray(i, i + 100_000));
        }
        await conn.closeWrite();
      })(),
      readToEnd(conn),
    ]);
    conn.close();
    assert.equal(back.length, data.length);
    assert.ok(back.every((byte, i) => byte === data[i]), "the bytes differ");
    assert.equal(relay.stats.bytesToTarget, data.length);
    assert.equal(relay.stats.bytesToPeer, data.length);
    assert.ok(relay.stats.heldChunks > 0);
  } finally {
    await relay.close();
    await echo.close();
  }
});

Deno.test("relay: each direction asks for its own hold; a listed peer gets its own delay", async () => {
  const echo = echoServer();
  for (const [byPeer, expectedToTarget] of [[false, 30], [true, 45]] as const) {
    const sleeper = recordingSleeper();
    const relay = relayTo(echo.port, {
      toPeer: { delayMs: 70, jitterMs: 0 },
      toTargetDefault: { delayMs: 30, jitterMs: 0 },
      ...(byPeer ? { toTargetByPeer: new Map([["127.0.0.1", { delayMs: 45, jitterMs: 0 }]]) } : {}),
      sleeper,
    });
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port });
      await writeAll(conn, new Uint8Array([1, 2, 3]));
      assert.deepEqual([...await readExactly(conn, 3)], [1, 2, 3]);
      conn.close();
      // One chunk each way: first toward the target, then back. A sleep is asked right after
      // the read, so it is the hold minus a little time already gone.
      assert.equal(sleeper.asked.length, 2, `asked ${sleeper.asked}`);
      const [toTarget, toPeer] = sleeper.asked as [number, number];
      assert.ok(toTarget <= expectedToTarget && toTarget > expectedToTarget - 10, `${toTarget}`);
      assert.ok(toPeer <= 70 && toPeer > 60, `${toPeer}`);
    } finally {
      await relay.close();
    }
  }
  await echo.close();
});

Deno.test("relay: a peer that is the node itself gets no hold either way", async () => {
  const echo = echoServer();
  const sleeper = recordingSleeper();
  const relay = relayTo(echo.port, {
    toPeer: { delayMs: 70, jitterMs: 0 },
    toTargetDefault: { delayMs: 30, jitterMs: 0 },
    localAddresses: ["127.0.0.1"],
    sleeper,
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port });
    await writeAll(conn, new Uint8Array([9]));
    assert.deepEqual([...await readExactly(conn, 1)], [9]);
    conn.close();
    assert.deepEqual(sleeper.asked, []);
    assert.equal(relay.stats.heldChunks, 0);
  } finally {
    await relay.close();
    await echo.close();
  }
});

Deno.test("relay: with the real timer no reply comes back before both holds", async () => {
  const echo = echoServer();
  const relay = relayTo(echo.port, {
    toPeer: { delayMs: 15, jitterMs: 0 },
    toTargetDefault: { delayMs: 15, jitterMs: 0 },
  });
  try {
    await relay.ready;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port });
    conn.setNoDelay(true);
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await writeAll(conn, new Uint8Array([i]));
      await readExactly(conn, 1);
      // The timer may wake early by the lateness it has seen, which it bounds to 2 ms a hold.
      const roundTrip = performance.now() - start;
      assert.ok(roundTrip >= 30 - 4, `round trip ${roundTrip} ms with 15 ms holds each way`);
    }
    conn.close();
  } finally {
    await relay.close();
    await echo.close();
  }
});

Deno.test("relay: holds at most maxBufferedBytes per direction; the sender is held back", async () => {
  // The target accepts but does not read until told to.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sleeper = gateSleeper();
  const bound = 256 * 1024;
  const relay = relayTo(listener.addr.port, {
    toTargetDefault: { delayMs: 1000, jitterMs: 0 },
    maxBufferedBytes: bound,
    sleeper,
  });
  const total = 64 * 1024 * 1024;
  let sent = 0;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port });
  const target = await listener.accept();
  try {
    const sending = (async () => {
      const chunk = new Uint8Array(256 * 1024);
      while (sent < total) {
        sent += await conn.write(chunk.subarray(0, Math.min(chunk.length, total - sent)));
      }
      await conn.closeWrite();
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Nothing was released (every hold is still waiting): the relay holds at most `bound`,
    // the rest sits in socket buffers, far below the 64 MiB the sender wants to send.
    assert.equal(relay.stats.bytesToTarget, 0);
    assert.ok(relay.stats.heldBytesPeak <= bound, `held ${relay.stats.heldBytesPeak}`);
    assert.ok(relay.stats.heldBytesPeak > 0);
    assert.ok(sent < 32 * 1024 * 1024, `the sender got ${sent} bytes out without backpressure`);
    // Release: everything arrives.
    sleeper.open();
    const received = await readToEnd(target);
    await sending;
    assert.equal(received.length, total);
    assert.ok(relay.stats.heldBytesPeak <= bound);
  } finally {
    conn.close();
    target.close();
    listener.close();
    await relay.close();
  }
});

Deno.test("relay: a half-close travels through, and the answer after it comes back", async () => {
  // A server that reads to the end, then answers with the byte count and closes.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    const got = await readToEnd(conn);
    await writeAll(conn, new TextEncoder().encode(`got ${got.length}`));
    conn.close();
  })();
  const relay = relayTo(listener.addr.port, {
    toPeer: { delayMs: 3, jitterMs: 1 },
    toTargetDefault: { delayMs: 3, jitterMs: 1 },
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port });
    await writeAll(conn, new Uint8Array(100_000));
    await conn.closeWrite();
    assert.equal(new TextDecoder().decode(await readToEnd(conn)), "got 100000");
    conn.close();
    await serving;
  } finally {
    listener.close();
    await relay.close();
  }
});

Deno.test("relay: a target that refuses closes the peer's connection and counts a failure", async () => {
  const unused = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = unused.addr.port;
  unused.close();
  const relay = relayTo(port);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port });
    const ended = await conn.read(new Uint8Array(10)).then((n) => n === null, () => true);
    assert.ok(ended);
    conn.close();
    assert.equal(relay.stats.failed, 1);
    assert.equal(relay.stats.accepted, 1);
  } finally {
    await relay.close();
  }
});

Deno.test("relay: close() ends the open connections and stops accepting", async () => {
  const echo = echoServer();
  const relay = relayTo(echo.port, { sleeper: gateSleeper(), toPeer: { delayMs: 5, jitterMs: 0 } });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port });
  await writeAll(conn, new Uint8Array([1]));
  while (relay.stats.open === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await relay.close();
  const ended = await conn.read(new Uint8Array(10)).then((n) => n === null, () => true);
  assert.ok(ended);
  conn.close();
  assert.equal(relay.stats.open, 0);
  assert.equal(relay.stats.failed, 0);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: relay.addr.port }));
  await echo.close();
});

Deno.test("relay: invalid options are refused", () => {
  const base = {
    listen: { hostname: "127.0.0.1", port: 0 },
    target: { hostname: "127.0.0.1", port: 1 },
    toPeer: { delayMs: 0, jitterMs: 0 },
  };
  assert.throws(() => DelayRelay.listen({ ...base, maxBufferedBytes: 1000 }), RangeError);
  assert.throws(
    () => DelayRelay.listen({ ...base, toPeer: { delayMs: 1, jitterMs: 2 } }),
    RangeError,
  );
  assert.throws(
    () => DelayRelay.listen({ ...base, toTargetDefault: { delayMs: -1, jitterMs: 0 } }),
    RangeError,
  );
});
