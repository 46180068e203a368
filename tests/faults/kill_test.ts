/**
 * Fault injection: kill -9 of a datanode at a random moment of each operation, against one
 * local cluster of 16 datanode processes and a namenode (what `cdfs cluster up` starts). The
 * operations run as the `cdfs` commands (in this process, `runCdfs`): `block store`, `put`,
 * `archive`, `object encode` (pull and push), `object decode` and `object repair`.
 *
 * Each trial starts the operation, kills one node (SIGKILL, `cluster stop-node --kill`) after a
 * delay drawn uniformly from 0 to the operation's uncrashed duration, waits for the command's
 * end, and starts the node again on its data. Then:
 * - the command either succeeded or failed with an error that names the killed node's address;
 * - every block of the trial on every node is readable whole and has the right SHA-256 (0
 *   visible partial blocks, 0 corrupt bytes served): the test knows each block's digest from
 *   uncrashed reference runs on the same bytes ({@linkcode DigestBook});
 * - a decode's output, when it succeeded, is the input; a put's file is either listed and read
 *   back whole or absent; an archived (or half-archived) file reads back whole.
 *
 * At the end every block of the cluster is scanned the same way.
 *
 * `CDFS_FAULT_TRIALS` (default 3) trials per operation (`make soak` runs 100);
 * `CDFS_FAULT_SEED=N` repeats a run (the seed is in every failure's message).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalCluster } from "../../src/cluster/local.ts";
import { startNodes, stopNodes } from "../../src/cluster/node_control.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { seededRandom } from "../../src/emulation/link_spec.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { runCdfs } from "../helpers/cli.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { DigestBook, readBlock, scanBlocks, sha256Hex } from "./_scan.ts";

const TRIALS = Number(Deno.env.get("CDFS_FAULT_TRIALS") ?? 3);
const seed = Number(Deno.env.get("CDFS_FAULT_SEED") ?? Math.floor(Math.random() * 2 ** 31));
/** Small inputs and chunks: many requests per operation, so many places for a kill to land. */
const FILE_BYTES = 192 * 1024;
const CHUNK = ["--chunk-size", "16K"];
/** A stall bound for every coding run: nothing may wait on a dead node longer than this. */
const TIMEOUT = ["--timeout", "20s"];
const NODES = 16;
const launcher = selfLauncher((name) => Deno.env.get(name));

/** One operation under test. */
interface FaultOp {
  readonly name: string;
  /** Uncrashed set-up of trial `id` (put the parts first, ...). */
  prepare?(id: string): Promise<void>;
  /** The command of trial `id`, and the nodes a kill may hit. */
  command(id: string, random: () => number): { args: string[]; victims: number[] };
  /** Checks after the trial (node restarted), given whether the command succeeded. */
  check?(id: string, succeeded: boolean, what: string): Promise<void>;
  /** The prefix of the trial's blocks, scanned after it (none: only the final scan). */
  prefix?(id: string): string;
}

