/**
 * Helpers of the tests that run a `cdfs namenode serve` child and `cdfs datanode serve`
 * children (auto_repair_process_test.ts, heal_*_process_test.ts): start and stop the namenode,
 * start the datanodes registered with it, read its JSON log, run `cdfs` against it, read every
 * file's fsck status, put a file of random bytes; or all of it at once in a work directory
 * ({@linkcode startProcesses}).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { waitForRegistrations } from "../../src/cluster/cluster_namenode.ts";
import { NameNodeChild } from "../../src/cluster/namenode_process.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";

const launcher = selfLauncher((name) => Deno.env.get(name));

/** A namenode child and the address it listens on. */
export interface StartedNameNode {
  /** The child. */
  readonly child: NameNodeChild;
  /** Its `HOST:PORT`. */
  readonly address: string;
}

/**
 * Starts `cdfs namenode serve` on `meta` logging JSON to `log`.
 *
 * @param meta The metadata store (`sqlite:PATH`).
 * @param log The log file.
 * @param listen The listen address (`127.0.0.1:0`, or the address of an earlier run).
 * @param args More options of `namenode serve`.
 * @returns The child once it listens.
 */
export async function startNameNode(
  meta: string,
  log: string,
  listen: string,
  args: string[] = [],
): Promise<StartedNameNode> {
  const child = NameNodeChild.spawn({ launcher, listen, meta, log, args });
  try {
    return { child, address: await child.ready(60_000) };
  } catch (error) {
    await stopNameNode(child);
    throw error;
  }
}

/**
 * Stops a namenode child: SIGTERM, SIGKILL after 15 s.
 *
 * @param child The child.
 */
export async function stopNameNode(child: NameNodeChild): Promise<void> {
  if (!child.exited) child.child.kill("SIGTERM");
  const timer = setTimeout(() => {
    if (!child.exited) child.child.kill("SIGKILL");
  }, 15_000);
  await child.status;
  clearTimeout(timer);
  child.release();
}

/**
 * The JSON records of a namenode's log file.
 *
 * @param path The log file.
 * @returns The records, oldest first.
 */
export async function logRecords(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

/**
 * Runs `cdfs ARGS` against a namenode and asserts that it exits 0.
 *
 * @param namenode The namenode's address.
 * @param args The arguments.
 * @returns The run.
 */
export async function cdfs(namenode: string, ...args: string[]): Promise<CliRun> {
  const run = await runCdfs(args, { env: { CDFS_NAMENODE: namenode } });
  assert.equal(run.code, 0, `cdfs ${args.join(" ")}: exit ${run.code}: ${run.err}`);
  return run;
}

/**
 * Every file's fsck status, in the namenode's order.
 *
 * @param namenode The namenode's address.
 * @returns `healthy`, `degraded`, `lost`, ...
 */
export async function fsckStatuses(namenode: string): Promise<string[]> {
  using client = await NameNodeClient.connect(namenode);
  return (await Array.fromAsync(client.health())).map((h) => h.status);
}

/**
 * The options that make datanode `i` register as `dn<i>` with `namenode`.
 *
 * @param i The datanode's number.
 * @param namenode The namenode's address.
 * @returns The options.
 */
export function datanodeArgs(i: number, namenode: string): string[] {
  return ["--id", `dn${i}`, "--namenode", namenode];
}

/**
 * Starts one datanode per data directory, `dn<i>` registered with `namenode`, and waits for
 * every registration. A node that started is in the array even when another failed (so the
 * caller's cleanup stops it); then the first failure is thrown.
 *
 * @param namenode The namenode's address.
 * @param dataDirs The data directories.
 * @param into Where the started nodes go (null for one that did not start).
 * @param args More options of every `datanode serve`.
 */
export async function startDataNodes(
  namenode: string,
  dataDirs: readonly string[],
  into: (DataNodeProcess | null)[],
  args: string[] = [],
): Promise<void> {
  const starts = await Promise.allSettled(
    dataDirs.map((dataDir, i) =>
      DataNodeProcess.start({ dataDir, args: [...datanodeArgs(i, namenode), ...args] })
    ),
  );
  for (const s of starts) into.push(s.status === "fulfilled" ? s.value : null);
  const failed = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  await waitForRegistrations(namenode, dataDirs.map((_, i) => `dn${i}`), 60_000);
}

/**
 * Writes `bytes` random bytes to `WORK/NAME.src` and puts them as file `name` with `code`,
 * archived when asked.
 *
 * @param namenode The namenode's address.
 * @param work The directory of the source file.
 * @param name The file's name.
 * @param code Its code.
 * @param bytes Its length.
 * @param archive Whether `cdfs archive` follows.
 * @returns The source file's path.
 */
export async function putRandomFile(
  namenode: string,
  work: string,
  name: string,
  code: string,
  bytes: number,
  archive: boolean,
): Promise<string> {
  const path = join(work, `${name}.src`);
  const data = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += 65536) {
    crypto.getRandomValues(data.subarray(at, Math.min(bytes, at + 65536)));
  }
  await Deno.writeFile(path, data);
  await cdfs(namenode, "put", "--code", code, path, name);
  if (archive) await cdfs(namenode, "archive", name);
  return path;
}

