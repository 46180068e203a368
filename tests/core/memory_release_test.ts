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

/** A watch whose delayed releases wait in `due` until run by hand. */
function watch(minDrop = 256) {
  const due: (() => void)[] = [];
  let released = 0;
  const release = new StormMemoryRelease({
    release: () => released++,
    minDrop,
    schedule: (fn) => due.push(fn),
  });
  return { release, due, released: () => released };
}

Deno.test("StormMemoryRelease: one release once a storm has fallen to an eighth of its peak", () => {
  const w = watch();
  for (let open = 1; open <= 3000; open++) w.release.connectionsNow(open);
  for (let open = 2999; open > 375; open--) w.release.connectionsNow(open);
  assert.equal(w.due.length, 0, "376 of 3000 still open: not yet");
  w.release.connectionsNow(375);
  for (let open = 374; open >= 0; open--) w.release.connectionsNow(open);
  assert.equal(w.due.length, 1, "one release asked for, however many closed after");
  w.due.shift()!();
  assert.equal(w.released(), 1);
  // The peak starts again from what is open: small waves release nothing.
  for (let wave = 0; wave < 5; wave++) {
    for (let open = 0; open <= 200; open++) w.release.connectionsNow(open);
    for (let open = 200; open >= 0; open--) w.release.connectionsNow(open);
  }
  assert.equal(w.due.length, 0);
  // The next storm releases again.
  for (let open = 0; open <= 600; open++) w.release.connectionsNow(open);
  w.release.connectionsNow(10);
  assert.equal(w.due.length, 1);
  w.due.shift()!();
  assert.equal(w.released(), 2);
});

Deno.test("StormMemoryRelease: a release that fails changes nothing", () => {
  const due: (() => void)[] = [];
  const release = new StormMemoryRelease({
    release: () => {
      throw new Error("no");
    },
    schedule: (fn) => due.push(fn),
  });
  release.connectionsNow(1000);
  release.connectionsNow(0);
  assert.doesNotThrow(() => due.shift()!());
  release.connectionsNow(1000);
  release.connectionsNow(0);
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

Deno.test("FrameServer: memory is released once a storm of 300 connections has closed", async () => {
  let released = 0;
  const server = new FrameServer<RequestState>({
    listener: listenTcp({ hostname: "127.0.0.1", port: 0 }, 0),
    shutdownGraceMs: 0,
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
    while (server.connections < 300 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(server.connections, 300);
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
