/**
 * `cdfs cluster ...`: local clusters of datanodes on loopback (`src/cluster/local.ts`).
 *
 * - `cluster up --nodes N` starts a namenode (SQLite in the cluster's state directory, an
 *   existing etcd with `--meta`, or an etcd of its own with `--etcd`) and N datanodes that
 *   register with it, waits until all answer and are registered, writes the cluster file and
 *   prints its path; it stays in the foreground until Ctrl-C (or SIGTERM, or
 *   `cluster down`), then stops everything cleanly. `--detach` returns at once instead.
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
  checkClusterOptions,
  cleanClusters,
  clusterStatus,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  LocalCluster,
  runningNodes,
  startNodes,
  stopCluster,
  stopNodes,
  type StopReport,
} from "../cluster/local.ts";
import {
  assignLinks,
  type NodeLink,
  parseCongestSpec,
  parseDuration,
  parseRate,
} from "../emulation/link_spec.ts";
import {
  cleanNetworks,
  EmulatedNetwork,
  hubNamespace,
  type NetnsSupport,
  netnsSupport,
} from "../emulation/netns.ts";
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
import { type ClusterNameNodeOptions, nameNodeStatus } from "../cluster/cluster_namenode.ts";
import { findEtcd } from "../cluster/etcd.ts";
import { CdfsError } from "../core/errors.ts";
import { NAMENODE_DEFAULTS } from "../namenode/server.ts";
import {
  type ArgumentDef,
  type CliContext,
  type Command,
  integerOption,
  type OptionSpec,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { clusterOption, jsonOption, STATE_DIR_OPTION } from "./options.ts";
import { formatClusterStats } from "./cluster_stats.ts";
import { clusterRelayCommand } from "./cluster_relay.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatColumns } from "../format/columns.ts";
import { formatCount } from "../format/count.ts";

/** The cluster a command works on, and where its file is looked for. */
const CLUSTER_OPTIONS: OptionSpec = {
  ...clusterOption("the cluster: the file 'cluster up' printed, or the cluster's name"),
  ...STATE_DIR_OPTION,
};

const GRACE_OPTION: OptionSpec = {
  grace: {
    type: "string",
    value: "MS",
    description: "how long each node may take to stop",
    default: DEFAULT_STOP_GRACE_MS,
  },
};

const START_TIMEOUT_OPTION: OptionSpec = {
  "start-timeout": {
    type: "string",
    value: "MS",
    description: "how long the nodes may take to answer",
    default: DEFAULT_START_TIMEOUT_MS,
  },
};

/** The node indices of stop-node and start-node. */
const INDEX_ARGUMENTS: readonly ArgumentDef[] = [
  { name: "INDEX", variadic: true, description: "the nodes, by index (node 0 first)" },
];

/**
 * The options that describe an emulated network (`cluster up --netns`, `bench rapidraid`).
 *
 * @example
 * ```ts
 * import { NETNS_OPTIONS } from "./cluster.ts";
 * console.log(Object.keys(NETNS_OPTIONS).join(" ")); // netns rate delay jitter congest seed
 * ```
 */
export const NETNS_OPTIONS: OptionSpec = {
  netns: {
    type: "boolean",
    description: "run every node in its own network namespace behind an emulated link (root " +
      "only; see docs/netem.md); clients then run in the hub namespace: " +
      "ip netns exec cdfs-<name>-hub cdfs ...",
  },
  rate: {
    type: "string",
    value: "RATE",
    description: "--netns: every node's link rate",
    default: "1gbit",
  },
  delay: {
    type: "string",
    value: "D",
    description: "--netns: every node's one-way delay",
    default: "0ms",
  },
  jitter: {
    type: "string",
    value: "D",
    description: "--netns: ± uniform jitter of the delay",
    default: "0ms",
  },
  congest: {
    type: "string",
    value: "P%:RATE:DELAY[:JITTER]",
    description: "--netns: these settings for P% of the nodes",
  },
  seed: {
    type: "string",
    value: "N",
    description: "--netns: which nodes --congest picks",
    default: 1,
  },
};

/**
 * `cluster up`.
 */
