// deno-lint-ignore-file no-console
/**
 * Time to heal (issue 14): `deno run -A bench/namenode/heal_bench.ts [--size 1G] [--files 16]
 * [--datanodes 17] [--repair-rate R] [--chunk-size 1M]`.
 *
 * A loopback cluster of `cdfs namenode serve` (automatic repair on, `--repair-delay 0s`,
 * `--dead-after 2s`, no GC) and `--datanodes` `cdfs datanode serve` children (`--scrub-rate 0`;
 * 17 by default: RapidRAID's 16 blocks of a file each on its own datanode, and one spare for a
 * rebuilt block to go to). `--files` archived RapidRAID files of `--size` bytes in all are put,
 * then the datanode holding the most coded blocks is killed with SIGKILL, and the bench times:
 *
 * - **heal**: from the kill until fsck reports every file healthy (the dead-after silence, the
 *   namenode's round, every repair);
 * - **bare**: afterwards, on the same cluster, a plain transfer of the bytes the repairs read
 *   (the sum of the `repair-finished` records' `bytesRead`, file by file): RETRIEVEs of the
 *   surviving coded blocks of each repaired file, from the datanodes the repair read them from,
 *   to this process, file after file (as the loop repairs them), the blocks of a file in
 *   parallel, until as many bytes as that file's repair read have come;
 * - the ratio heal / bare (target <= 2), and the heal time without the dead-after wait;
 * - repair traffic per rebuilt block: the frame bytes all datanodes sent during the heal
 *   (their STATS `total.bytesOut`, before and after) over the blocks rebuilt, next to
 *   k x block size (what an RS repair reads per block).
 *
 * With `--repair-rate R` the namenode paces repairs at R bytes/s per datanode; the bench then
 * reports the repair throughput measured on the busiest datanode (the bytes it sent during the
 * heal, from its STATS: what the limiter charges a repair's source, over the time from the first
 * repair's start to the last one's end, from the namenode's log) next to R (issue 14: within
 * 20%). The limiter lets one second's worth go at once and paces between repairs, so the figure
 * means something only when the repairs take many seconds.
 *
 * Writes `bench/out/heal.json`. Not part of `bench/run.ts`: at the default 1 GiB it runs for
 * minutes and keeps every core busy.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { archiveFile } from "../../src/client/files/archive.ts";
import { filePartLength } from "../../src/client/files/file_target.ts";
import { putFile } from "../../src/client/files/put.ts";
import { waitForRegistrations } from "../../src/cluster/cluster_namenode.ts";
import { NameNodeChild } from "../../src/cluster/namenode_process.ts";
import { NodeChild, selfLauncher } from "../../src/cluster/node_process.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import type { FileView } from "../../src/namenode/responses.ts";
import { cpuSecondsBetween, processCpuTimes } from "../common/machine.ts";
import { repoPath } from "../common/paths.ts";

/** What the command line asks for. */
export interface HealBenchSettings {
  /** Bytes of files in all. */
  readonly size: number;
  /** How many files. */
  readonly files: number;
  /** How many datanodes (at least 17: 16 blocks of a file and a spare). */
  readonly datanodes: number;
  /** `--repair-rate` of the namenode in bytes/s, or null (then a rate no repair reaches). */
  readonly repairRate: number | null;
  /** The chunk size of puts, archives and repairs. */
  readonly chunkSize: number;
}

const UNITS: Record<string, number> = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 };

