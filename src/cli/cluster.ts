/**
 * `cdfs cluster ...`: local clusters of datanodes on loopback (`src/cluster/local.ts`).
 *
 * - `cluster up --nodes N` starts N datanodes, waits until all answer PING, writes the
 *   cluster file and prints its path; it stays in the foreground until Ctrl-C (or SIGTERM,
 *   or `cluster down`), then stops the nodes cleanly. `--detach` returns at once instead.
 * - `cluster down`, `status`, `stop-node`, `start-node` take the cluster as `--cluster FILE`
 *   (or a cluster name, or `$CDFS_CLUSTER`); `clean` stops what crashed launchers left.
 *
 * @module
 */
import {
  type ClusterFile,
  clusterNodeAddresses,
  defaultStateRoot,
  readClusterFile,
  resolveClusterPath,
} from "../cluster/cluster_file.ts";
import {
  cleanClusters,
  clusterStatus,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  LocalCluster,
  startNodes,
  stopCluster,
  stopNodes,
} from "../cluster/local.ts";
import {
  assignLinks,
  type NodeLink,
  parseCongestSpec,
  parseDuration,
  parseRate,
} from "../cluster/link_spec.ts";
import {
  cleanNetworks,
  EmulatedNetwork,
  hubNamespace,
  type NetnsSupport,
  netnsSupport,
} from "../cluster/netns.ts";
import {
  clusterTotal,
  DEFAULT_STATS_TIMEOUT_MS,
  gatherClusterStats,
  summarizeRun,
} from "../cluster/cluster_stats.ts";
import {
  namespaceLauncher,
  relaysBeforeUp,
  startNetnsNodes,
  stopNetnsNodes,
} from "../cluster/netns_cluster.ts";
import { selfLauncher } from "../cluster/node_process.ts";
import { CdfsError } from "../errors.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { formatClusterStats } from "./cluster_stats.ts";
import { clusterRelayCommand } from "./cluster_relay.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatColumns } from "../format/columns.ts";

const CLUSTER_HELP = [
  "  --cluster FILE|NAME    the cluster file 'cluster up' printed, or the cluster's name",
  "                         (default: $CDFS_CLUSTER)",
  "  --state-dir DIR        where cluster files live (default: $CDFS_STATE_DIR, else",
  "                         $XDG_RUNTIME_DIR/cdfs, else /tmp/cdfs-<uid>)",
].join("\n");

const CLUSTER_OPTIONS = {
  cluster: { type: "string" },
  "state-dir": { type: "string" },
} as const;

/**
 * The options that describe an emulated network (`cluster up --netns`, `bench rapidraid`).
 *
 * @example
 * ```ts
 * import { NETNS_OPTIONS } from "./cluster.ts";
 * console.log(Object.keys(NETNS_OPTIONS).join(" ")); // netns rate delay jitter congest seed
 * ```
 */
export const NETNS_OPTIONS = {
  netns: { type: "boolean" },
  rate: { type: "string" },
  delay: { type: "string" },
  jitter: { type: "string" },
  congest: { type: "string" },
  seed: { type: "string" },
} as const;

/**
 * `cluster up`.
 *
 * @example
 * ```ts
 * import { clusterUpCommand } from "./cluster.ts";
 * console.log(clusterUpCommand.name); // "cluster up"
 * ```
 */
