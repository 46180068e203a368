import assert from "node:assert/strict";
import {
  fullGc,
  mallocTrim,
  releaseMemory,
  StormMemoryRelease,
} from "../../src/core/memory_release.ts";
import { FrameServer } from "../../src/protocol/frame_server.ts";
import type { RequestState } from "../../src/protocol/frame_server_handler.ts";
import { listenTcp } from "../../src/protocol/listen.ts";

/** A watch whose delayed releases wait in `due` until run by hand, on a clock of its own. */
function watch() {
  const due: (() => void)[] = [];
  const waits: number[] = [];
  let released = 0;
  let now = 0;
  const release = new StormMemoryRelease({
    release: () => released++,
    schedule: (fn, ms) => {
      due.push(fn);
      waits.push(ms);
    },
    now: () => now,
  });
  return { release, due, waits, released: () => released, advance: (ms: number) => now += ms };
}

Deno.test("StormMemoryRelease: one release once a storm has fallen to an eighth of its peak", () => {
  const w = watch();
  for (let open = 1; open <= 3000; open++) w.release.opened(open);
  for (let open = 2999; open > 375; open--) w.release.ended(open);
  assert.equal(w.due.length, 0, "376 of 3000 still open: not yet");
  w.release.ended(375);
  for (let open = 374; open >= 0; open--) w.release.ended(open);
  assert.equal(w.due.length, 1, "one release asked for, however many closed after");
  w.due.shift()!();
  assert.equal(w.released(), 1);
  assert.equal(w.waits.shift(), 1000, "a second after the fall");
  // Counting starts again; a storm 10 s after the release waits for 30 s to have passed.
  w.advance(10_000);
  for (let open = 1; open <= 600; open++) w.release.opened(open);
  for (let open = 599; open >= 0; open--) w.release.ended(open);
  assert.equal(w.due.length, 1);
  assert.equal(w.waits.shift(), 20_000, "the rest of the 30 s since the last release");
  w.due.shift()!();
  assert.equal(w.released(), 2);
});

Deno.test("StormMemoryRelease: a storm refused at the cap counts, small waves do not", () => {
  const w = watch();
  // A cap of 256: the storm fills it, the rest is refused (ended with 256 still open).
  for (let open = 1; open <= 256; open++) w.release.opened(open);
  for (let i = 0; i < 2000; i++) w.release.ended(256);
  assert.equal(w.due.length, 0, "nothing while the storm holds the cap");
  for (let open = 255; open >= 20; open--) w.release.ended(open);
  assert.equal(w.due.length, 1);
  w.due.shift()!();
  // 200 connections coming and going: fewer than 256 ended since the release.
  for (let open = 21; open <= 200; open++) w.release.opened(open);
  for (let open = 199; open >= 0; open--) w.release.ended(open);
  assert.equal(w.due.length, 0);
  assert.equal(w.released(), 1);
});

Deno.test("StormMemoryRelease: a release that fails changes nothing", () => {
  const due: (() => void)[] = [];
  const release = new StormMemoryRelease({
    release: () => {
      throw new Error("no");
    },
    schedule: (fn) => due.push(fn),
    now: () => 0,
  });
  release.opened(1000);
  for (let i = 0; i < 300; i++) release.ended(0);
  assert.doesNotThrow(() => due.shift()!());
  release.opened(1000);
  for (let i = 0; i < 300; i++) release.ended(0);
  assert.equal(due.length, 1);
});

Deno.test("mallocTrim: glibc's malloc_trim is there on Linux with glibc, and can be called", () => {
  const trim = mallocTrim();
  if (Deno.build.os === "linux" && Deno.build.env === "gnu") {
    assert.equal(typeof trim, "function");
    trim!();
  }
  assert.equal(mallocTrim(), trim, "opened once");
});

Deno.test("FrameServer: memory is released once a storm of 300 connections, 200 of them refused at the cap, is over", async () => {
  let released = 0;
  const server = new FrameServer<RequestState>({
    listener: listenTcp({ hostname: "127.0.0.1", port: 0 }, 0),
    shutdownGraceMs: 0,
    maxConnections: 100,
    releaseMemory: () => released++,
  }, {
    request: (_connection, conn) => ({ conn, streaming: false, frameOpen: false }),
    serve: () => Promise.resolve(),
    outcome: () => {},
    acceptFailed: () => {},
    connectionFailed: () => {},
  });
  try {
    const port = server.addr.port;
    const storm = await Promise.all(
      Array.from({ length: 300 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    const deadline = performance.now() + 10_000;
    // Silent newcomers over the cap take the slots of older silent ones (told BUSY): the
    // storm churns through the cap while it lasts.
    while (server.connections < 100 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(server.connections >= 100, `${server.connections} open`);
    assert.equal(released, 0, "nothing released while the storm is on");
    for (const conn of storm) conn.close();
    while (released === 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(released, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("fullGc: collects what is no longer referenced", () => {
  const gc = fullGc();
  assert.equal(typeof gc, "function");
  let garbage: { i: number }[] | null = Array.from({ length: 1_000_000 }, (_, i) => ({ i }));
  const before = Deno.memoryUsage().heapUsed;
  garbage = null;
  gc!();
  const after = Deno.memoryUsage().heapUsed;
  assert.equal(garbage, null);
  assert.ok(after < before - (8 << 20), `heap used ${before >> 20} -> ${after >> 20} MiB`);
  assert.equal(typeof releaseMemory(), "function");
});
