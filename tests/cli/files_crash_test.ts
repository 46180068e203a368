/**
 * Crash tests of the file commands: a real `cdfs put` / `cdfs archive` process (main.ts on this
 * Deno, as bin/cdfs runs it) killed with SIGKILL at a random point of its run, {@linkcode TRIALS}
 * times each, against one local cluster of 16 datanode processes and a namenode (what
 * `cdfs cluster up` starts). After every kill:
 * - a put's file is either complete (listed, and `get` returns it byte for byte) or absent
 *   (not listed, `get` fails with NOT_FOUND): never a visible file with missing blocks;
 * - an archive's file is complete and readable (an archive never loses the file, whatever
 *   step it died in), and `cdfs archive` run again finishes: the file is archived, still
 *   byte-identical.
 *
 * At the end `cdfs gc --grace 0` leaves nothing behind: the namenode lists no orphan, and every
 * datanode holds exactly the blocks the committed files place on it (each listed with LIST):
 * the parts of aborted puts, the coded blocks of archives killed mid-encode, the replicas of
 * archives killed before they deleted them, all gone.
 *
 * The kill delays come from a seeded generator: `CDFS_CRASH_SEED=N` repeats a run; the seed is
 * in every failure's message. Each command is measured first (the median of 3 runs): its
 * start-up (loading the modules and connecting to the namenode: the same command failing at its
 * first request) and its whole run, uncrashed. A kill during start-up is trivially harmless, so a
 * delay is drawn uniformly from a little before the operation's first request to the end of its
 * run: every kill lands in or just before the operation.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { LocalCluster } from "../../src/cluster/local.ts";
import { seededRandom } from "../../src/emulation/link_spec.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { randomBytes } from "../client/_blocks.ts";
import { runCdfs } from "../helpers/cli.ts";

/** Kills of each command. */
const TRIALS = 20;
/** The size of every file put: small, so that 40 trials and their checks fit in a minute. */
const FILE_BYTES = 200 * 1024;
/** Small chunks: more requests per put and encode, so more places for a kill to land. */
const CHUNK = ["--chunk-size", "16K"];
/** Uncrashed runs of each command measured first (their median is used). */
const CALIBRATION_RUNS = 3;
/** How long the datanodes' incremental reports (batched 100 ms) may take to arrive. */
const SETTLE_MS = 5000;

const launcher = selfLauncher((name) => Deno.env.get(name));
const seed = Number(Deno.env.get("CDFS_CRASH_SEED") ?? Math.floor(Math.random() * 2 ** 31));