export const clusterUpCommand: Command = {
  name: "cluster up",
  summary: "Start N datanodes on this machine and write a cluster file",
  usage: "cdfs cluster up --nodes N [--name NAME] [--data DIR] [--base-port P] [--detach]",
  description: [
    "Starts N 'datanode serve' processes, node i on HOST:(P+i) (default: a free port each)",
    "with its data in DIR/n<i> and its JSON log in DIR/n<i>.log, waits until every node",
    "answers PING and writes the cluster file, whose path it prints: every client command",
    "takes it as --cluster FILE. Then it stays in the foreground until Ctrl-C, SIGTERM or",
    "'cdfs cluster down', and stops the nodes cleanly (SIGTERM, a grace period, SIGKILL) and",
    "removes the temporary data. The nodes run in sessions of their own: if this process is",
    "killed (kill -9) they keep running, and 'cdfs cluster clean' stops them.",
    "",
    "Options:",
    "  --nodes N              how many datanodes (required)",
    `  --name NAME            the cluster's name (default ${DEFAULT_CLUSTER_NAME}); one cluster per name`,
    "  --data DIR             the nodes' data directory, kept when the cluster stops",
    "                         (default: a new temporary directory, removed when it stops)",
    "  --keep-data            keep the temporary data directory when the cluster stops",
    "  --base-port P          node i listens on port P+i (default: any free port)",
    "  --host HOST            the address to listen on (default 127.0.0.1)",
    "  --node-arg=ARG         one more 'datanode serve' option for every node; repeat it,",
    "                         e.g. --node-arg=--chunk-size=64K",
    "  --detach               return once the nodes are up, leaving them running",
    `  --start-timeout MS     how long the nodes may take to answer (default ${DEFAULT_START_TIMEOUT_MS})`,
    `  --grace MS             how long each node may take to stop (default ${DEFAULT_STOP_GRACE_MS})`,
    "  --state-dir DIR        where the cluster file goes (default: $CDFS_STATE_DIR, else",
    "                         $XDG_RUNTIME_DIR/cdfs, else /tmp/cdfs-<uid>)",
    "  --json                 print {clusterFile, cluster} as one JSON line once up",
    "  --netns                run every node in its own network namespace behind an emulated",
    "                         link (root only; see docs/netem.md); clients then run in the",
    "                         hub namespace: ip netns exec cdfs-<name>-hub cdfs ...",
    "  --rate RATE            --netns: every node's link rate (default 1gbit)",
    "  --delay D              --netns: every node's one-way delay (default 0ms)",
    "  --jitter D             --netns: ± uniform jitter of the delay (default 0ms)",
    "  --congest P%:RATE:DELAY[:JITTER]  --netns: these settings for P% of the nodes",
    "  --seed N               --netns: which nodes --congest picks (default 1)",
    "",
    "Example:",
    "  cdfs cluster up --nodes 16 --detach",
    "  export CDFS_CLUSTER=$XDG_RUNTIME_DIR/cdfs/local/cluster.json",
  ].join("\n"),
  options: {
    nodes: { type: "string" },
    name: { type: "string" },
    data: { type: "string" },
    "keep-data": { type: "boolean" },
    "base-port": { type: "string" },
    host: { type: "string" },
    "node-arg": { type: "string", multiple: true },
    detach: { type: "boolean" },
    "start-timeout": { type: "string" },
    grace: { type: "string" },
    "state-dir": { type: "string" },
    json: { type: "boolean" },
    ...NETNS_OPTIONS,
  },
  run: runUp,
};

