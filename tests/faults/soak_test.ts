/**
 * Load and soak: N concurrent clients mixing `block store`/`block retrieve` (DataNodeClient)
 * and `put`/`get`/`archive` (the file commands), {@linkcode CLIENTS_PER_WORKER} to a Web Worker
 * (`_soak_clients.ts` says why), against a local cluster of 16
 * datanode processes and a namenode, for T seconds without and then T seconds with a hostile
 * mix at the same time:
 * - slow clients: STOREs of 4 KiB chunks sent one every second, holding their connection
 *   and a pooled buffer; raw connections that trickle one byte a second (slowloris);
 * - a connection storm: {@linkcode STORM} connections opened at once to one node, held, closed,
 *   again and again (more than the nodes' `--max-connections`, so the nodes answer `BUSY`).
 *
 * What must hold: no client error other than the documented `BUSY`; at the end every block
 * stored and every file put reads back with its SHA-256 (0 lost, 0 corrupt), and every block of
 * every node reads whole; each datanode's resident memory (`VmRSS` of /proc/PID/status) after
 * the storm stays within a bound. The p50/p99 latency and the throughput of both phases are
 * printed (the figures in the README come from `make soak`).
 *
 * `CDFS_SOAK_CLIENTS` (default 20) and `CDFS_SOAK_SECONDS` (per phase, default 8; `make soak`
 * runs 200 clients, 60 s); `CDFS_SOAK_SEED=N` repeats a run's mix.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { LocalCluster } from "../../src/cluster/local.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { seededRandom } from "../../src/emulation/link_spec.ts";
import { runCdfs } from "../helpers/cli.ts";
import { DigestBook, readBlock, scanBlocks, sha256Hex } from "./_scan.ts";
import type { SoakJob, SoakReport } from "./_soak_clients.ts";

const CLIENTS = Number(Deno.env.get("CDFS_SOAK_CLIENTS") ?? 20);
const PHASE_MS = 1000 * Number(Deno.env.get("CDFS_SOAK_SECONDS") ?? 8);
const seed = Number(Deno.env.get("CDFS_SOAK_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const NODES = 16;
/** The nodes' connection cap: below the storm, so the storm meets BUSY. */
const MAX_CONNECTIONS = 256;
/** Connections of one storm wave, all to one node. */
const STORM = 320;
/** Slow STOREs and slowloris connections of the hostile mix. */
const SLOW_CLIENTS = 32;
/** What a node may hold after the storm: the pool's 64 MiB, the runtime, and slack. */
const RSS_BOUND_BYTES = 400 << 20;
const launcher = selfLauncher((name) => Deno.env.get(name));
/** Clients per worker (an event loop of their own each): see `_soak_clients.ts`. */
const CLIENTS_PER_WORKER = 25;

/** One phase's measurements, merged from its workers' reports. */
class PhaseStats {
  readonly latencies = new Map<string, number[]>();
  bytes = 0;
  busy = 0;
  readonly errors: string[] = [];

  add(report: SoakReport): void {
    for (const [op, list] of Object.entries(report.latencies)) {
      this.latencies.set(op, [...(this.latencies.get(op) ?? []), ...list]);
    }
    this.bytes += report.bytes;
    this.busy += report.busy;
    this.errors.push(...report.errors);
  }

  summary(name: string, ms: number): string {
    const all = [...this.latencies.values()].flat().sort((a, b) => a - b);
    const q = (p: number) =>
      all.length === 0 ? 0 : all[Math.min(all.length - 1, Math.floor(p * all.length))]!;
    const perOp = [...this.latencies].map(([op, l]) => `${op} ${l.length}`).join(", ");
    return `${name}: ${all.length} ops (${perOp}) in ${(ms / 1000).toFixed(1)} s, ` +
      `${(all.length / (ms / 1000)).toFixed(1)} ops/s, ` +
      `${(this.bytes / (1 << 20) / (ms / 1000)).toFixed(1)} MiB/s, ` +
      `p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, ${this.busy} BUSY`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function rssBytes(pid: number, field = "VmRSS"): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)![1]) * 1024;
}