export const clusterUpCommand: Command = {
  name: "cluster up",
  summary: "Start a namenode and N datanodes on this machine and write a cluster file",
  usage: "cdfs cluster up --nodes N [--name NAME] [--data DIR] [--base-port P] " +
    "[--meta SPEC | --etcd] [--dead-after DURATION] [--detach]",
  description: [
    "Starts a 'namenode serve' process (its log in DIR/namenode.log), then N 'datanode serve'",
    "processes, node i on HOST:(P+i) (default: a free port each) with its data in DIR/n<i> and",
    "its JSON log in DIR/n<i>.log, which register with the namenode. Once every node answers",
    "PING and is registered it writes the cluster file, whose path it prints: every client",
    "command takes it as --cluster FILE (or the cluster's name), and finds the namenode in it.",
    "The namenode keeps its metadata in SQLite in the cluster's state directory, in an etcd",
    "of yours (--meta etcd:URL), or in a one-member etcd started for the cluster (--etcd, its",
    "data in DIR/etcd). Then it stays in the foreground until Ctrl-C, SIGTERM or 'cdfs cluster",
    "down', and stops everything cleanly (SIGTERM, a grace period, SIGKILL) and removes the",
    "temporary data. The processes run in sessions of their own: if this process is killed",
    "(kill -9) they keep running, and 'cdfs cluster clean' stops them. With --netns the nodes",
    "run without a namenode.",
  ].join("\n"),
  options: {
    nodes: { type: "string", value: "N", description: "how many datanodes (required)" },
    name: {
      type: "string",
      value: "NAME",
      description: "the cluster's name; one cluster per name",
      default: DEFAULT_CLUSTER_NAME,
    },
    data: {
      type: "string",
      value: "DIR",
      description: "the nodes' data directory, kept when the cluster stops",
      default: "a new temporary directory, removed when it stops",
    },
    "keep-data": {
      type: "boolean",
      description: "keep the temporary data directory when the cluster stops",
    },
    "base-port": {
      type: "string",
      value: "P",
      description: "node i listens on port P+i",
      default: "any free port",
    },
    host: {
      type: "string",
      value: "HOST",
      description: "the address to listen on",
      default: "127.0.0.1",
    },
    "node-arg": {
      type: "string",
      multiple: true,
      value: "ARG",
      description: "one more 'datanode serve' option for every node, e.g. " +
        "--node-arg=--chunk-size=64K",
    },
    meta: {
      type: "string",
      value: "SPEC",
      description: "the namenode's metadata store: etcd:URL[,URL...] of an etcd you run, or " +
        "sqlite:PATH",
      default: "sqlite:<state dir>/<name>/namenode.db",
    },
    etcd: {
      type: "boolean",
      description: "start a one-member etcd for the namenode's metadata (/usr/bin/etcd of " +
        "Debian's etcd-server, or $CDFS_ETCD), stopped with the cluster",
    },
    "dead-after": {
      type: "string",
      value: "DURATION",
      description: "the namenode's --dead-after: how long a datanode that vanished without a " +
        "word (killed, crashed, cut off) stays counted alive, e.g. 5s or 1500ms; one stopped " +
        "gracefully (stop-node) says it leaves and is dead at once",
      default: `${NAMENODE_DEFAULTS.deadAfterMs / 1000}s`,
    },
    "namenode-arg": {
      type: "string",
      multiple: true,
      value: "ARG",
      description:
        "one more 'namenode serve' option, e.g. --namenode-arg=--block-report-interval=10m",
    },
    "no-namenode": {
      type: "boolean",
      description: "start the datanodes only, without a namenode",
    },
    detach: {
      type: "boolean",
      description: "return once the nodes are up, leaving them running",
    },
    ...START_TIMEOUT_OPTION,
    ...GRACE_OPTION,
    ...STATE_DIR_OPTION,
    ...jsonOption("print {clusterFile, cluster} as one JSON line once up"),
    ...NETNS_OPTIONS,
  },
  arguments: [],
  examples: [
    "cdfs cluster up --nodes 16 --name lab --detach",
    "cdfs cluster up --nodes 4 --etcd --detach",
    "cdfs cluster up --nodes 4 --meta etcd:http://127.0.0.1:2379 --dead-after 10s",
    "cdfs cluster up --nodes 3 --node-arg=--chunk-size=64K",
    "cdfs cluster up --netns --nodes 16 --rate 200mbit --delay 1ms --congest 25%:500mbit:100ms:10ms",
  ],
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
  // Each namespace has its own loopback: there every node may use the same port.
  const basePort = integerOption(
    args,
    "base-port",
    args.values.netns === true ? NETNS_BASE_PORT : 0,
  );
  const startTimeoutMs = integerOption(args, "start-timeout", DEFAULT_START_TIMEOUT_MS);
  // Refused before "starting N datanodes" is said (and before a network is built for them).
  checkClusterOptions({
    nodes,
    basePort,
    ...(name === undefined ? {} : { name }),
    ...(data === undefined ? {} : { dataDir: data }),
  });
  const namenode = await namenodeOptions(ctx, args);
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
    if (!json) {
      ctx.err(
        `starting ${namenode === undefined ? "" : "a namenode and "}` +
          `${formatCount(nodes, "datanode")}...\n`,
      );
    }
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
      basePort,
      startTimeoutMs,
      keepData: args.values["keep-data"] === true,
      nodeArgs: Array.isArray(nodeArgs) ? nodeArgs.map(String) : [],
      signal: abort.signal,
      ...(name === undefined ? {} : { name }),
      ...(data === undefined ? {} : { dataDir: data }),
      ...(namenode === undefined ? {} : { namenode }),
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

    const exited = (what: string, status: Deno.CommandStatus) =>
      ctx.err(
        `${what} exited` +
          (status.signal ? ` on ${status.signal}` : ` with code ${status.code}`) + "\n",
      );
    cluster.watchNodes((node, status) => exited(`node ${node.index} (${node.address})`, status));
    cluster.watchServices((service, status) => exited(`the ${service}`, status));
    const signal = await stopRequested.promise;
    ctx.err(`${signal}: stopping cluster '${cluster.file.name}'...\n`);
    const report = await cluster.stop(graceMs);
    if (network !== undefined) await network.destroy();
    ctx.err(describeDown(report, ` after ${graceMs} ms`));
    return 0;
  } finally {
    for (const { signal, listener } of listeners) Deno.removeSignalListener(signal, listener);
  }
}