async function runUp(ctx: CliContext, args: ParsedArgs): Promise<number> {
  noPositionals(args);
  const nodesText = stringOption(args, "nodes");
  if (nodesText === undefined) throw new CdfsError("USAGE", "--nodes N is required");
  const nodes = integerOption(args, "nodes", 0);
  const host = stringOption(args, "host") ?? "127.0.0.1";
  const nodeArgs = args.values["node-arg"];
  const graceMs = integerOption(args, "grace", DEFAULT_STOP_GRACE_MS);
  const name = stringOption(args, "name");
  const data = stringOption(args, "data");
  const json = args.values.json === true;
  const links = await netnsLinks(args, nodes);
  const clusterName = name ?? DEFAULT_CLUSTER_NAME;

  // Signals from here on stop the cluster, whether it is starting or up.
  const stopRequested = Promise.withResolvers<Deno.Signal>();
  const abort = new AbortController();
  const onSignal = (signal: Deno.Signal) => () => {
    abort.abort();
    stopRequested.resolve(signal);
  };
  const listeners = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((signal) => {
    const listener = onSignal(signal);
    Deno.addSignalListener(signal, listener);
    return { signal, listener };
  });
  try {
    if (!json) ctx.err(`starting ${nodes} datanode${nodes === 1 ? "" : "s"}...\n`);
    const started = performance.now();
    const network = links === undefined
      ? undefined
      : await EmulatedNetwork.create({ cluster: clusterName, links });
    const launcher = selfLauncher(ctx.env);
    const cluster = await LocalCluster.start({
      nodes,
      stateRoot: stateRoot(ctx, args),
      launcher,
      host: network === undefined ? host : "127.0.0.1",
      // Each namespace has its own loopback: every node may use the same port.
      basePort: integerOption(args, "base-port", network === undefined ? 0 : NETNS_BASE_PORT),
      startTimeoutMs: integerOption(args, "start-timeout", DEFAULT_START_TIMEOUT_MS),
      keepData: args.values["keep-data"] === true,
      nodeArgs: Array.isArray(nodeArgs) ? nodeArgs.map(String) : [],
      signal: abort.signal,
      ...(name === undefined ? {} : { name }),
      ...(data === undefined ? {} : { dataDir: data }),
      ...(network === undefined ? {} : {
        launcherFor: (index: number) =>
          namespaceLauncher(launcher, network.nodes[index]!.namespace),
        pingNodes: false,
        beforeUp: relaysBeforeUp(network),
      }),
    }).catch(async (error) => {
      if (network !== undefined) await network.destroy().catch(() => {});
      throw error;
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const detach = args.values.detach === true;
    if (detach) await cluster.detach();
    if (json) {
      ctx.out(JSON.stringify({ clusterFile: cluster.path, cluster: cluster.file }) + "\n");
    } else {
      ctx.out(describeUp(cluster.path, cluster.file, seconds, detach));
    }
    if (detach) return 0;

    cluster.watchNodes((node, status) => {
      ctx.err(
        `node ${node.index} (${node.address}) exited` +
          (status.signal ? ` on ${status.signal}` : ` with code ${status.code}`) + "\n",
      );
    });
    const signal = await stopRequested.promise;
    ctx.err(`${signal}: stopping cluster '${cluster.file.name}'...\n`);
    const report = await cluster.stop(graceMs);
    if (network !== undefined) await network.destroy();
    ctx.err(
      `cluster '${report.name}' is down: ${report.terminated + report.killed} nodes stopped` +
        (report.killed > 0 ? ` (${report.killed} killed after ${graceMs} ms)` : "") +
        (report.removedData !== null ? `, removed ${report.removedData}` : "") + "\n",
    );
    return 0;
  } finally {
    for (const { signal, listener } of listeners) Deno.removeSignalListener(signal, listener);
  }
}

function describeUp(path: string, file: ClusterFile, seconds: string, detached: boolean): string {
  const rows = [
    ["node", "address", "pid", "data"],
    ...file.nodes.map((n) => [String(n.index), n.address, String(n.pid), n.dataDir]),
  ];
  return [
    `cluster '${file.name}' is up: ${file.nodes.length} nodes in ${seconds} s`,
    `cluster file: ${path}`,
    ...formatColumns(rows, rows[0]!.length).map((line) => `  ${line}`),
    ...(file.network === undefined
      ? [`use it with --cluster ${path} (or export CDFS_CLUSTER=${path})`]
      : [
        `the nodes are reachable only from the hub namespace ${file.network.hub} ` +
        `(${file.network.hubAddress}); run clients there:`,
        `  ip netns exec ${file.network.hub} cdfs <command> --cluster ${path}`,
      ]),
    detached
      ? `stop it with: cdfs cluster down --cluster ${path}`
      : "Ctrl-C (or 'cdfs cluster down') stops the cluster",
    "",
  ].join("\n");
}

/**
 * `cluster down`.
 *
 * @example
 * ```ts
 * import { clusterDownCommand } from "./cluster.ts";
 * console.log(clusterDownCommand.name); // "cluster down"
 * ```
 */
export const clusterDownCommand: Command = {
  name: "cluster down",
  summary: "Stop a local cluster's nodes and remove its state and temporary data",
  usage: "cdfs cluster down [--cluster FILE] [--grace MS]",
  description: [
    "Stops every node (SIGTERM, then SIGKILL after the grace period), removes the temporary",
    "data directory (not one given with --data or kept with --keep-data) and the cluster",
    "file. A cluster whose 'cluster up' still runs in the foreground is stopped by it.",
    "",
    "Options:",
    CLUSTER_HELP,
    `  --grace MS             how long each node may take to stop (default ${DEFAULT_STOP_GRACE_MS})`,
    "  --json                 print the summary as JSON",
  ].join("\n"),
  options: { ...CLUSTER_OPTIONS, grace: { type: "string" }, json: { type: "boolean" } },
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
      ctx.out(
        `cluster '${report.name}' is down: ${report.terminated + report.killed} nodes stopped` +
          (report.killed > 0 ? ` (${report.killed} killed)` : "") +
          (report.removedData !== null ? `, removed ${report.removedData}` : "") + "\n",
      );
    }
    return 0;
  },
};