Deno.test(`faults: kill -9 of a datanode during store, put, archive, encode, decode, repair (${TRIALS} trials each)`, async (t) => {
  const work = await Deno.makeTempDir({ prefix: "cdfs-faults-" });
  const random = seededRandom(seed);
  const context = (what: string) => `seed ${seed} (CDFS_FAULT_SEED=${seed} repeats it), ${what}`;
  try {
    await using cluster = await LocalCluster.start({
      nodes: NODES,
      name: "faults",
      stateRoot: join(work, "state"),
      tempDir: work,
      launcher,
      namenode: {},
    });
    const nodes = cluster.file.nodes.map((n) => n.address);
    const env = { CDFS_CLUSTER: cluster.path };
    const cdfs = (...args: string[]) => runCdfs(args, { env });
    const ok = async (...args: string[]) => {
      const run = await cdfs(...args);
      assert.equal(run.code, 0, context(`cdfs ${args.join(" ")}: ${run.err}`));
      return run;
    };
    using namenode = await NameNodeClient.connect([cluster.file.namenode!.address]);

    // The one input of every trial, and the digests of its blocks from uncrashed runs.
    const input = randomBytes(FILE_BYTES);
    const inputPath = join(work, "input");
    await Deno.writeFile(inputPath, input);
    const inputDigest = await sha256Hex(input);
    const book = new DigestBook();
    await ok("object", "put-parts", "--code", "rapidraid", ...CHUNK, inputPath, "ref");
    await ok("object", "encode", ...CHUNK, "ref");
    await recordSuffixDigests(nodes, book, "ref.");

    const listed = async () =>
      new Set((await Array.fromAsync(namenode.files())).map((f) => f.name));
    const assertGet = async (name: string, what: string) => {
      const out = join(work, `${name}.out`);
      const got = await cdfs("get", name, "-o", out);
      assert.equal(got.code, 0, context(`${what}: get: ${got.err}`));
      assert.equal(await sha256Hex(await Deno.readFile(out)), inputDigest, context(what));
      await Deno.remove(out);
    };
    const anyNode = (random: () => number) => [Math.floor(random() * NODES)];
    const putParts = (id: string) =>
      ok("object", "put-parts", "--code", "rapidraid", ...CHUNK, inputPath, id).then(() => {});
    const objectPrefix = (id: string) => `${id}.`;

    const ops: FaultOp[] = [
      {
        name: "store",
        command: (id, random) => {
          const victim = Math.floor(random() * NODES);
          book.setId(id, inputDigest);
          return {
            args: ["block", "store", "--node", nodes[victim]!, ...CHUNK, id, inputPath],
            victims: [victim],
          };
        },
        prefix: (id) => id,
      },
      {
        name: "put",
        command: (id, random) => ({
          args: ["put", ...CHUNK, inputPath, id],
          victims: anyNode(random),
        }),
        check: async (id, succeeded, what) => {
          const has = (await listed()).has(id);
          if (succeeded) assert.ok(has, context(`${what}: put succeeded, file not listed`));
          if (has) await assertGet(id, what);
        },
      },
      {
        name: "archive",
        prepare: async (id) => void await ok("put", ...CHUNK, inputPath, id),
        command: (id, random) => ({
          args: ["archive", ...CHUNK, ...TIMEOUT, id],
          victims: anyNode(random),
        }),
        check: async (id, _succeeded, what) => await assertGet(id, what),
      },
      {
        name: "encode-pull",
        prepare: putParts,
        command: (id, random) => ({
          args: ["object", "encode", ...CHUNK, ...TIMEOUT, id],
          victims: anyNode(random),
        }),
        prefix: objectPrefix,
      },
      {
        name: "encode-push",
        prepare: putParts,
        command: (id, random) => ({
          args: ["object", "encode", "--push", ...CHUNK, ...TIMEOUT, id],
          victims: anyNode(random),
        }),
        prefix: objectPrefix,
      },
      {
        name: "decode",
        prepare: async (id) => {
          await putParts(id);
          await ok("object", "encode", ...CHUNK, "--drop-replicas", id);
        },
        command: (id, random) => ({
          args: ["object", "decode", ...CHUNK, ...TIMEOUT, id, "-o", join(work, `${id}.out`)],
          victims: anyNode(random),
        }),
        check: async (id, succeeded, what) => {
          const out = join(work, `${id}.out`);
          let bytes: Uint8Array<ArrayBuffer> | undefined;
          try {
            bytes = await Deno.readFile(out);
          } catch {
            // No output: the decode failed before its rename.
          }
          if (succeeded) assert.ok(bytes !== undefined, context(`${what}: no output`));
          if (bytes !== undefined) {
            assert.equal(await sha256Hex(bytes), inputDigest, context(`${what}: output differs`));
            await Deno.remove(out);
          }
        },
        prefix: objectPrefix,
      },
      {
        name: "repair",
        prepare: async (id) => {
          await putParts(id);
          await ok("object", "encode", ...CHUNK, "--drop-replicas", id);
        },
        command: (id, random) => {
          // Rebuild coded block b onto another node t (the rebuilt block is the same bytes).
          const block = Math.floor(random() * NODES);
          const to = (block + 1 + Math.floor(random() * (NODES - 1))) % NODES;
          return {
            args: [
              "object",
              "repair",
              ...CHUNK,
              ...TIMEOUT,
              "--overwrite",
              "--block",
              String(block),
              "--to",
              String(to),
              id,
            ],
            victims: anyNode(random),
          };
        },
        prefix: objectPrefix,
      },
    ];

    const outcomes: string[] = [];
    for (const op of ops) {
      // The operation's uncrashed duration: the range of the kill delays.
      const calibrationId = `${op.name}-calibration`;
      await op.prepare?.(calibrationId);
      const started = performance.now();
      const calibration = op.command(calibrationId, seededRandom(seed));
      await ok(...calibration.args);
      const durationMs = performance.now() - started;
      await op.check?.(calibrationId, true, `${op.name} calibration`);

      const counts = { succeeded: 0, failed: 0 };
      for (let i = 0; i < TRIALS; i++) {
        const id = `${op.name}-${i}`;
        await op.prepare?.(id);
        const { args, victims } = op.command(id, random);
        const victim = victims[Math.floor(random() * victims.length)]!;
        const delayMs = Math.round(random() * durationMs);
        const what = `${op.name} trial ${i}: node ${victim} (${nodes[victim]}) killed after ` +
          `${delayMs} ms of ${Math.round(durationMs)} ms`;
        let killed: Promise<unknown> = Promise.resolve();
        const timer = setTimeout(() => {
          killed = stopNodes(cluster.path, [victim], { kill: true });
        }, delayMs);
        const run = await cdfs(...args);
        clearTimeout(timer);
        await killed;
        // A command that finished before the kill: kill now, so every trial restarts a node.
        await stopNodes(cluster.path, [victim], { kill: true });
        await startNodes(cluster.path, [victim], { launcher });
        if (run.code === 0) {
          counts.succeeded++;
        } else {
          counts.failed++;
          assert.ok(
            run.err.includes(nodes[victim]!),
            context(`${what}: the error does not name the node: ${run.err}`),
          );
        }
        await op.check?.(id, run.code === 0, what);
        if (op.prefix !== undefined) {
          const report = await scanBlocks(nodes, book, op.prefix(id));
          assert.deepEqual(report.problems, [], context(what));
        }
      }
      outcomes.push(
        `${op.name} (${Math.round(durationMs)} ms): ${counts.succeeded} succeeded, ` +
          `${counts.failed} failed naming the node`,
      );
    }

    const final = await scanBlocks(nodes, book);
    assert.deepEqual(final.problems, [], context("final scan"));
    await t.step(
      `seed ${seed}; ${outcomes.join("; ")}; final scan: ${final.blocks} blocks read whole, ` +
        `${final.verified} digests verified`,
      () => {},
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

/** Records the digest of every `.partJ`/`.codedJ` block under `prefix` (the reference). */
async function recordSuffixDigests(
  nodes: readonly string[],
  book: DigestBook,
  prefix: string,
): Promise<void> {
  for (const node of nodes) {
    using client = await DataNodeClient.connect(node);
    for await (const { block } of client.listAll({ prefix })) {
      const suffix = /\.(part|coded)\d+$/.exec(block)?.[0];
      if (suffix === undefined) continue;
      const digest = await sha256Hex(await readBlock(client, block));
      const known = book.expected(`x${suffix}`);
      assert.ok(known === undefined || known === digest, `reference ${block} differs`);
      book.setSuffix(suffix, digest);
    }
  }
}