/**
 * The namenode of `cluster up`: none with `--no-namenode` or `--netns`, else the store of
 * `--meta` or `--etcd` (checked now: no etcd here is said before anything starts).
 */
async function namenodeOptions(
  ctx: CliContext,
  args: ParsedArgs,
): Promise<ClusterNameNodeOptions | undefined> {
  const meta = stringOption(args, "meta");
  const etcd = args.values.etcd === true;
  const extra = args.values["namenode-arg"];
  const namenodeArgs = [
    ...deadAfterArgs(stringOption(args, "dead-after"), extra),
    ...(Array.isArray(extra) ? extra.map(String) : []),
  ];
  const given = meta !== undefined
    ? "--meta"
    : etcd
    ? "--etcd"
    : stringOption(args, "dead-after") !== undefined
    ? "--dead-after"
    : namenodeArgs.length > 0
    ? "--namenode-arg"
    : undefined;
  if (args.values["no-namenode"] === true || args.values.netns === true) {
    if (given !== undefined) {
      const why = args.values.netns === true ? "--netns clusters have" : "--no-namenode means";
      throw new CdfsError("USAGE", `${given}: ${why} no namenode`);
    }
    return undefined;
  }
  if (meta !== undefined && etcd) {
    throw new CdfsError("USAGE", "--meta names a store and --etcd starts one: give one of them");
  }
  if (meta !== undefined && !/^(sqlite|etcd):./.test(meta)) {
    throw new CdfsError(
      "USAGE",
      `--meta ${JSON.stringify(meta)}: expected etcd:URL[,URL...] or sqlite:PATH`,
    );
  }
  let binary: string | undefined;
  if (etcd) {
    const found = await findEtcd(ctx.env);
    if (!found.found) throw new CdfsError("UNAVAILABLE", `--etcd: ${found.reason}`);
    binary = found.binary;
  }
  return {
    ...(meta === undefined ? {} : { meta }),
    ...(binary === undefined ? {} : { etcd: { binary } }),
    ...(namenodeArgs.length === 0 ? {} : { args: namenodeArgs }),
  };
}