/**
 * `cluster status`.
 *
 * @example
 * ```ts
 * import { clusterStatusCommand } from "./cluster.ts";
 * console.log(clusterStatusCommand.name); // "cluster status"
 * ```
 */
export const clusterStatusCommand: Command = {
  name: "cluster status",
  summary: "PING every node of a cluster: up or down, blocks, free space",
  usage: "cdfs cluster status [--cluster FILE] [--json]",
  description: [
    "Exits 0 when every node answers, 1 otherwise.",
    "",
    "Options:",
    CLUSTER_HELP,
    "  --timeout MS           how long each node may take to answer (default 2000)",
    "  --json                 print {name, nodes: [...]} as JSON",
  ].join("\n"),
  options: { ...CLUSTER_OPTIONS, timeout: { type: "string" }, json: { type: "boolean" } },
  run: async (ctx, args) => {
    noPositionals(args);
    const file = await readClusterFile(clusterPath(ctx, args));
    const statuses = await clusterStatus(file, integerOption(args, "timeout", 2000));
    if (args.values.json === true) {
      ctx.out(JSON.stringify({ name: file.name, state: file.state, nodes: statuses }) + "\n");
    } else {
      const up = statuses.filter((s) => s.up).length;
      // The last column (why a node is not up) has no header and is empty for most rows.
      const rows = [
        ["node", "address", "state", "pid", "blocks", "free", ""],
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
          `cluster '${file.name}' (${file.state}): ${up} of ${statuses.length} nodes up`,
          ...formatColumns(rows, alignment).map((line) => `  ${line}`),
          ...(file.network !== undefined && up < statuses.length
            ? [`(its nodes answer only in its hub: ip netns exec ${file.network.hub} cdfs ...)`]
            : []),
          "",
        ].join("\n"),
      );
    }
    return statuses.every((s) => s.up) ? 0 : 1;
  },
};

/**
 * `cluster stats`.
 *
 * @example
 * ```ts
 * import { clusterStatsCommand } from "./cluster.ts";
 * console.log(clusterStatsCommand.name); // "cluster stats"
 * ```
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
    "",
    "Options:",
    CLUSTER_HELP,
    "  --run RUN              also this run (32 hex digits, as 'cdfs stats' shows them)",
    `  --timeout MS           how long each node may take to answer (default ${DEFAULT_STATS_TIMEOUT_MS})`,
    "  --json                 print {name, run, nodes: [{index, address, id, ok, stats|error}],",
    "                         total, runSummary} as JSON",
  ].join("\n"),
  options: {
    ...CLUSTER_OPTIONS,
    run: { type: "string" },
    timeout: { type: "string" },
    json: { type: "boolean" },
  },
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
 *
 * @example
 * ```ts
 * import { clusterStopNodeCommand } from "./cluster.ts";
 * console.log(clusterStopNodeCommand.name); // "cluster stop-node"
 * ```
 */
export const clusterStopNodeCommand: Command = {
  name: "cluster stop-node",
  summary: "Stop nodes of a cluster (their data stays; start-node brings them back)",
  usage: "cdfs cluster stop-node [--cluster FILE] [--kill] INDEX...",
  description: [
    "In an emulated network (--netns) the node's delay relay stops too, so its address",
    "refuses connections like that of a stopped node on loopback.",
    "",
    "Options:",
    CLUSTER_HELP,
    "  --kill                 SIGKILL at once (a crash) instead of a graceful stop",
    `  --grace MS             how long each node may take to stop (default ${DEFAULT_STOP_GRACE_MS})`,
  ].join("\n"),
  options: { ...CLUSTER_OPTIONS, kill: { type: "boolean" }, grace: { type: "string" } },
  run: async (ctx, args) => {
    const indices = nodeIndices(args);
    const path = clusterPath(ctx, args);
    const stop = (await readClusterFile(path)).network === undefined ? stopNodes : stopNetnsNodes;
    const wereRunning = await stop(path, indices, {
      kill: args.values.kill === true,
      graceMs: integerOption(args, "grace", DEFAULT_STOP_GRACE_MS),
    });
    for (const index of indices) {
      ctx.out(`node ${index}: ${wereRunning.includes(index) ? "stopped" : "was not running"}\n`);
    }
    return 0;
  },
};

