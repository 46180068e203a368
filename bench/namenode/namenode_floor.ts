// deno-lint-ignore-file no-console
/**
 * The floor of a metadata server on this machine, for the one-client row of `cdfs bench
 * namenode`: `deno run -A bench/namenode/namenode_floor.ts [--ops N] [--rounds N]`.
 *
 * Three ways of doing a put's metadata writes with one client, in one run, rounds alternating:
 *
 * - **raw**: the raw SQLite writer of `namenode_raw.ts` in this process (the benchmark's anchor);
 * - **floor**: the same statements in a child process behind a bare TCP round trip per
 *   transaction: a request of a few bytes, the transaction, a reply of a few bytes. No framing,
 *   checksums, JSON, validation, placement or log: what any server pays here for being a server
 *   (two round trips between processes, and a database written by a process that waits for its
 *   client between transactions);
 * - **server**: a `cdfs namenode serve` child over its protocol (`NameNodeClient.createFile` +
 *   `commitFile`), as `cdfs bench namenode` times it.
 *
 * It prints ops/s of each and the ratios floor / raw, server / raw and server / floor.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { NameNodeChild } from "../../src/cluster/namenode_process.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { type LatencySample, measureOps, medianSample, serverWriter } from "./namenode_ops.ts";
import { type MetaWriter, rawSqlitePuts, rawSqliteWriter } from "./namenode_raw.ts";

// A request to the floor server: `C` creates (the reply is the file id), `M<id>` commits.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The floor server: the raw writer's transactions, one per request. */
async function serveFloor(path: string): Promise<void> {
  const puts = rawSqlitePuts(path);
  const run = crypto.randomUUID();
  let seq = 0;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`ready ${listener.addr.port}`);
  for await (const conn of listener) {
    conn.setNoDelay(true);
    const buffer = new Uint8Array(64);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const request = decoder.decode(buffer.subarray(0, n));
      let reply = "ok";
      if (request === "C") reply = String(puts.create(`floor/${run}/${seq++}`));
      else puts.commit(Number(request.slice(1)));
      await conn.write(encoder.encode(reply));
    }
    conn.close();
  }
}

/** The floor server as a child process and a writer that talks to it. */
async function floorWriter(path: string): Promise<MetaWriter> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--serve", path],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const ready = /^ready (\d+)/.exec((await lines.read()).value ?? "");
  if (ready === null) throw new Error("the floor server did not start");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(ready[1]) });
  conn.setNoDelay(true);
  const buffer = new Uint8Array(64);
  // Each reply fits one read: a few bytes, written at once.
  const call = async (request: string) => {
    await conn.write(encoder.encode(request));
    const n = await conn.read(buffer);
    if (n === null) throw new Error("the floor server closed the connection");
    return decoder.decode(buffer.subarray(0, n));
  };
  return {
    async op() {
      const id = await call("C");
      if (await call(`M${id}`) !== "ok") throw new Error(`the floor server did not commit ${id}`);
    },
    async close() {
      conn.close();
      child.kill();
      await child.status;
      await lines.cancel().catch(() => {});
    },
  };
}

/** A `cdfs namenode serve` child and the benchmark's server writer on it (`namenode_ops.ts`). */
async function namenodeWriter(dir: string): Promise<MetaWriter> {
  const namenode = NameNodeChild.spawn({
    launcher: selfLauncher((name) => Deno.env.get(name)),
    listen: "127.0.0.1:0",
    meta: `sqlite:${join(dir, "server.db")}`,
    log: join(dir, "namenode.log"),
    args: ["--dead-after", "3600s"],
  });
  const server = await serverWriter(await namenode.ready(60_000), 1);
  return {
    op: server.op,
    async close() {
      await server.close();
      if (!namenode.exited) namenode.child.kill("SIGTERM");
      await namenode.status;
      namenode.release();
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      serve: { type: "string" },
      ops: { type: "string", default: "1000" },
      rounds: { type: "string", default: "5" },
    },
  });
  if (values.serve !== undefined) {
    await serveFloor(values.serve);
  } else {
    const ops = Number(values.ops);
    const rounds = Number(values.rounds);
    const dir = await Deno.makeTempDir({ prefix: "cdfs-bench-floor-" });
    const ways: Record<string, MetaWriter> = {};
    try {
      ways.raw = rawSqliteWriter(join(dir, "raw.db"));
      ways.floor = await floorWriter(join(dir, "floor.db"));
      ways.server = await namenodeWriter(dir);
      const samples: Record<string, LatencySample[]> = { raw: [], floor: [], server: [] };
      const names = Object.keys(samples);
      let seq = 0;
      for (const name of names) await measureOps(ways[name]!.op, ops / 4, 1, seq += ops);
      for (let r = 0; r < rounds; r++) {
        for (let w = 0; w < names.length; w++) {
          const name = names[(w + r) % names.length]!;
          samples[name]!.push(await measureOps(ways[name]!.op, ops, 1, seq += ops));
        }
      }
      const rate = (name: string) => medianSample(samples[name]!).opsPerSecond;
      for (const name of names) {
        console.log(
          `${name.padEnd(6)} ${rate(name).toFixed(0).padStart(5)} ops/s (rounds: ${
            samples[name]!.map((s) => s.opsPerSecond.toFixed(0)).join(", ")
          })`,
        );
      }
      console.log(
        `floor / raw ${(rate("floor") / rate("raw")).toFixed(2)}×, server / raw ${
          (rate("server") / rate("raw")).toFixed(2)
        }×, server / floor ${
          (rate("server") / rate("floor")).toFixed(2)
        }× (${ops} puts per round, ` +
          `median of ${rounds} rounds, 1 client)`,
      );
    } finally {
      for (const writer of Object.values(ways)) await writer.close().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}