Deno.test(`soak: ${CLIENTS} clients mixing store/retrieve/put/get/archive, then with slow clients and connection storms`, async (t) => {
  const work = await Deno.makeTempDir({ prefix: "cdfs-soak-" });
  const random = seededRandom(seed);
  const context = (what: string) => `seed ${seed} (CDFS_SOAK_SEED=${seed} repeats it), ${what}`;
  try {
    await using cluster = await LocalCluster.start({
      nodes: NODES,
      name: "soak",
      stateRoot: join(work, "state"),
      tempDir: work,
      launcher,
      namenode: {},
      nodeArgs: ["--max-connections", String(MAX_CONNECTIONS)],
    });
    const nodes = cluster.file.nodes.map((n) => n.address);
    const pids = cluster.file.nodes.map((n) => n.pid!);
    const env = { CDFS_CLUSTER: cluster.path };
    const rssBefore = pids.map((pid) => rssBytes(pid));

    /** What was written: block id -> [node, digest]; file name -> digest. */
    const blocks = new Map<string, { node: string; digest: string }>();
    const files = new Map<string, { digest: string; archived: boolean }>();
    const book = new DigestBook();

    let phase = new PhaseStats();
    // The workers, started (their modules loaded) before the first phase starts its clock.
    const workers = Array.from(
      { length: Math.ceil(CLIENTS / CLIENTS_PER_WORKER) },
      () => new Worker(new URL("./_soak_worker.ts", import.meta.url).href, { type: "module" }),
    );
    using _workers = { [Symbol.dispose]: () => workers.forEach((w) => w.terminate()) };
    const ask = (worker: Worker, job: SoakJob) =>
      new Promise<SoakReport>((resolve, reject) => {
        worker.onmessage = (event: MessageEvent<SoakReport | { error: string }>) =>
          "error" in event.data
            ? reject(new Error(`soak worker: ${event.data.error}`))
            : resolve(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(`soak worker: ${event.message}`));
        };
        worker.postMessage(job);
      });
    const job = (first: number, count: number, stopAt: number): SoakJob => ({
      first,
      count,
      stopAt,
      seed,
      nodes,
      clusterPath: cluster.path,
      work,
    });
    await Promise.all(workers.map((w) => ask(w, job(0, 0, 0))));
    /** Runs clients `first`.. for `PHASE_MS`, in the workers; merges what they report. */
    const runClients = async (first: number, stats: PhaseStats) => {
      const stopAt = Date.now() + PHASE_MS;
      const reports = await Promise.all(workers.map((w, i) => {
        const from = i * CLIENTS_PER_WORKER;
        return ask(w, job(first + from, Math.min(CLIENTS_PER_WORKER, CLIENTS - from), stopAt));
      }));
      for (const report of reports) {
        stats.add(report);
        for (const [id, block] of report.blocks) {
          blocks.set(id, block);
          book.setId(id, block.digest);
        }
        for (const [name, file] of report.files) files.set(name, file);
      }
    };

    // Phase 1: the clients alone.
    let phaseStart = performance.now();
    await runClients(0, phase);
    const clean = phase;
    const cleanMs = performance.now() - phaseStart;

    // Phase 2: the same with the hostile mix.
    phase = new PhaseStats();
    const hostile = { storms: 0, stormBusy: 0, stormConnections: 0, slow: 0 };
    const hostileDone = new AbortController();
    const stopped = new Promise<void>((resolve) =>
      hostileDone.signal.addEventListener("abort", () => resolve(), { once: true })
    );
    const host = (node: string) => {
      const at = node.lastIndexOf(":");
      return [node.slice(0, at), Number(node.slice(at + 1))] as const;
    };
    const slowStore = async (k: number) => {
      const node = nodes[k % NODES]!;
      const chunk = new Uint8Array(4096);
      async function* trickle() {
        while (!hostileDone.signal.aborted) {
          yield chunk;
          await Promise.race([sleep(1000), stopped]);
        }
        throw new Error("slow client gone");
      }
      try {
        using c = await DataNodeClient.connect(node);
        await c.store(`slow-${k}`, trickle(), { chunkSize: 4096 });
      } catch {
        // Cut by the node (TIMEOUT, BUSY) or by the end of the phase: either is its due.
      }
      hostile.slow++;
    };
    const slowloris = async (k: number) => {
      const [hostname, p] = host(nodes[(k * 5) % NODES]!);
      try {
        using conn = await Deno.connect({ hostname, port: p });
        // The preamble (CDFS, version 1), then the start of a frame, one byte a second.
        const bytes = [0x43, 0x44, 0x46, 0x53, 0, 1, 0, 0];
        for (let i = 0; !hostileDone.signal.aborted; i++) {
          await conn.write(new Uint8Array([bytes[i] ?? 1]));
          await Promise.race([sleep(1000), stopped]);
        }
      } catch {
        // Closed by the node: what it should do.
      }
    };
    const storm = async () => {
      while (!hostileDone.signal.aborted) {
        const [hostname, p] = host(nodes[Math.floor(random() * NODES)]!);
        const conns = await Promise.all(
          Array.from(
            { length: STORM },
            () => Deno.connect({ hostname, port: p }).catch(() => undefined),
          ),
        );
        hostile.storms++;
        hostile.stormConnections += conns.filter((c) => c !== undefined).length;
        // A connection over the cap is told BUSY and closed: read what each got.
        await Promise.all(conns.map(async (c) => {
          if (c === undefined) return;
          const buffer = new Uint8Array(256);
          const read = await Promise.race([c.read(buffer).catch(() => null), sleep(300)]);
          if (typeof read === "number" && new TextDecoder().decode(buffer).includes("BUSY")) {
            hostile.stormBusy++;
          }
        }));
        for (const c of conns) {
          try {
            c?.close();
          } catch {
            // Closed by the node.
          }
        }
      }
    };
    const hostiles = [
      ...Array.from({ length: SLOW_CLIENTS }, (_, k) => slowStore(k)),
      ...Array.from({ length: SLOW_CLIENTS }, (_, k) => slowloris(k)),
      storm(),
    ];
    phaseStart = performance.now();
    await runClients(CLIENTS, phase);
    const hostileMs = performance.now() - phaseStart;
    hostileDone.abort();
    await Promise.all(hostiles);
    const rssAfter = pids.map((pid) => rssBytes(pid));
    const rssPeak = pids.map((pid) => rssBytes(pid, "VmHWM"));

    const errors = [...clean.errors, ...phase.errors];
    assert.deepEqual(errors.slice(0, 20), [], context(`${errors.length} errors`));

    // Nothing lost, nothing corrupt.
    for (const [id, { node, digest }] of blocks) {
      using c = await DataNodeClient.connect(node);
      assert.equal(await sha256Hex(await readBlock(c, id)), digest, context(`block ${id}`));
    }
    for (const [name, { digest }] of files) {
      const out = join(work, "check.out");
      const run = await runCdfs(["get", name, "-o", out], { env });
      assert.equal(run.code, 0, context(`get ${name}: ${run.err}`));
      assert.equal(await sha256Hex(await Deno.readFile(out)), digest, context(`file ${name}`));
    }
    const scan = await scanBlocks(nodes, book);
    // The slow clients' STOREs never finished: none of them may be visible.
    const slowVisible = await scanBlocks(nodes, book, "slow-");
    assert.deepEqual(scan.problems, [], context("scan"));
    assert.equal(slowVisible.blocks, 0, context("a slow client's STORE is visible"));
    const mb = (b: number) => `${Math.round(b / (1 << 20))}`;
    for (let i = 0; i < NODES; i++) {
      assert.ok(
        rssAfter[i]! < RSS_BOUND_BYTES,
        context(`node ${i}: VmRSS ${mb(rssAfter[i]!)} MiB after the soak`),
      );
    }
    const range = (values: number[]) => `${mb(Math.min(...values))}-${mb(Math.max(...values))} MiB`;
    const report = [
      `seed ${seed}, ${CLIENTS} clients`,
      clean.summary("clean", cleanMs),
      phase.summary("hostile", hostileMs),
      `hostile: ${hostile.storms} storms of ${STORM} (${hostile.stormConnections} connected, ` +
      `${hostile.stormBusy} told BUSY), ${SLOW_CLIENTS} slow STOREs, ${SLOW_CLIENTS} slowloris`,
      `verified ${blocks.size} blocks, ${files.size} files, scan ${scan.blocks} blocks whole`,
      `datanode VmRSS before ${range(rssBefore)}, after ${range(rssAfter)}, peak ${range(rssPeak)}`,
    ].join("; ");
    await t.step(report, () => {});
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
