/**
 * Fault injection: a node partitioned away in the middle of a pipeline. Node 7 of 16
 * in-process datanodes is reached through a delay relay (`src/emulation/relay.ts`, what
 * `cluster up --delay` puts in front of nodes) whose hold timer stops releasing bytes after a
 * number of chunks: the link goes silent both ways, no reset, no close, as a cable pulled or a
 * partition. The encode (pull and push), and a STORE to that node, must fail with an error that
 * names the node within the stall timeout asked for, and never hang; nothing is left visible.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { DelayRelay } from "../../src/emulation/relay.ts";
import type { Sleeper } from "../../src/emulation/precise_timer.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { runCdfs } from "../helpers/cli.ts";
import { type InProcessCluster, startCluster } from "../helpers/in_process_cluster.ts";
import { tempDir } from "../helpers/temp_dir.ts";
import { DigestBook, scanBlocks } from "./_scan.ts";

/** The node behind the relay. */
const CUT = 7;
/** The stall timeout given to the commands. */
const STALL_MS = 1500;
/** How long a command may take at most before the test calls it a hang. */
const HANG_MS = 60_000;

/**
 * A hold timer that releases every chunk at once until it has released `after` of them, and
 * from then on none: the relay's link is cut, silently.
 */
class CuttingSleeper implements Sleeper {
  #released = 0;
  #after = Infinity;
  readonly #parked: (() => void)[] = [];

  /** Stops releasing after `after` more chunks. */
  cutAfter(after: number): void {
    this.#after = this.#released + after;
  }

  sleep(_ms: number): Promise<void> {
    if (this.#released >= this.#after) {
      return new Promise((resolve) => this.#parked.push(resolve));
    }
    this.#released++;
    return Promise.resolve();
  }

  close(): void {
    for (const resolve of this.#parked.splice(0)) resolve();
  }
}

/** The relay in front of node CUT: every chunk held "1 s", which the sleeper ignores. */
function cuttableRelay(port: number, sleeper: CuttingSleeper): DelayRelay {
  const hold = { delayMs: 1000, jitterMs: 0 };
  return DelayRelay.listen({
    listen: { hostname: "127.0.0.1", port: 0 },
    target: { hostname: "127.0.0.1", port },
    toPeer: hold,
    toTargetDefault: hold,
    sleeper,
  });
}

/** Runs a command, failing the test if it has not ended within `bound` ms (HANG_MS). */
async function withinBound<T>(what: string, work: Promise<T>, bound = HANG_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no end within ${bound} ms`)), bound);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * 16 in-process datanodes, node CUT reached through a relay that is not cut yet, and object "o"
 * of `bytes` random bytes put as RapidRAID parts through it; `common` are the options naming
 * the nodes (CUT by its relay, `cut`). Everything is stopped once `test` has ended.
 */
async function withObjectBehindCut(
  bytes: number,
  test: (
    setup: { cluster: InProcessCluster; sleeper: CuttingSleeper; cut: string; common: string[] },
  ) => Promise<void>,
): Promise<void> {
  await using cluster = await startCluster(16);
  await using dir = await tempDir("cdfs-partition-");
  const sleeper = new CuttingSleeper();
  await using relay = cuttableRelay(Number(cluster.nodes[CUT]!.split(":")[1]), sleeper);
  const cut = `127.0.0.1:${relay.addr.port}`;
  const nodes = cluster.nodes.map((n, i) => i === CUT ? cut : n);
  const input = join(dir.path, "input");
  await Deno.writeFile(input, randomBytes(bytes));
  const common = ["--nodes", nodes.join(","), "--chunk-size", "16K"];
  const put = await runCdfs(["object", "put-parts", "--code", "rapidraid", ...common, input, "o"]);
  assert.equal(put.code, 0, put.err);
  await test({ cluster, sleeper, cut, common });
}

for (const mode of ["pull", "push"] as const) {
  Deno.test({
    name: `partition: node ${CUT} cut mid-pipeline in a ${mode} encode fails naming it, no hang`,
  }, async (t) => {
    await withObjectBehindCut(512 * 1024, async ({ cluster, sleeper, cut, common }) => {
      // The cut comes a few chunks into the encode: the pipeline is under way.
      sleeper.cutAfter(6);
      const started = performance.now();
      const encode = await withinBound(
        "encode",
        runCdfs([
          "object",
          "encode",
          ...common,
          "--timeout",
          `${STALL_MS}ms`,
          ...(mode === "push" ? ["--push"] : []),
          "o",
        ]),
      );
      const tookMs = performance.now() - started;
      assert.equal(encode.code, 1, encode.out);
      assert.ok(encode.err.includes(cut), `the error names ${cut}: ${encode.err}`);
      assert.match(encode.err, /TIMEOUT|UNAVAILABLE|stall|sent nothing|timed out/i, encode.err);
      // No coded block of the failed run is visible, on any node.
      sleeper.close();
      const report = await scanBlocks(cluster.nodes, new DigestBook(), "o.coded");
      assert.deepEqual([report.blocks, report.problems], [0, []]);
      await t.step(`failed after ${Math.round(tookMs)} ms: ${encode.err.trim()}`, () => {});
    });
  });
}

// The manifest read that finds an object's module (no --code) was once left at the default
// 60 s idle timeout: a node cut just after the handshake held the whole command that long.
Deno.test("partition: a node cut after the handshake holds no command past --timeout", async () => {
  await withObjectBehindCut(64 * 1024, async ({ sleeper, cut, common }) => {
    // The handshake of the command's first connection to the node passes; what follows does not.
    sleeper.cutAfter(3);
    const encode = await withinBound(
      "encode",
      runCdfs(["object", "encode", ...common, "--timeout", `${STALL_MS}ms`, "o"]),
      20_000,
    );
    assert.equal(encode.code, 1, encode.out);
    assert.ok(encode.err.includes(cut), `the error names ${cut}: ${encode.err}`);
    sleeper.close();
  });
});

Deno.test(`partition: a STORE to a node cut mid-transfer fails with TIMEOUT naming it`, async () => {
  await using cluster = await startCluster(1);
  const sleeper = new CuttingSleeper();
  await using relay = cuttableRelay(Number(cluster.nodes[0]!.split(":")[1]), sleeper);
  const cut = `127.0.0.1:${relay.addr.port}`;
  using client = await DataNodeClient.connect(cut, { idleTimeoutMs: STALL_MS });
  sleeper.cutAfter(4);
  const data = randomBytes(4 << 20);
  const chunks = Array.from({ length: 64 }, (_, i) => data.subarray(i << 16, (i + 1) << 16));
  const error = await withinBound(
    "store",
    client.store("b", chunks, { chunkSize: 64 * 1024 }).then(() => undefined, (e) => e),
  );
  assert.ok(isCdfsError(error, "TIMEOUT"), `TIMEOUT, got ${error}`);
  assert.ok(error.message.includes(cut), `the error names ${cut}: ${error.message}`);
  sleeper.close();
  // The node gives up on the cut connection (its own timeouts) and keeps nothing of it.
  using direct = await DataNodeClient.connect(cluster.nodes[0]!);
  assert.deepEqual(await Array.fromAsync(direct.listAll()), []);
});
