/**
 * `cdfs cluster ...`: local clusters of datanodes on loopback (`src/cluster/local.ts`).
 *
 * - `cluster up --nodes N` starts a namenode (SQLite in the cluster's state directory, an
 *   existing etcd with `--meta`, or an etcd of its own with `--etcd`) and N datanodes that
 *   register with it, waits until all answer and are registered, writes the cluster file and
 *   prints its path; it stays in the foreground until Ctrl-C (or SIGTERM, or
 *   `cluster down`), then stops everything cleanly. `--detach` returns at once instead
 *   (`cluster_up.ts`).
 * - `cluster down`, `status`, `stop-node`, `start-node` take the cluster as `--cluster FILE`
 *   (or a cluster name, or `$CDFS_CLUSTER`, see `cluster_options.ts`); `clean` stops what
 *   crashed launchers left.
 *
 * @module
 */
import { readClusterFile } from "../cluster/cluster_file_io.ts";
import { nameNodeStatus } from "../cluster/cluster_namenode.ts";
import {
  clusterTotal,
  DEFAULT_STATS_TIMEOUT_MS,
  gatherClusterStats,
  summarizeRun,
} from "../cluster/cluster_stats.ts";
import { cleanClusters, DEFAULT_STOP_GRACE_MS, stopCluster } from "../cluster/cluster_stop.ts";
import { DEFAULT_START_TIMEOUT_MS } from "../cluster/local.ts";
import { startNetnsNodes, stopNetnsNodes } from "../cluster/netns_cluster.ts";
import { runningNodes, startNodes, stopNodes } from "../cluster/node_control.ts";
import { selfLauncher } from "../cluster/node_process.ts";
import { clusterStatus } from "../cluster/node_status.ts";
import { CdfsError } from "../core/errors.ts";
import { cleanNetworks } from "../emulation/netns_clean.ts";
import { hubNamespace } from "../emulation/netns_names.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatColumns } from "../format/columns.ts";
import { formatCount } from "../format/count.ts";
import {
  CLUSTER_OPTIONS,
  clusterPath,
  clusterStateRoot,
  GRACE_OPTION,
  noPositionals,
  START_TIMEOUT_OPTION,
} from "./cluster_options.ts";
import { clusterRelayCommand } from "./cluster_relay.ts";
import { formatClusterStats } from "./cluster_stats.ts";
import { clusterUpCommand, describeDown } from "./cluster_up.ts";
import { decodableLoss } from "../client/files/decodable_loss.ts";
import { connectNamenode } from "./namenode_option.ts";
import {
  type ArgumentDef,
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { jsonOption, STATE_DIR_OPTION } from "./options.ts";

/** The node indices of stop-node and start-node. */
const INDEX_ARGUMENTS: readonly ArgumentDef[] = [
  { name: "INDEX", variadic: true, description: "the nodes, by index (node 0 first)" },
];

/**
 * `cluster down`.
 */
export const clusterDownCommand: Command = {
  name: "cluster down",
  summary: "Stop a local cluster's nodes and remove its state and temporary data",
  usage: "cdfs cluster down [--cluster FILE] [--grace MS]",
  description: [
    "Stops every node (SIGTERM, then SIGKILL after the grace period), removes the temporary",
    "data directory (not one given with --data or kept with --keep-data) and the cluster",
    "file. A cluster whose 'cluster up' still runs in the foreground is stopped by it.",
  ].join("\n"),
  options: { ...CLUSTER_OPTIONS, ...GRACE_OPTION, ...jsonOption() },
  arguments: [],
  examples: ["cdfs cluster down --cluster lab"],
  run: async (ctx, args) => {
    noPositionals(args);
    const path = clusterPath(ctx, args);
    const network = (await readClusterFile(path).catch(() => undefined))?.network;
    const report = await stopCluster(path, {
      graceMs: integerOption(args, "grace", DEFAULT_STOP_GRACE_MS),
    });
    // This cluster's namespaces only (and the relays in them); a foreground launcher may
    // have removed them already.
    if (network !== undefined) await cleanNetworks(report.name);
    if (args.values.json === true) {
      ctx.out(JSON.stringify(report) + "\n");
    } else {
      ctx.out(describeDown(report));
    }
    return 0;
  },
};

/**
 * `cluster status`.
 */
export const clusterStatusCommand: Command = {
  name: "cluster status",
  summary: "PING every node of a cluster and its namenode: up or down, blocks, free space",
  usage: "cdfs cluster status [--cluster FILE] [--json]",
  description: [
    "The namenode's row says how many datanodes it counts alive and dead. Exits 0 when every",
    "node and the namenode answer, 1 otherwise.",
  ].join("\n"),
  options: {
    ...CLUSTER_OPTIONS,
    timeout: {
      type: "string",
      value: "MS",
      description: "how long each node may take to answer",
      default: 2000,
    },
    ...jsonOption("print {name, state, namenode, nodes: [...]} as JSON"),
  },
  arguments: [],
  examples: ["cdfs cluster status --cluster lab", "cdfs cluster status --cluster lab --json"],
  run: async (ctx, args) => {
    noPositionals(args);
    const file = await readClusterFile(clusterPath(ctx, args));
    const timeoutMs = integerOption(args, "timeout", 2000);
    const [statuses, namenode] = await Promise.all([
      clusterStatus(file, timeoutMs),
      nameNodeStatus(file, timeoutMs),
    ]);
    if (args.values.json === true) {
      ctx.out(
        JSON.stringify({
          name: file.name,
          state: file.state,
          namenode: namenode ?? null,
          nodes: statuses,
        }) + "\n",
      );
    } else {
      const up = statuses.filter((s) => s.up).length;
      // The last column (why a node is not up) has no header and is empty for most rows.
      const rows = [
        ["node", "address", "state", "pid", "blocks", "free", ""],
        ...(namenode === undefined ? [] : [[
          "namenode",
          namenode.address,
          namenode.up ? "up" : namenode.running === true ? "no answer" : "down",
          String(namenode.pid ?? "-"),
          "-",
          "-",
          namenode.up
            ? `${namenode.alive} datanodes alive, ${namenode.dead} dead (${namenode.meta})`
            : namenode.error ?? "",
        ]]),
        ...statuses.map((s) => [
          String(s.index),
          s.address,
          s.up ? "up" : s.running ? "no answer" : "down",
          String(s.pid ?? "-"),
          String(s.blocks ?? "-"),
          s.freeBytes === undefined ? "-" : formatBytes(s.freeBytes),
          s.up ? "" : s.error ?? "",
        ]),
      ];
      const alignment = ["left", "left", "left", "left", "right", "right", "left"] as const;
      ctx.out(
        [
          `cluster '${file.name}' (${file.state}): ${up} of ` +
          `${formatCount(statuses.length, "node")} up` +
          (namenode === undefined ? "" : `, namenode ${namenode.up ? "up" : "down"}`),
          ...formatColumns(rows, alignment).map((line) => `  ${line}`),
          ...(file.network !== undefined && up < statuses.length
            ? [`(its nodes answer only in its hub: ip netns exec ${file.network.hub} cdfs ...)`]
            : []),
          "",
        ].join("\n"),
      );
    }
    return statuses.every((s) => s.up) && namenode?.up !== false ? 0 : 1;
  },
};

/**
 * `cluster stats`.
 */
export const clusterStatsCommand: Command = {
  name: "cluster stats",
  summary: "Traffic of every node of a cluster: requests, bytes in and out, time; per run",
  usage: "cdfs cluster stats [--cluster FILE|NAME] [--run RUN] [--json]",
  description: [
    "Asks every node for its STATS at once and shows one row per node: requests served,",
    "errors, frame bytes in and out, time spent serving, and the totals. With --run, also",
    "that CODING run on every node: what it served, what it fetched over the connections it",
    "opened to other nodes (by node), and when it was busy (start, first and last step, end,",
    "in ms after the earliest start among the nodes). A node that does not answer is a row",
    "saying why; then the exit code is 1. For a cluster in an emulated network (--netns), run",
    "it in the hub namespace: ip netns exec cdfs-<name>-hub cdfs cluster stats ...",
  ].join("\n"),
  options: {
    ...CLUSTER_OPTIONS,
    run: {
      type: "string",
      value: "RUN",
      description: "also this run (32 hex digits, as 'cdfs stats' shows them)",
    },
    timeout: {
      type: "string",
      value: "MS",
      description: "how long each node may take to answer",
      default: DEFAULT_STATS_TIMEOUT_MS,
    },
    ...jsonOption(
      "print {name, run, nodes: [{index, address, id, ok, stats|error}], total, runSummary} " +
        "as JSON",
    ),
  },
  arguments: [],
  examples: ["cdfs cluster stats --cluster lab", "cdfs cluster stats --cluster lab --json"],
  run: async (ctx, args) => {
    noPositionals(args);
    const run = stringOption(args, "run");
    if (run !== undefined && !/^[0-9a-f]{32}$/.test(run)) {
      throw new CdfsError("USAGE", `--run must be 32 lower-case hex digits, got '${run}'`);
    }
    const file = await readClusterFile(clusterPath(ctx, args));
    const nodes = await gatherClusterStats(file, {
      timeoutMs: integerOption(args, "timeout", DEFAULT_STATS_TIMEOUT_MS),
      ...(run === undefined ? {} : { run }),
    });
    const summary = run === undefined ? undefined : summarizeRun(nodes, run);
    const unreachable = nodes.filter((node) => !node.ok).length;
    if (args.values.json === true) {
      ctx.out(
        JSON.stringify({
          name: file.name,
          run: run ?? null,
          nodes,
          total: clusterTotal(nodes),
          ...(summary === undefined ? {} : { runSummary: summary }),
        }) + "\n",
      );
    } else {
      ctx.out(formatClusterStats(file.name, nodes, summary));
      if (file.network !== undefined && unreachable > 0) {
        ctx.out(`(its nodes answer only in its hub: ip netns exec ${file.network.hub} cdfs ...)\n`);
      }
    }
    return unreachable === 0 ? 0 : 1;
  },
};

/**
 * `cluster stop-node`.
 */
export const clusterStopNodeCommand: Command = {
  name: "cluster stop-node",
  summary: "Stop nodes of a cluster (their data stays; start-node brings them back)",
  usage:
    "cdfs cluster stop-node [--cluster FILE] [--kill] INDEX... | --count N --decodable-for NAME",
  description: [
    "A graceful stop (SIGTERM) ends with the node telling the cluster's namenode that it",
    "leaves, so 'cdfs fsck' and 'cdfs repair' count it dead at once; a killed node (--kill)",
    "counts dead only after the namenode's --dead-after of silence (cluster up --dead-after).",
    "In an emulated network (--netns) the node's delay relay stops too, so its address",
    "refuses connections like that of a stopped node on loopback. A node that is stopped",
    "already is said so ('already stopped'), and the exit code is 0, as with start-node.",
    "",
    "With --count N --decodable-for NAME it chooses the nodes itself: the first N (in index",
    "order) whose loss the file NAME survives, asking the cluster's namenode where its blocks",
    "are. A code that is not MDS (RapidRAID) cannot decode every loss of n - k blocks, so",
    "stopping nodes 0 to 4 loses a file now and then; this never does.",
  ].join("\n"),
  options: {
    ...CLUSTER_OPTIONS,
    kill: {
      type: "boolean",
      description: "SIGKILL at once (a crash: the namenode notices after --dead-after) instead " +
        "of a graceful stop",
    },
    count: {
      type: "string",
      value: "N",
      description: "with --decodable-for: how many nodes to stop",
    },
    "decodable-for": {
      type: "string",
      value: "NAME",
      description: "choose the nodes: the first --count whose loss the file NAME survives",
    },
    ...GRACE_OPTION,
  },
  arguments: INDEX_ARGUMENTS,
  // No INDEX with --decodable-for; without it, nodeIndices says what is missing.
  minArguments: 0,
  examples: [
    "cdfs cluster stop-node --cluster lab 0 1 2 3 4",
    "cdfs cluster stop-node --cluster lab --kill 7",
    "cdfs cluster stop-node --cluster lab --count 5 --decodable-for big.iso",
  ],
  run: async (ctx, args) => {
    const chosen = args.values["decodable-for"] !== undefined;
    if (!chosen && args.positionals.length === 0) {
      throw new CdfsError(
        "USAGE",
        "cluster stop-node: missing argument: expected INDEX... (or --count N --decodable-for " +
          "NAME); see 'cdfs cluster stop-node --help'",
      );
    }
    const path = clusterPath(ctx, args);
    const indices = chosen ? await decodableIndices(ctx, args, path) : nodeIndices(args);
    const stop = (await readClusterFile(path)).network === undefined ? stopNodes : stopNetnsNodes;
    const wereRunning = await stop(path, indices, {
      kill: args.values.kill === true,
      graceMs: integerOption(args, "grace", DEFAULT_STOP_GRACE_MS),
    });
    // A node that is stopped already is said so, not an error: like start-node on a running one.
    for (const index of indices) {
      ctx.out(`node ${index}: ${wereRunning.includes(index) ? "stopped" : "already stopped"}\n`);
    }
    return 0;
  },
};

/**
 * `cluster start-node`.
 */
export const clusterStartNodeCommand: Command = {
  name: "cluster start-node",
  summary: "Start stopped nodes of a cluster again, on their addresses and data",
  usage: "cdfs cluster start-node [--cluster FILE] INDEX...",
  description: [
    "In an emulated network (--netns) the node starts in its namespace again, behind a new",
    "delay relay with its link settings, on the same address. A node that runs already is",
    "said so ('already running'), and the exit code is 0, as with stop-node.",
  ].join("\n"),
  options: { ...CLUSTER_OPTIONS, ...START_TIMEOUT_OPTION },
  arguments: INDEX_ARGUMENTS,
  examples: ["cdfs cluster start-node --cluster lab 0 1 2 3 4"],
  run: async (ctx, args) => {
    const indices = nodeIndices(args);
    const startTimeoutMs = integerOption(args, "start-timeout", DEFAULT_START_TIMEOUT_MS);
    const path = clusterPath(ctx, args);
    const file = await readClusterFile(path);
    const start = file.network === undefined ? startNodes : startNetnsNodes;
    // A node that runs already is said so, not an error: like stop-node on a stopped one.
    const running = runningNodes(file, indices);
    const stopped = [...new Set(indices)].filter((index) => !running.has(index));
    const started = stopped.length === 0
      ? []
      : await start(path, stopped, { launcher: selfLauncher(ctx.env), startTimeoutMs });
    for (const index of indices) {
      const node = started.find((n) => n.index === index);
      ctx.out(
        node === undefined
          ? `node ${index}: already running, pid ${running.get(index)}\n`
          : `node ${index}: started on ${node.address}, pid ${node.pid}\n`,
      );
    }
    return 0;
  },
};

/**
 * `cluster clean`.
 */
export const clusterCleanCommand: Command = {
  name: "cluster clean",
  summary: "Stop and remove what crashed 'cluster up' launchers left behind",
  usage: "cdfs cluster clean [--all] [--state-dir DIR]",
  description: [
    "For every cluster in the state directory whose launcher died without --detach: stops",
    "its nodes, removes its temporary data and its cluster file. Live clusters and detached",
    "ones are kept, unless --all.",
  ].join("\n"),
  options: {
    all: { type: "boolean", description: "stop every cluster of the state directory" },
    ...STATE_DIR_OPTION,
    ...GRACE_OPTION,
    ...jsonOption("print what was done as JSON"),
  },
  arguments: [],
  examples: ["cdfs cluster clean", "cdfs cluster clean --all"],
  run: async (ctx, args) => {
    noPositionals(args);
    const cleaned = await cleanClusters(clusterStateRoot(ctx, args), {
      all: args.values.all === true,
      graceMs: integerOption(args, "grace", DEFAULT_STOP_GRACE_MS),
    });
    for (const c of cleaned) {
      if (c.action === "stopped") await cleanNetworkOf(c.name);
    }
    if (args.values.json === true) {
      ctx.out(JSON.stringify(cleaned) + "\n");
    } else if (cleaned.length === 0) {
      ctx.out("no clusters\n");
    } else {
      for (const c of cleaned) ctx.out(`${c.name}: ${c.action} (${c.detail})\n`);
    }
    return 0;
  },
};

/**
 * Every `cluster` sub-command.
 *
 * @example
 * ```ts
 * import { CLUSTER_COMMANDS } from "./cluster.ts";
 * console.log(CLUSTER_COMMANDS.map((c) => c.name.split(" ")[1]));
 * ```
 */
export const CLUSTER_COMMANDS: readonly Command[] = [
  clusterUpCommand,
  clusterDownCommand,
  clusterStatusCommand,
  clusterStatsCommand,
  clusterStopNodeCommand,
  clusterStartNodeCommand,
  clusterCleanCommand,
  clusterRelayCommand,
];

async function cleanNetworkOf(name: string): Promise<void> {
  try {
    hubNamespace(name); // Only names that can have namespaces.
    await cleanNetworks(name);
  } catch {
    // No `ip` here (then there are no namespaces either), or not ours to judge: skip.
  }
}

/** The nodes of `--count N --decodable-for NAME`: a loss the file survives. */
async function decodableIndices(
  ctx: CliContext,
  args: ParsedArgs,
  path: string,
): Promise<number[]> {
  noPositionals(args);
  const name = String(args.values["decodable-for"]);
  if (args.values.count === undefined) {
    throw new CdfsError("USAGE", "--decodable-for needs --count N: how many nodes to stop");
  }
  const count = integerOption(args, "count", 0);
  const cluster = await readClusterFile(path);
  const ids = cluster.nodes.map((node) => node.id);
  using namenode = await connectNamenode(ctx, { values: { cluster: path }, positionals: [] });
  const lost = await decodableLoss(await namenode.getFile(name), ids, count);
  return lost.map((id) => ids.indexOf(id));
}

function nodeIndices(args: ParsedArgs): number[] {
  if (args.positionals.length === 0) throw new CdfsError("USAGE", "name the node INDEX(es)");
  return args.positionals.map((text) => {
    if (!/^\d{1,6}$/.test(text)) {
      throw new CdfsError("USAGE", `node index '${text}' is not a number`);
    }
    return Number(text);
  });
}