/**
 * `cluster start-node`.
 *
 * @example
 * ```ts
 * import { clusterStartNodeCommand } from "./cluster.ts";
 * console.log(clusterStartNodeCommand.name); // "cluster start-node"
 * ```
 */
export const clusterStartNodeCommand: Command = {
  name: "cluster start-node",
  summary: "Start stopped nodes of a cluster again, on their addresses and data",
  usage: "cdfs cluster start-node [--cluster FILE] INDEX...",
  description: [
    "In an emulated network (--netns) the node starts in its namespace again, behind a new",
    "delay relay with its link settings, on the same address.",
    "",
    "Options:",
    CLUSTER_HELP,
    `  --start-timeout MS     how long the nodes may take to answer (default ${DEFAULT_START_TIMEOUT_MS})`,
  ].join("\n"),
  options: { ...CLUSTER_OPTIONS, "start-timeout": { type: "string" } },
  run: async (ctx, args) => {
    const indices = nodeIndices(args);
    const path = clusterPath(ctx, args);
    const start = (await readClusterFile(path)).network === undefined
      ? startNodes
      : startNetnsNodes;
    const started = await start(path, indices, {
      launcher: selfLauncher(ctx.env),
      startTimeoutMs: integerOption(args, "start-timeout", DEFAULT_START_TIMEOUT_MS),
    });
    for (const node of started) {
      ctx.out(`node ${node.index}: started on ${node.address}, pid ${node.pid}\n`);
    }
    return 0;
  },
};

/**
 * `cluster clean`.
 *
 * @example
 * ```ts
 * import { clusterCleanCommand } from "./cluster.ts";
 * console.log(clusterCleanCommand.name); // "cluster clean"
 * ```
 */