/**
 * Options of `namenode serve` that make it act within seconds: heartbeats every 300 ms, a
 * datanode dead after 5 s of silence, repairs started at once.
 */
export const QUICK_NAMENODE_ARGS: readonly string[] = [
  "--heartbeat-interval",
  "300ms",
  "--dead-after",
  "5s",
  "--repair-delay",
  "0s",
];

/** Options of {@linkcode startProcesses}. */
export interface ProcessesOptions {
  /** The prefix of the work directory's name. */
  readonly prefix: string;
  /** How many datanodes: `dn0`, `dn1`, ... with data directories `WORK/dn<i>`. */
  readonly datanodes: number;
  /** Options of `namenode serve`. */
  readonly namenodeArgs?: string[];
  /** Options of every `datanode serve`. */
  readonly datanodeArgs?: string[];
}

/** A namenode child on `sqlite:WORK/meta.db` and its datanode children, stopped on dispose. */
export interface Processes extends AsyncDisposable {
  /** The work directory (removed on dispose). */
  readonly work: string;
  /** The metadata store, `sqlite:WORK/meta.db`. */
  readonly meta: string;
  /** The namenode's JSON log, `WORK/namenode.log`. */
  readonly log: string;
  /** The namenode's `HOST:PORT` (kept across {@linkcode Processes.restartNameNode}). */
  readonly address: string;
  /** The namenode child running now. */
  readonly namenode: StartedNameNode;
  /** The datanodes' data directories, `dn<i>`'s at `i`. */
  readonly dataDirs: readonly string[];
  /** The datanodes, `dn<i>` at `i`; a test may replace one (a restarted node is stopped too). */
  readonly datanodes: (DataNodeProcess | null)[];
  /**
   * Stops the namenode and starts it again on the same store, log and address.
   *
   * @param args The new child's options of `namenode serve`.
   */
  restartNameNode(args: string[]): Promise<void>;
}

/**
 * Makes a work directory and starts `cdfs namenode serve` in it (store `sqlite:WORK/meta.db`,
 * log `WORK/namenode.log`, on a free loopback port) and `datanodes` datanodes registered with
 * it. Disposing stops every child and removes the directory; a failed start does so first.
 *
 * @param options What to start.
 * @returns The processes, every datanode registered.
 */
export async function startProcesses(options: ProcessesOptions): Promise<Processes> {
  const work = await Deno.makeTempDir({ prefix: options.prefix });
  const meta = `sqlite:${join(work, "meta.db")}`;
  const log = join(work, "namenode.log");
  const dataDirs = Array.from({ length: options.datanodes }, (_, i) => join(work, `dn${i}`));
  const datanodes: (DataNodeProcess | null)[] = [];
  let namenode: StartedNameNode | null = null;
  const dispose = async () => {
    await Promise.all(datanodes.map((node) => node?.[Symbol.asyncDispose]()));
    if (namenode !== null) await stopNameNode(namenode.child);
    await Deno.remove(work, { recursive: true }).catch(() => {});
  };
  try {
    namenode = await startNameNode(meta, log, "127.0.0.1:0", options.namenodeArgs);
    await startDataNodes(namenode.address, dataDirs, datanodes, options.datanodeArgs);
  } catch (error) {
    await dispose();
    throw error;
  }
  const address = namenode.address;
  return {
    work,
    meta,
    log,
    address,
    get namenode() {
      return namenode!;
    },
    dataDirs,
    datanodes,
    async restartNameNode(args) {
      await stopNameNode(namenode!.child);
      namenode = null;
      namenode = await startNameNode(meta, log, address, args);
    },
    [Symbol.asyncDispose]: dispose,
  };
}