/**
 * `--dead-after D` as the namenode's own option, checked here so that a bad value is one
 * usage error before anything starts (the namenode would refuse it only once spawned).
 */
function deadAfterArgs(text: string | undefined, extra: unknown): string[] {
  if (text === undefined) return [];
  const ms = parseDuration(text, "--dead-after");
  if (ms < 1) {
    throw new CdfsError("USAGE", `--dead-after ${JSON.stringify(text)}: must be at least 1ms`);
  }
  const words = Array.isArray(extra) ? extra.map(String) : [];
  if (words.some((w) => w === "--dead-after" || w.startsWith("--dead-after="))) {
    throw new CdfsError("USAGE", "--dead-after is given twice (once in --namenode-arg)");
  }
  return ["--dead-after", text];
}

/** The line saying a cluster is down: its nodes, its namenode and etcd, its data. */
function describeDown(report: StopReport, killedAfter = ""): string {
  const stopped = [
    formatCount(report.terminated + report.killed, "node"),
    ...(report.services ?? []).map((service) => `the ${service}`),
  ];
  const last = stopped.pop()!;
  return `cluster '${report.name}' is down: ` +
    `${stopped.length === 0 ? "" : `${stopped.join(", ")} and `}${last} stopped` +
    (report.killed > 0 ? ` (${report.killed} killed${killedAfter})` : "") +
    (report.removedData !== null ? `, removed ${report.removedData}` : "") + "\n";
}

function describeUp(path: string, file: ClusterFile, seconds: string, detached: boolean): string {
  const rows = [
    ["node", "address", "pid", "data"],
    ...(file.namenode === undefined ? [] : [[
      "namenode",
      file.namenode.address,
      String(file.namenode.pid ?? "-"),
      file.namenode.meta,
    ]]),
    ...file.nodes.map((n) => [String(n.index), n.address, String(n.pid), n.dataDir]),
  ];
  return [
    `cluster '${file.name}' is up: ${formatCount(file.nodes.length, "node")}` +
    `${file.namenode === undefined ? "" : " and a namenode"} in ${seconds} s`,
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
  usage: "cdfs cluster stop-node [--cluster FILE] [--kill] INDEX...",
  description: [
    "A graceful stop (SIGTERM) ends with the node telling the cluster's namenode that it",
    "leaves, so 'cdfs fsck' and 'cdfs repair' count it dead at once; a killed node (--kill)",
    "counts dead only after the namenode's --dead-after of silence (cluster up --dead-after).",
    "In an emulated network (--netns) the node's delay relay stops too, so its address",
    "refuses connections like that of a stopped node on loopback. A node that is stopped",
    "already is said so ('already stopped'), and the exit code is 0, as with start-node.",
  ].join("\n"),
  options: {
    ...CLUSTER_OPTIONS,
    kill: {
      type: "boolean",
      description: "SIGKILL at once (a crash: the namenode notices after --dead-after) instead " +
        "of a graceful stop",
    },
    ...GRACE_OPTION,
  },
  arguments: INDEX_ARGUMENTS,
  examples: [
    "cdfs cluster stop-node --cluster lab 0 1 2 3 4",
    "cdfs cluster stop-node --cluster lab --kill 7",
  ],
  run: async (ctx, args) => {
    const indices = nodeIndices(args);
    const path = clusterPath(ctx, args);
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
 * Not run by `deno test --doc`: it needs a CLI context and a running cluster.
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
 * ```ts
 * import { netnsLinks } from "./cluster.ts";
 * const notRoot = () => Promise.resolve({ ok: false as const, reason: "not root" });
 * const args = { values: { netns: true }, positionals: [] };
 * const error = await netnsLinks(args, 3, notRoot).catch((e: Error) => e);
 * console.log(String(error)); // CdfsError: cluster up --netns: ...not available: not root
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