export const clusterCleanCommand: Command = {
  name: "cluster clean",
  summary: "Stop and remove what crashed 'cluster up' launchers left behind",
  usage: "cdfs cluster clean [--all] [--state-dir DIR]",
  description: [
    "For every cluster in the state directory whose launcher died without --detach: stops",
    "its nodes, removes its temporary data and its cluster file. Live clusters and detached",
    "ones are kept, unless --all.",
    "",
    "Options:",
    "  --all                  stop every cluster of the state directory",
    "  --state-dir DIR        the state directory (default: $CDFS_STATE_DIR, else",
    "                         $XDG_RUNTIME_DIR/cdfs, else /tmp/cdfs-<uid>)",
    `  --grace MS             how long each node may take to stop (default ${DEFAULT_STOP_GRACE_MS})`,
    "  --json                 print what was done as JSON",
  ].join("\n"),
  options: {
    all: { type: "boolean" },
    "state-dir": { type: "string" },
    grace: { type: "string" },
    json: { type: "boolean" },
  },
  run: async (ctx, args) => {
    noPositionals(args);
    const cleaned = await cleanClusters(stateRoot(ctx, args), {
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

/**
 * The cluster file a command names: `--cluster FILE|NAME`, else `$CDFS_CLUSTER`. For the node
 * list of client commands, `clusterNodeAddresses(await readClusterFile(path))`.
 *
 * @example
 * ```ts
 * import { clusterPath } from "./cluster.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * console.log(clusterPath(ctx, { values: { cluster: "/tmp/c.json" }, positionals: [] })); // "/tmp/c.json"
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments, with `--cluster` and `--state-dir`.
 * @returns The cluster file's absolute path.
 * @throws {CdfsError} USAGE when neither is given.
 */
export function clusterPath(ctx: CliContext, args: ParsedArgs): string {
  const path = optionalClusterPath(ctx, args);
  if (path === undefined) {
    throw new CdfsError(
      "USAGE",
      "--cluster FILE is required (or set CDFS_CLUSTER); 'cdfs cluster up' prints the file",
    );
  }
  return path;
}

/**
 * Like {@linkcode clusterPath}, but `undefined` when no cluster is named; with
 * `fromEnv: false` only the `--cluster` option counts.
 *
 * @example
 * ```ts
 * import { optionalClusterPath } from "./cluster.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * console.log(optionalClusterPath(ctx, { values: {}, positionals: [] })); // undefined
 * ```
 *
 * @param ctx The command's context (for the environment).
 * @param args The parsed arguments.
 * @param options Whether `$CDFS_CLUSTER` counts (default true).
 * @returns The cluster file's absolute path, or undefined.
 */
export function optionalClusterPath(
  ctx: CliContext,
  args: ParsedArgs,
  options: { fromEnv?: boolean } = {},
): string | undefined {
  const value = stringOption(args, "cluster") ??
    (options.fromEnv === false ? undefined : ctx.env("CDFS_CLUSTER"));
  return value === undefined ? undefined : resolveClusterPath(value, stateRoot(ctx, args));
}

/**
 * The node addresses of the cluster a command names (see {@linkcode clusterPath}), in index
 * order.
 *
 * @example
 * ```ts ignore
 * import { clusterAddresses } from "./cluster.ts";
 * const nodes = await clusterAddresses(ctx, args);
 * ```
 *
 * @param ctx The command's context.
 * @param args The parsed arguments.
 * @returns The addresses.
 */
export async function clusterAddresses(ctx: CliContext, args: ParsedArgs): Promise<string[]> {
  return clusterNodeAddresses(await readClusterFile(clusterPath(ctx, args)));
}

/** The DataNodes' port inside their namespaces (the relays listen on the same one). */
const NETNS_BASE_PORT = 7000;
const NETNS_ONLY = ["rate", "delay", "jitter", "congest", "seed"] as const;

/**
 * The links of `cluster up --netns` (undefined without `--netns`), once the options are
 * valid and this machine can emulate networks.
 *
 * @example
 * ```ts ignore
 * import { netnsLinks } from "./cluster.ts";
 * await netnsLinks({ values: { netns: true }, positionals: [] }, 3, async () => ({ ok: false, reason: "not root" }));
 * // throws CdfsError UNAVAILABLE "cluster up --netns: not root"
 * ```
 *
 * @param args The parsed arguments of `cluster up`.
 * @param nodes The node count.
 * @param support Says whether network emulation works here (default `netnsSupport`).
 * @returns Every node's link, or undefined without `--netns`.
 * @throws {CdfsError} USAGE for a bad setting or one without `--netns`; UNAVAILABLE when
 * emulation is not possible here (not root, no `ip netns`).
 */
export async function netnsLinks(
  args: ParsedArgs,
  nodes: number,
  support: () => Promise<NetnsSupport> = netnsSupport,
): Promise<NodeLink[] | undefined> {
  if (args.values.netns !== true) {
    const stray = NETNS_ONLY.find((option) => args.values[option] !== undefined);
    if (stray !== undefined) throw new CdfsError("USAGE", `--${stray} needs --netns`);
    return undefined;
  }
  const base = {
    rateBitsPerSecond: parseRate(stringOption(args, "rate") ?? "1gbit", "--rate"),
    delayMs: parseDuration(stringOption(args, "delay") ?? "0ms", "--delay"),
    jitterMs: parseDuration(stringOption(args, "jitter") ?? "0ms", "--jitter"),
  };
  const congestText = stringOption(args, "congest");
  const links = assignLinks({
    nodes,
    base,
    seed: integerOption(args, "seed", 1),
    ...(congestText === undefined ? {} : { congest: parseCongestSpec(congestText, "--congest") }),
  });
  const supported = await support();
  if (!supported.ok) {
    throw new CdfsError(
      "UNAVAILABLE",
      `cluster up --netns: network emulation is not available: ${supported.reason}`,
    );
  }
  return links;
}

async function cleanNetworkOf(name: string): Promise<void> {
  try {
    hubNamespace(name); // Only names that can have namespaces.
    await cleanNetworks(name);
  } catch {
    // No `ip` here (then there are no namespaces either), or not ours to judge: skip.
  }
}

function stateRoot(ctx: CliContext, args: ParsedArgs): string {
  const explicit = stringOption(args, "state-dir");
  return explicit !== undefined && explicit !== ""
    ? defaultStateRoot((name) => name === "CDFS_STATE_DIR" ? explicit : undefined)
    : defaultStateRoot(ctx.env);
}

function noPositionals(args: ParsedArgs): void {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
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
