/**
 * `cdfs cluster up`: starts a namenode (SQLite in the cluster's state directory, an existing
 * etcd with `--meta`, or an etcd of its own with `--etcd`) and N datanodes that register with
 * it, waits until all answer and are registered, writes the cluster file and prints its path;
 * it stays in the foreground until Ctrl-C (or SIGTERM, or `cluster down`), then stops
 * everything cleanly. `--detach` returns at once instead.
 *
 * @module
 */
import type { ClusterFile } from "../cluster/cluster_file.ts";
import { type ClusterNameNodeOptions } from "../cluster/cluster_namenode.ts";
import { DEFAULT_STOP_GRACE_MS, type StopReport } from "../cluster/cluster_stop.ts";
import { findEtcd } from "../cluster/etcd.ts";
import {
  checkClusterOptions,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_START_TIMEOUT_MS,
  LocalCluster,
} from "../cluster/local.ts";
import { namespaceLauncher, relaysBeforeUp } from "../cluster/netns_cluster.ts";
import { selfLauncher } from "../cluster/node_process.ts";
import { CdfsError } from "../core/errors.ts";
import { parseDuration } from "../emulation/link_spec.ts";
import { EmulatedNetwork } from "../emulation/netns.ts";
import { formatColumns } from "../format/columns.ts";
import { formatCount } from "../format/count.ts";
import { NAMENODE_DEFAULTS } from "../namenode/server.ts";
import {
  clusterStateRoot,
  GRACE_OPTION,
  noPositionals,
  START_TIMEOUT_OPTION,
} from "./cluster_options.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { NETNS_BASE_PORT, NETNS_OPTIONS, netnsLinks } from "./netns_options.ts";
import { jsonOption, STATE_DIR_OPTION } from "./options.ts";

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
    "run without a namenode. Every node gets the cluster file as its --peers-file: the nodes",
    "of the cluster are the only addresses its CODING runs connect to. Every node requires",
    "requests signed with a cluster secret that it generates into the state directory",
    "(secret, mode 0600); the cluster file names it, so every command given --cluster (or",
    "$CDFS_CLUSTER) signs with it (docs/security.md). With --tls every node serves TLS only,",
    "with throwaway certificates it writes into the state directory ('cdfs cert dev'); the",
    "cluster file names their CA, so those commands connect with TLS (with --netns too: the",
    "certificate names the namespaces' addresses, and TLS runs through the relays end to end).",
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
    tls: {
      type: "boolean",
      description: "every node serves TLS with a throwaway certificate (tls/ in the state " +
        "directory), and the commands given --cluster trust its CA",
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
      stateRoot: clusterStateRoot(ctx, args),
      launcher,
      host: network === undefined ? host : "127.0.0.1",
      basePort,
      startTimeoutMs,
      keepData: args.values["keep-data"] === true,
      nodeArgs: Array.isArray(nodeArgs) ? nodeArgs.map(String) : [],
      secret: true,
      tls: args.values.tls === true,
      signal: abort.signal,
      ...(name === undefined ? {} : { name }),
      ...(data === undefined ? {} : { dataDir: data }),
      ...(namenode === undefined ? {} : { namenode }),
      ...(network === undefined ? {} : {
        launcherFor: (index: number) =>
          namespaceLauncher(launcher, network.nodes[index]!.namespace),
        pingNodes: false,
        beforeUp: relaysBeforeUp(network),
        // Clients reach the nodes at their namespaces' addresses, through byte-for-byte relays:
        // TLS runs end to end, so the certificate names those addresses.
        tlsHosts: network.nodes.map((node) => node.address),
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

/**
 * The line saying a cluster is down: its nodes, its namenode and etcd, its data.
 *
 * @example
 * ```ts
 * import { describeDown } from "./cluster_up.ts";
 * console.log(describeDown({ name: "lab", viaLauncher: false, terminated: 4, killed: 0, removedData: null }));
 * // "cluster 'lab' is down: 4 nodes stopped\n"
 * ```
 *
 * @param report What stopping the cluster did.
 * @param killedAfter Said after the count of killed nodes (e.g. ` after 15000 ms`).
 * @returns The line, with its newline.
 */
export function describeDown(report: StopReport, killedAfter = ""): string {
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
