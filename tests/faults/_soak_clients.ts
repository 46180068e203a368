/**
 * A Web Worker running some of the soak's clients (`soak_test.ts`): each client mixes `block
 * store`/`block retrieve` (DataNodeClient) and `put`/`get`/`archive` (the file commands, run in
 * this worker) against the cluster until the phase's end, then the worker posts what was
 * written and measured.
 *
 * Why workers: one event loop carrying all 200 clients' connections got its connects and
 * preambles seconds late (a process connecting to the same servers meanwhile got them at once),
 * so the clients' own timeouts failed operations the servers had answered in time; a few
 * clients per event loop, as a real deployment has on its client machines, do not.
 *
 * @module
 */
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { seededRandom } from "../../src/emulation/link_spec.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { runCdfs } from "../helpers/cli.ts";
import { readBlock, sha256Hex } from "./_scan.ts";

/** The operations a client mixes. */
export type SoakOp = "store" | "retrieve" | "put" | "get" | "archive";

/** What a worker is asked to do: run clients `first`..`first + count - 1` until `stopAt`. */
export interface SoakJob {
  readonly first: number;
  readonly count: number;
  /** The phase's end, `Date.now()` milliseconds. */
  readonly stopAt: number;
  readonly seed: number;
  readonly nodes: readonly string[];
  /** The cluster file (`CDFS_CLUSTER` of the file commands). */
  readonly clusterPath: string;
  /** Where inputs and outputs go. */
  readonly work: string;
}

/** What a worker reports once its clients stopped. */
export interface SoakReport {
  /** Latencies in ms per operation. */
  readonly latencies: Record<string, number[]>;
  readonly bytes: number;
  /** Operations refused with the documented BUSY. */
  readonly busy: number;
  readonly errors: string[];
  /** Blocks stored: id, node, SHA-256. */
  readonly blocks: [string, { node: string; digest: string }][];
  /** Files put: name, SHA-256, archived. */
  readonly files: [string, { digest: string; archived: boolean }][];
}

/** Runs the clients of `job`; resolves to what they wrote and measured. */
export async function runSoakClients(job: SoakJob): Promise<SoakReport> {
  const latencies: Record<string, number[]> = {};
  const report = {
    latencies,
    bytes: 0,
    busy: 0,
    errors: [] as string[],
    blocks: [] as SoakReport["blocks"],
    files: [] as SoakReport["files"],
  };
  const blocks = new Map<string, { node: string; digest: string }>();
  const files = new Map<string, { digest: string; archived: boolean }>();
  const env = { CDFS_CLUSTER: job.clusterPath };
  const { nodes } = job;
  const client = async (k: number) => {
    // Each client its own generator: its mix does not depend on how the others interleave.
    const random = seededRandom(job.seed + 1 + k);
    const mine = { blocks: [] as string[], files: [] as string[] };
    const input = randomBytes(96 * 1024 + Math.floor(random() * 160 * 1024));
    const inputPath = join(job.work, `c${k}.in`);
    await Deno.writeFile(inputPath, input);
    const inputDigest = await sha256Hex(input);
    let n = 0;
    while (Date.now() < job.stopAt) {
      const roll = random();
      const op: SoakOp = roll < 0.3
        ? "store"
        : roll < 0.55
        ? (mine.blocks.length > 0 ? "retrieve" : "store")
        : roll < 0.75
        ? "put"
        : roll < 0.92
        ? (mine.files.length > 0 ? "get" : "put")
        : (mine.files.some((f) => !files.get(f)!.archived) ? "archive" : "put");
      const started = performance.now();
      let bytes = 0;
      try {
        if (op === "store") {
          const id = `c${k}-b${n++}`;
          const node = nodes[Math.floor(random() * nodes.length)]!;
          const data = input.subarray(0, 16 * 1024 + Math.floor(random() * 64 * 1024));
          using c = await DataNodeClient.connect(node);
          await c.store(id, [data], { chunkSize: 16 * 1024 });
          blocks.set(id, { node, digest: await sha256Hex(data.slice()) });
          mine.blocks.push(id);
          bytes = data.length;
        } else if (op === "retrieve") {
          const id = mine.blocks[Math.floor(random() * mine.blocks.length)]!;
          const { node, digest } = blocks.get(id)!;
          using c = await DataNodeClient.connect(node);
          const got = await readBlock(c, id);
          if (await sha256Hex(got) !== digest) throw new Error(`${id}@${node} read back wrong`);
          bytes = got.length;
        } else if (op === "put") {
          const name = `c${k}-f${n++}`;
          const run = await runCdfs(["put", "--chunk-size", "16K", inputPath, name], { env });
          if (run.code !== 0) throw new Error(run.err.trim());
          files.set(name, { digest: inputDigest, archived: false });
          mine.files.push(name);
          bytes = input.length;
        } else if (op === "get") {
          const name = mine.files[Math.floor(random() * mine.files.length)]!;
          const out = join(job.work, `c${k}.out`);
          const run = await runCdfs(["get", name, "-o", out], { env });
          if (run.code !== 0) throw new Error(run.err.trim());
          if (await sha256Hex(await Deno.readFile(out)) !== inputDigest) {
            throw new Error(`get ${name} read back wrong`);
          }
          bytes = input.length;
        } else {
          const name = mine.files.find((f) => !files.get(f)!.archived)!;
          const run = await runCdfs(["archive", "--chunk-size", "16K", name], { env });
          if (run.code !== 0) throw new Error(run.err.trim());
          files.get(name)!.archived = true;
          bytes = input.length;
        }
        (latencies[op] ??= []).push(performance.now() - started);
        report.bytes += bytes;
      } catch (error) {
        const message = String((error as Error)?.message ?? error);
        if (isCdfsError(error, "BUSY") || /\(BUSY\)|\bBUSY\b/.test(message)) {
          report.busy++;
        } else {
          report.errors.push(`client ${k} ${op}: ${message}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: job.count }, (_, i) => client(job.first + i)));
  report.blocks.push(...blocks);
  report.files.push(...files);
  return report;
}