/** `123`, `64K`, `16MiB`, `1G` (binary units), a positive whole number of bytes. */
function bytes(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  const value = match === null
    ? NaN
    : Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${what}: expected a size like 1G, 64MiB or 4096, got '${text}'`);
  }
  return value;
}

/**
 * Reads the bench's options.
 *
 * @param args The command line after the script.
 * @returns The settings.
 * @throws {Error} One line naming the bad option (an unknown one, a malformed or too small
 *   value).
 */
export function parseHealArgs(args: string[]): HealBenchSettings {
  const { values, positionals } = parseArgs({
    args,
    options: {
      size: { type: "string", default: "1G" },
      files: { type: "string", default: "16" },
      datanodes: { type: "string", default: "17" },
      "repair-rate": { type: "string" },
      "chunk-size": { type: "string", default: "1M" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new Error(`unexpected argument '${positionals[0]}'`);
  const files = bytes(values.files, "--files");
  const datanodes = bytes(values.datanodes, "--datanodes");
  if (datanodes < 17) {
    throw new Error(`--datanodes: at least 17 (16 blocks of a file and a spare), got ${datanodes}`);
  }
  const size = bytes(values.size, "--size");
  if (size < files) {
    throw new Error(`--size ${size} is less than a byte per file (--files ${files})`);
  }
  const rateText = values["repair-rate"];
  const chunkSize = bytes(values["chunk-size"], "--chunk-size");
  return {
    size,
    files,
    datanodes,
    repairRate: rateText === undefined
      ? null
      : bytes(rateText.replace(/\/s$/i, ""), "--repair-rate"),
    chunkSize,
  };
}

async function stats(address: string) {
  using client = await DataNodeClient.connect(address);
  return await client.stats();
}

async function logRecords(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !(await check());) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * RETRIEVEs of `file`'s coded blocks (each `blockLength` long) other than those on `lost`, in
 * parallel, until `budget` bytes.
 */
async function bareTransfer(
  file: FileView,
  blockLength: number,
  lost: string,
  budget: number,
): Promise<number> {
  const sources = file.blocks.filter((b) =>
    b.kind === "coded" && b.state === "stored" && b.node !== lost && b.alive
  );
  let got = 0;
  const picked: typeof sources = [];
  for (let planned = 0; planned < budget && picked.length < sources.length;) {
    const b = sources[picked.length]!;
    picked.push(b);
    planned += blockLength;
  }
  await Promise.all(picked.map(async (b) => {
    using client = await DataNodeClient.connect(b.address!);
    await client.retrieve(b.block, (chunk) => void (got += chunk.length));
  }));
  return got;
}

async function main(settings: HealBenchSettings): Promise<void> {
  const launcher = selfLauncher((name) => Deno.env.get(name));
  const work = await Deno.makeTempDir({ prefix: "cdfs-heal-bench-" });
  const log = join(work, "namenode.log");
  const namenode = NameNodeChild.spawn({
    launcher,
    listen: "127.0.0.1:0",
    meta: `sqlite:${join(work, "meta.db")}`,
    log,
    args: [
      "--heartbeat-interval",
      "300ms",
      "--dead-after",
      "2s",
      "--repair-delay",
      "0s",
      "--no-auto-gc",
      "--repair-rate",
      String(settings.repairRate ?? 2 ** 40),
    ],
  });
  const nodes: NodeChild[] = [];
  // The children run in sessions of their own: an interrupted bench stops them first.
  const interrupted = () => {
    for (const child of [namenode, ...nodes]) if (!child.exited) child.child.kill("SIGKILL");
    Deno.removeSync(work, { recursive: true });
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  try {
    const address = await namenode.ready(60_000);
    for (let i = 0; i < settings.datanodes; i++) {
      nodes.push(NodeChild.spawn({
        launcher,
        dataDir: join(work, `dn${i}`),
        listen: "127.0.0.1:0",
        id: `dn${i}`,
        log: join(work, `dn${i}.log`),
        namenode: address,
        nodeArgs: ["--scrub-rate", "0"],
      }));
    }
    const addresses = await Promise.all(nodes.map((n) => n.ready(60_000)));
    await waitForRegistrations(address, nodes.map((n) => n.id), 60_000);
    using client = await NameNodeClient.connect(address);
    const module = await loadCodingModule("rapidraid");
    const each = Math.floor(settings.size / settings.files);
    const source = join(work, "source");
    for (let f = 0; f < settings.files; f++) {
      const data = new Uint8Array(each);
      for (let at = 0; at < each; at += 65536) {
        crypto.getRandomValues(data.subarray(at, Math.min(each, at + 65536)));
      }
      await Deno.writeFile(source, data);
      const { file } = await putFile({
        namenode: client,
        module,
        path: source,
        name: `f${f}`,
        chunkSize: settings.chunkSize,
      });
      await archiveFile({ namenode: client, file, module, chunkSize: settings.chunkSize });
      console.log(`put and archived f${f} (${each} bytes)`);
    }
    await Deno.remove(source);
    // The victim: the datanode with the most coded blocks.
    const held = new Map<string, number>();
    let blockLength = 0;
    for (let f = 0; f < settings.files; f++) {
      const file = await client.getFile(`f${f}`);
      blockLength = filePartLength(file, module);
      for (const b of file.blocks) {
        if (b.kind === "coded") held.set(b.node, (held.get(b.node) ?? 0) + blockLength);
      }
    }
    const [victim, victimBytes] = [...held].sort((a, b) => b[1] - a[1])[0]!;
    const before = await Promise.all(addresses.map(stats));
    const killed = performance.now();
    nodes.find((n) => n.id === victim)!.child.kill("SIGKILL");
    await until("the victim dead", async () => {
      const { datanodes } = await client.listDatanodes();
      return datanodes.some((d) => d.node === victim && d.state === "dead");
    }, 60_000);
    const dead = performance.now();
    const deadAt = Date.now();
    const livePids = nodes.filter((n) => n.id !== victim).map((n) => n.child.pid);
    const cpuOfNodes = () => Promise.all(livePids.map(processCpuTimes));
    const cpuDead = await cpuOfNodes();
    await until("every file healthy", async () => {
      const health = await Array.fromAsync(client.health());
      return health.every((h) => h.status === "healthy");
    }, 24 * 3_600_000);
    const healed = performance.now();
    const healedAt = Date.now();
    const cpuHealed = await cpuOfNodes();
    const live = addresses.filter((_, i) => nodes[i]!.id !== victim);
    const after = await Promise.all(live.map(stats));
    const beforeOf = new Map(before.map((s) => [s.node, s]));
    const sent = after.reduce(
      (s, a) => s + a.total.bytesOut - beforeOf.get(a.node)!.total.bytesOut,
      0,
    );
    const busiest = Math.max(
      ...after.map((a) => a.total.bytesOut - beforeOf.get(a.node)!.total.bytesOut),
    );
    const records = await logRecords(log);
    const failures = records.filter((r) => r.event === "repair-failed");
    for (const r of failures.slice(0, 5)) console.log(`repair of ${r.name} failed: ${r.reason}`);
    const finished = records.filter((r) => r.event === "repair-finished");
    const rebuilt = finished.reduce((n, r) => n + (r.rebuilt as string[]).length, 0);
    const startedAt = records.filter((r) => r.event === "repair-started").map((r) =>
      Date.parse(String(r.time))
    );
    const endedAt = finished.map((r) => Date.parse(String(r.time)));
    const repairSeconds = (Math.max(...endedAt) - Math.min(...startedAt)) / 1000;

    // The bare transfer of what the repairs read, on the same cluster.
    const bareStart = performance.now();
    let bareBytes = 0;
    for (const r of finished) {
      const file = await client.getFile(String(r.name));
      bareBytes += await bareTransfer(file, blockLength, victim, Number(r.bytesRead));
    }
    const bare = (performance.now() - bareStart) / 1000;
    const cpuBare = await cpuOfNodes();
    const cpuSum = (a: Map<string, number>[], b: Map<string, number>[]) =>
      a.reduce((sum, before, i) => sum + cpuSecondsBetween(before, b[i]!), 0);

    const heal = (healed - killed) / 1000;
    const result = {
      settings,
      victim,
      victimBytes,
      healSeconds: heal,
      healAfterDeadSeconds: (healed - dead) / 1000,
      bareSeconds: bare,
      bareBytes,
      bytesRead: finished.reduce((s, r) => s + Number(r.bytesRead), 0),
      ratio: (healed - dead) / 1000 / bare,
      target: 2,
      rebuiltBlocks: rebuilt,
      failedAttempts: failures.length,
      trafficPerBlock: sent / Math.max(1, rebuilt),
      kTimesBlock: module.k * blockLength,
      repairRate: settings.repairRate,
      busiestNodeBytesPerSecond: busiest / repairSeconds,
      // Where the heal after the dead mark went: until the first repair started (the round's
      // FSCK of every file), the repairs, and from the last repair to fsck seeing it.
      untilFirstRepairSeconds: (Math.min(...startedAt) - deadAt) / 1000,
      repairSeconds,
      afterLastRepairSeconds: (healedAt - Math.max(...endedAt)) / 1000,
      // CPU seconds the live datanodes used: from the dead mark to healthy, and for the bare
      // transfer (which also has the bench process, not counted, as its reader).
      datanodeCpuHealSeconds: cpuSum(cpuDead, cpuHealed),
      datanodeCpuBareSeconds: cpuSum(cpuHealed, cpuBare),
    };
    console.log(`| measure | value |\n| --- | --- |`);
    console.log(
      `| killed | ${victim}, ${(victimBytes / 2 ** 20).toFixed(1)} MiB of coded blocks |`,
    );
    console.log(`| heal (kill to healthy) | ${heal.toFixed(2)} s |`);
    console.log(`| heal after the dead mark | ${result.healAfterDeadSeconds.toFixed(2)} s |`);
    console.log(
      `| of which: to the first repair, repairs, to fsck healthy | ${
        result.untilFirstRepairSeconds.toFixed(2)
      } s, ${repairSeconds.toFixed(2)} s, ${result.afterLastRepairSeconds.toFixed(2)} s |`,
    );
    console.log(
      `| bare transfer of ${(bareBytes / 2 ** 20).toFixed(1)} MiB | ${bare.toFixed(2)} s |`,
    );
    console.log(
      `| datanodes' CPU, heal after the dead mark / bare transfer | ${
        result.datanodeCpuHealSeconds.toFixed(2)
      } s / ${result.datanodeCpuBareSeconds.toFixed(2)} s |`,
    );
    console.log(
      `| ratio (heal after dead / bare) | ${result.ratio.toFixed(2)} (target <= 2: ${
        result.ratio <= 2 ? "yes" : "**no**"
      }) |`,
    );
    console.log(
      `| traffic per rebuilt block | ${
        result.trafficPerBlock.toFixed(0)
      } B vs k x block ${result.kTimesBlock} B (${
        (result.trafficPerBlock / result.kTimesBlock).toFixed(2)
      }x, ${rebuilt} blocks) |`,
    );
    if (settings.repairRate !== null) {
      const ratio = result.busiestNodeBytesPerSecond / settings.repairRate;
      console.log(
        `| repair throughput, busiest node | ${
          result.busiestNodeBytesPerSecond.toFixed(0)
        } B/s vs --repair-rate ${settings.repairRate} (${ratio.toFixed(2)}x; within 20%: ${
          Math.abs(ratio - 1) <= 0.2 ? "yes" : "**no**"
        }) |`,
      );
    }
    await Deno.mkdir(repoPath("bench/out"), { recursive: true });
    await Deno.writeTextFile(
      repoPath("bench/out/heal.json"),
      JSON.stringify(result, null, 2) + "\n",
    );
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    for (const node of nodes) {
      if (!node.exited) node.child.kill("SIGKILL");
      await node.status;
      node.release();
    }
    if (!namenode.exited) namenode.child.kill("SIGKILL");
    await namenode.status;
    namenode.release();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  let settings: HealBenchSettings;
  try {
    settings = parseHealArgs(Deno.args);
  } catch (error) {
    console.error(`heal_bench: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  }
  await main(settings);
}