/** A `cdfs` process with the cluster's namenode in its environment. */
function spawnCdfs(env: Record<string, string>, args: string[]): Deno.ChildProcess {
  return new Deno.Command(launcher.command, {
    args: [...launcher.args, ...args],
    env: { ...env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Runs a command to its end, in milliseconds; it must exit with `code`. */
async function timedRun(env: Record<string, string>, args: string[], code = 0): Promise<number> {
  const started = performance.now();
  const status = await spawnCdfs(env, args).status;
  assert.equal(status.code, code, `cdfs ${args.join(" ")}`);
  return performance.now() - started;
}

/**
 * A delay within a command's operation: from a tenth of the operation before its start-up
 * ends, to its end.
 */
function killDelay(random: () => number, run: { startMs: number; totalMs: number }): number {
  // (A start-up measured longer than the whole run, on a loaded machine: the whole run.)
  const from = run.startMs >= run.totalMs
    ? 0
    : Math.max(0, run.startMs - (run.totalMs - run.startMs) / 10);
  return Math.round(from + random() * (run.totalMs - from));
}

/** Starts a command and SIGKILLs it after `delayMs` (if it is still running then). */
async function killAfter(
  env: Record<string, string>,
  args: string[],
  delayMs: number,
): Promise<"killed" | "finished"> {
  const child = spawnCdfs(env, args);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited already.
    }
  }, delayMs);
  const status = await child.status;
  clearTimeout(timer);
  return status.signal === "SIGKILL" ? "killed" : "finished";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test(`files crash: kill -9 of ${TRIALS} puts and ${TRIALS} archives, then gc --grace 0`, async (t) => {
  const work = await Deno.makeTempDir({ prefix: "cdfs-crash-" });
  const random = seededRandom(seed);
  const context = (what: string) => `seed ${seed} (CDFS_CRASH_SEED=${seed} repeats it), ${what}`;
  try {
    await using cluster = await LocalCluster.start({
      nodes: 16,
      name: "crash",
      stateRoot: join(work, "state"),
      tempDir: work,
      launcher,
      namenode: {},
    });
    const address = cluster.file.namenode!.address;
    const env = { CDFS_NAMENODE: address };
    const cdfs = (...args: string[]) => runCdfs(args, { env });
    using namenode = await NameNodeClient.connect([address]);

    const input = async (name: string): Promise<{ path: string; bytes: Uint8Array }> => {
      const bytes = randomBytes(FILE_BYTES);
      const path = join(work, `${name}.in`);
      await Deno.writeFile(path, bytes);
      return { path, bytes };
    };
    const listed = async () =>
      new Set((await Array.fromAsync(namenode.files())).map((f) => f.name));
    const assertReadable = async (name: string, bytes: Uint8Array, what: string) => {
      const out = join(work, `${name}.out`);
      const got = await cdfs("get", name, "-o", out);
      assert.equal(got.code, 0, context(`${what}: get: ${got.err}`));
      assert.deepEqual(await Deno.readFile(out), bytes, context(`${what}: get differs`));
      await Deno.remove(out);
    };

    const calibration = await Promise.all(
      Array.from({ length: CALIBRATION_RUNS }, (_, i) => input(`calibration-${i}`)),
    );
    // How long each command takes to start (it fails at its first request: no local file, no
    // such file at the namenode) and to run uncrashed, process start to exit: the median of
    // CALIBRATION_RUNS, as other work on the machine makes single runs vary by hundreds of ms.
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
    const calibrate = async (runs: (i: number) => string[][]) => {
      const start: number[] = [];
      const total: number[] = [];
      for (let i = 0; i < CALIBRATION_RUNS; i++) {
        const [failing, whole] = runs(i);
        start.push(await timedRun(env, failing!, 1));
        total.push(await timedRun(env, whole!));
      }
      return { startMs: median(start), totalMs: median(total) };
    };
    const putRun = await calibrate((i) => [
      ["put", ...CHUNK, join(work, "none"), "none"],
      ["put", ...CHUNK, calibration[i]!.path, `calibration-${i}`],
    ]);
    const archiveRun = await calibrate((i) => [
      ["archive", ...CHUNK, "none"],
      ["archive", ...CHUNK, `calibration-${i}`],
    ]);
    const ms = (run: { startMs: number; totalMs: number }) =>
      `${Math.round(run.startMs)}+${Math.round(run.totalMs - run.startMs)} ms`;
    const files = new Map(calibration.map((c, i) => [`calibration-${i}`, c.bytes]));

    const outcomes = { put: { complete: 0, absent: 0 }, archive: {} as Record<string, number> };
    for (let i = 0; i < TRIALS; i++) {
      const name = `put-${i}`;
      const { path, bytes } = await input(name);
      const delay = killDelay(random, putRun);
      const what = `put trial ${i}, killed after ${delay} ms of ${ms(putRun)}`;
      await killAfter(env, ["put", ...CHUNK, path, name], delay);
      if ((await listed()).has(name)) {
        outcomes.put.complete++;
        files.set(name, bytes);
        await assertReadable(name, bytes, what);
      } else {
        outcomes.put.absent++;
        const got = await cdfs("get", name, "-o", join(work, `${name}.out`));
        assert.equal(got.code, 1, context(`${what}: get of an absent file`));
        assert.match(got.err, /NOT_FOUND/, context(what));
        await assert.rejects(namenode.getFile(name), (e) => isCdfsError(e, "NOT_FOUND"));
      }
    }

    for (let i = 0; i < TRIALS; i++) {
      const name = `archive-${i}`;
      const { path, bytes } = await input(name);
      const put = await cdfs("put", ...CHUNK, path, name);
      assert.equal(put.code, 0, put.err);
      files.set(name, bytes);
      const delay = killDelay(random, archiveRun);
      const what = `archive trial ${i}, killed after ${delay} ms of ${ms(archiveRun)}`;
      await killAfter(env, ["archive", ...CHUNK, name], delay);
      // Never neither replicated nor archived: readable whatever step the kill hit.
      const file = await namenode.getFile(name);
      const state = file.state + (file.blocks.some((b) => b.state === "pending") ? "+pending" : "");
      outcomes.archive[state] = (outcomes.archive[state] ?? 0) + 1;
      await assertReadable(name, bytes, `${what} (${state})`);
      const again = await cdfs("archive", ...CHUNK, name);
      assert.equal(again.code, 0, context(`${what} (${state}): archive again: ${again.err}`));
      assert.equal((await namenode.getFile(name)).state, "archived", context(what));
      await assertReadable(name, bytes, `${what}, archived again`);
    }

    // Garbage collection. The datanodes report what the killed clients stored within 100 ms.
    await sleep(300);
    const gc = await cdfs("gc", "--grace", "0");
    assert.equal(gc.code, 0, context(`gc: ${gc.out}${gc.err}`));
    // Then the datanodes' incremental reports of the deletes empty the namenode's list.
    const placed = async () => {
      const byNode = new Map<string, string[]>(cluster.file.nodes.map((n) => [n.address, []]));
      for (const name of await listed()) {
        for (const b of (await namenode.getFile(name)).blocks) {
          byNode.get(b.address!)!.push(b.block);
        }
      }
      return byNode;
    };
    const held = async () => {
      const byNode = new Map<string, string[]>();
      for (const node of cluster.file.nodes) {
        using client = await DataNodeClient.connect(node.address);
        byNode.set(node.address, (await Array.fromAsync(client.listAll())).map((e) => e.block));
      }
      return byNode;
    };
    const sorted = (m: Map<string, string[]>) => [...m].map(([k, v]) => [k, v.sort()]);
    const deadline = Date.now() + SETTLE_MS;
    let orphans = (await namenode.orphans({ graceMs: 0 })).orphans;
    while (orphans.length > 0 && Date.now() < deadline) {
      await sleep(50);
      orphans = (await namenode.orphans({ graceMs: 0 })).orphans;
    }
    assert.deepEqual(
      orphans.map((o) => `${o.block}@${o.node}`),
      [],
      context(`after gc: ${gc.out}`),
    );
    assert.deepEqual(
      sorted(await held()),
      sorted(await placed()),
      context("datanodes hold strays"),
    );
    // Every file that exists is still whole.
    assert.deepEqual([...await listed()].sort(), [...files.keys()].sort(), context("files"));
    for (const [name, bytes] of files) await assertReadable(name, bytes, `${name} after gc`);

    // The outcomes, as steps of the test: `deno test` prints them (a failure above shows the
    // seed instead).
    assert.equal(outcomes.put.complete + outcomes.put.absent, TRIALS);
    const states = Object.entries(outcomes.archive).map(([s, n]) => `${n} ${s}`).join(", ");
    await t.step(
      `seed ${seed}; put (start-up+run ${ms(putRun)}): ${outcomes.put.complete} complete, ` +
        `${outcomes.put.absent} absent; archive (${ms(archiveRun)}) killed with the file ` +
        `${states}, every retry archived; ${gc.out.split("\n")[0]}`,
      () => {},
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
