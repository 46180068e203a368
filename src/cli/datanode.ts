/**
 * `cdfs datanode serve`: runs a datanode on a data directory until SIGINT or SIGTERM.
 *
 * When it is ready it prints one machine-readable line on standard output,
 * `listening HOST:PORT` (with the real port when `--listen` asked for port 0), then
 * `metrics http://HOST:PORT/metrics` with `--metrics`, and nothing else there unless `--log -`
 * sends the log to standard output too. The log is one JSON
 * object per line (one per request, plus start/stop events), on standard error by default.
 *
 * Its CODING runs connect only to its peers (`src/datanode/peers.ts`): the namenode's registered
 * datanodes, `--peers`, `--peers-file`; without any, loopback addresses when it listens on
 * loopback, else none.
 *
 * With `--namenode` (or `$CDFS_NAMENODE`) it registers with the namenode and keeps it told of
 * its blocks (`src/datanode/namenode_reporter.ts`), in the background: a namenode that is down
 * delays nothing and is retried. A graceful stop ends with a LEAVE, so the namenode counts the
 * node dead at once (at most about a second spent on it; a namenode that is down costs none).
 *
 * @module
 */
import { WasmArena } from "../buffer/arena.ts";
import { BufferPool } from "../buffer/pool.ts";
import {
  DataNodeServer,
  DEFAULT_DATANODE_PORT,
  DEFAULT_MIN_RATE,
  DEFAULT_SHUTDOWN_GRACE_MS,
  formatAddress,
} from "../datanode/server.ts";
import { DEFAULT_BUFFER_WAIT_MS } from "../datanode/buffers.ts";
import { defaultMaxConnections } from "../datanode/connection_limit.ts";
import { jsonLineSink, type LogSink } from "../datanode/log.ts";
import {
  type MetricsServer,
  type MetricsServerOptions,
  serveMetrics,
} from "../datanode/metrics_http.ts";
import { TrafficCounters } from "../datanode/traffic.ts";
import { loadServedModules } from "../datanode/ops/coding.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { namenodeNodeId, NameNodeReporter } from "../datanode/namenode_reporter.ts";
import { formatCount } from "../format/count.ts";
import { formatNodeAddress, literalNodeAddress, parseNodeAddress } from "../core/address.ts";
import { namenodePeers, PeerMembership, type PeerSource } from "../datanode/peers.ts";
import { peersFileSource } from "../cluster/peers_file.ts";
import { CdfsError } from "../core/errors.ts";
import { DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS } from "../protocol/timed_socket.ts";
import { FRAME_HEADER_SIZE } from "../protocol/frame.ts";
import { validateNodeId } from "../protocol/node_id.ts";
import { BlockStore } from "../store/block_store.ts";
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from "../store/block_file.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { bindListener, listenError } from "./listen.ts";
import { SECRET_OPTIONS, serverSecrets } from "./secrets.ts";
import { serverTls, TLS_OPTIONS } from "./tls_options.ts";
import { defaultTls } from "../protocol/tls.ts";
import { type LogTarget, openLogTarget } from "./log_target.ts";
import { chunkSizeOptionDef } from "./options.ts";
import { SCRUB_OPTIONS, scrubSettings } from "./scrub_options.ts";
import { applyGfBackendOption, GF_BACKEND_OPTION } from "./gf_backend_option.ts";

/** The default bound of the buffer pool: 64 MiB, 64 buffers of 1 MiB chunks. */
const DEFAULT_MAX_MEMORY = 64 * 1024 * 1024;
/** The largest WebAssembly memory (65535 pages), which the pool's arena must fit in. */
const MAX_ARENA_BYTES = 65535 * 65536;

/**
 * The `datanode serve` command.
 */
export const datanodeServeCommand: Command = {
  name: "datanode serve",
  summary: "Run a datanode: serve the blocks of a data directory over TCP",
  usage: "cdfs datanode serve --data DIR [--listen HOST:PORT] [--id NAME] [options]",
  description: [
    "Serves STORE, RETRIEVE, DELETE, STAT, LIST, PING, CODING, STATS and SCRUB",
    "(docs/protocol.md) until",
    "SIGINT or SIGTERM, then stops accepting, lets requests under way finish within the grace",
    "period, aborts the rest (an aborted STORE leaves nothing behind) and exits 0. A second",
    "signal aborts at once. When ready, prints 'listening HOST:PORT' on standard output.",
    "",
    "With --tls-cert and --tls-key it serves TLS only, and with --tls-ca it connects to its",
    "peers and its namenode with TLS (docs/security.md).",
    "",
    "A CODING request makes the node connect to the other nodes it names: only to its peers",
    "(--namenode's registered datanodes, --peers, --peers-file, its own addresses), never to",
    "another address or a host name; such a request is refused before any connection",
    "(docs/protocol.md, CODING, peers). Without any of the three, a node listening on loopback",
    "admits loopback addresses only, and one listening elsewhere admits none.",
  ].join("\n"),
  options: {
    data: {
      type: "string",
      value: "DIR",
      description: "the data directory (created if missing; required)",
    },
    listen: {
      type: "string",
      value: "HOST:PORT",
      description: "address to listen on; port 0 picks a free port, printed on the " +
        "'listening' line",
      default: `127.0.0.1:${DEFAULT_DATANODE_PORT}`,
    },
    id: {
      type: "string",
      value: "NAME",
      description: "node id reported by PING, 1-200 of A-Z a-z 0-9 . _ : @ -",
      default: "HOSTNAME:PORT",
    },
    "idle-timeout": {
      type: "string",
      value: "MS",
      description: "drop a connection silent this long",
      default: DEFAULT_IDLE_TIMEOUT_MS,
    },
    "frame-timeout": {
      type: "string",
      value: "MS",
      description: "limit for a started frame to arrive or be sent",
      default: DEFAULT_FRAME_TIMEOUT_MS,
    },
    "max-connections": {
      type: "string",
      value: "N",
      description: "the most connections served at once; one more is told BUSY and closed",
      default: "below the open-file limit: (limit - 96) / 2, at most 1024",
    },
    "buffer-wait": {
      type: "string",
      value: "MS",
      description: "the longest a request waits for a pooled buffer, then fails with BUSY",
      default: DEFAULT_BUFFER_WAIT_MS,
    },
    "min-rate": {
      type: "string",
      value: "N",
      description: "bytes per second a started frame must arrive at after 5 s, else TIMEOUT " +
        "(a 'slowloris'); 0: only --frame-timeout",
      default: "16K",
    },
    ...chunkSizeOptionDef("the largest chunk size served, and the buffer size", "1M"),
    ...GF_BACKEND_OPTION,
    "max-memory": {
      type: "string",
      value: "N",
      description: "bound of the buffer pool shared by all connections, e.g. 64M",
      default: "64M: 64 buffers of 1 MiB chunks",
    },
    log: {
      type: "string",
      value: "FILE|-",
      description: "JSON log lines, one per request: appended to FILE, '-' for standard output",
      default: "standard error",
    },
    "shutdown-grace": {
      type: "string",
      value: "MS",
      description: "how long requests may finish after a signal",
      default: DEFAULT_SHUTDOWN_GRACE_MS,
    },
    coding: {
      type: "string",
      value: "LIST",
      description: "the coding modules served by CODING, comma separated; serving a family's " +
        "module (rs, lrc, rapidraid, replication) serves its specs too (rs:k=6,m=3)",
      default: "every module found",
    },
    "coding-dir": {
      type: "string",
      value: "DIR",
      description: "a directory of users' coding modules (DIR/<name>.ts), searched before " +
        "the built-in ones",
    },
    metrics: {
      type: "string",
      value: "HOST:PORT",
      description: "serve the traffic counters over HTTP at /metrics (Prometheus text " +
        "format) on this address; prints 'metrics http://HOST:PORT/metrics' when ready",
      default: "off",
    },
    namenode: {
      type: "string",
      value: "ADDR[,ADDR...]",
      description: "register with the namenode (the first of the list that answers), " +
        "heartbeat, and report every block stored or deleted; a namenode that is down is " +
        "retried in the background while the node serves on. SIGTERM or SIGINT tells the " +
        "namenode the node is leaving (LEAVE: dead at once), waiting at most 1 s for it",
      env: "CDFS_NAMENODE",
      default: "none",
    },
    peers: {
      type: "string",
      value: "IP:PORT[,IP:PORT...]",
      description: "the other datanodes of the cluster: the only addresses a CODING request " +
        "may name (with --namenode's registered datanodes and --peers-file, if given). " +
        "Literal addresses only: host names are never resolved for a request. Without any " +
        "of the three, a node on a loopback address admits loopback addresses only, and a " +
        "node on any other address admits none",
      default: "none",
    },
    "peers-file": {
      type: "string",
      value: "FILE",
      description: "like --peers, from a file: one IP:PORT per line (# comments), or a " +
        "cdfs cluster file; read again when it changes (cluster up gives its nodes its own)",
      default: "none",
    },
    ...SCRUB_OPTIONS,
    advertise: {
      type: "string",
      value: "HOST:PORT",
      description: "the address registered with the namenode, where clients reach this node",
      default: "the --listen address (HOSTNAME:PORT for 0.0.0.0 or ::)",
    },
    ...SECRET_OPTIONS,
    ...TLS_OPTIONS,
  },
  arguments: [],
  examples: [
    "cdfs datanode serve --data /srv/cdfs --listen 10.0.0.5:13100 --id dn5 " +
    "--peers-file /etc/cdfs/peers --secret-file /etc/cdfs/secret",
    "cdfs datanode serve --data /tmp/dn0 --listen 127.0.0.1:0 --metrics 127.0.0.1:9100",
    "cdfs datanode serve --data /srv/cdfs --scrub-rate 4MiB/s --scrub-pause 60s",
    "cdfs datanode serve --data /srv/cdfs --listen 10.0.0.5:13100 --id dn5 " +
    "--namenode 10.0.0.1:13000,10.0.0.2:13000 --secret-file /etc/cdfs/secret",
  ],
  run: runServe,
};

async function runServe(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
  const dataDir = stringOption(args, "data");
  if (dataDir === undefined || dataDir === "") {
    throw new CdfsError("USAGE", "--data DIR is required");
  }
  const { hostname, port } = parseNodeAddress(
    stringOption(args, "listen") ?? `127.0.0.1:${DEFAULT_DATANODE_PORT}`,
    { what: "--listen", allowPortZero: true },
  );
  const secrets = await serverSecrets(ctx, args, hostname, "datanode serve");
  const tls = await serverTls(args);
  if (tls !== undefined && defaultTls() === null) {
    throw new CdfsError(
      "USAGE",
      "datanode serve: --tls-cert needs --tls-ca (or CDFS_TLS_CA) too: the node connects to " +
        "its peers and its namenode with TLS",
    );
  }
  const idleTimeoutMs = positive(args, "idle-timeout", DEFAULT_IDLE_TIMEOUT_MS);
  const frameTimeoutMs = positive(args, "frame-timeout", DEFAULT_FRAME_TIMEOUT_MS);
  const shutdownGraceMs = integerOption(args, "shutdown-grace", DEFAULT_SHUTDOWN_GRACE_MS);
  const maxConnections = integerOption(args, "max-connections", defaultMaxConnections());
  if (maxConnections < 1) throw new CdfsError("USAGE", "--max-connections must be at least 1");
  const bufferWaitMs = positive(args, "buffer-wait", DEFAULT_BUFFER_WAIT_MS);
  const minRate = integerOption(args, "min-rate", DEFAULT_MIN_RATE.bytesPerSecond);
  const scrub = scrubSettings(args);
  const chunkSize = integerOption(args, "chunk-size", DEFAULT_CHUNK_SIZE);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CdfsError(
      "USAGE",
      `--chunk-size must be ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE} bytes, got ${chunkSize}`,
    );
  }
  const maxMemory = integerOption(args, "max-memory", DEFAULT_MAX_MEMORY);
  const pool = createPool(chunkSize, maxMemory);
  const gf = applyGfBackendOption(args, ctx);
  const idOption = stringOption(args, "id");
  if (idOption !== undefined) {
    try {
      validateNodeId(idOption);
    } catch (e) {
      throw new CdfsError("USAGE", `--id: ${(e as Error).message}`);
    }
  }

  const modules = await servedModules(args);
  const metricsOption = stringOption(args, "metrics");
  const metricsAddress = metricsOption === undefined
    ? undefined
    : parseNodeAddress(metricsOption, { what: "--metrics", allowPortZero: true });
  const logTarget = stringOption(args, "log");
  const namenodes = namenodeAddresses(stringOption(args, "namenode") ?? ctx.env("CDFS_NAMENODE"));
  const advertiseOption = stringOption(args, "advertise");
  const advertised = advertiseOption === undefined
    ? undefined
    : formatNodeAddress(parseNodeAddress(advertiseOption, { what: "--advertise" }));
  if (advertised !== undefined && namenodes.length === 0) {
    throw new CdfsError("USAGE", "--advertise is the address told to a namenode: give --namenode");
  }
  const peers = peerList(stringOption(args, "peers"));
  const peersFile = stringOption(args, "peers-file");
  if (peersFile === "") throw new CdfsError("USAGE", "--peers-file FILE: give a file");
  // The namenode's ids are block-id strings: known now when --id is given, else after binding.
  if (idOption !== undefined && namenodes.length > 0) registrationId(idOption);

  // Everything that can fail is tried before anything is created or said: the ports are bound
  // first, then the log file and the data directory. A failure undoes what was done, so a
  // busy port leaves no data directory behind and no 'listening' line is printed.
  const undo: (() => Promise<void> | void)[] = [];
  const undoAll = async () => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch {
        // Undone already (a server that failed to start closes the listener it was given).
      }
    }
  };
  let server: DataNodeServer;
  let store: BlockStore;
  let metrics: MetricsServer | undefined;
  let logFile: LogTarget | undefined;
  let log: LogSink;
  let registerAs: string | undefined;
  let membership: PeerMembership | undefined;
  const traffic = new TrafficCounters();
  try {
    const listener = bindListener(hostname, port, "", tls);
    undo.push(() => listener.close());
    if (metricsAddress !== undefined) {
      const { hostname, port } = metricsAddress;
      // The store is opened after this: until then the gauges are left out of the answer.
      const gauges = { count: () => store.count(), freeBytes: () => store.freeBytes() };
      metrics = startMetrics({ hostname, port, traffic, store: gauges });
      const started = metrics;
      undo.push(() => started.shutdown());
    }
    const opened = await openLogTarget(logTarget, ctx);
    logFile = opened;
    undo.push(() => opened.undo());
    log = jsonLineSink(opened.write);
    // Before the data directory is made: a bad --peers-file leaves nothing behind.
    membership = await startMembership({
      namenodes,
      peers,
      peersFile,
      // A wildcard is no address of this node's: 0.0.0.0 connects to any local service.
      self: [
        ...(["0.0.0.0", "::"].includes(listener.addr.hostname)
          ? []
          : [formatAddress(listener.addr)]),
        ...(advertised === undefined ? [] : [advertised]),
      ],
      log,
      node: idOption ?? defaultNodeId(listener.addr.port),
    });
    const peersStarted = membership;
    undo.push(() => peersStarted?.close());
    store = await BlockStore.open(dataDir, { chunkSize });
    server = DataNodeServer.listen({
      ...(membership === undefined ? {} : { peers: membership }),
      store,
      pool,
      maxChunkSize: chunkSize,
      listener,
      traffic,
      idleTimeoutMs,
      frameTimeoutMs,
      shutdownGraceMs,
      ...(secrets === undefined ? {} : { secrets }),
      maxConnections,
      bufferWaitMs,
      minRate: minRate === 0 ? null : { ...DEFAULT_MIN_RATE, bytesPerSecond: minRate },
      log,
      coding: {
        modules,
        ...(stringOption(args, "coding-dir") === undefined
          ? {}
          : { codingDirs: [stringOption(args, "coding-dir")!] }),
      },
      scrub,
      // The default names the port actually bound, which port 0 leaves open until then.
      nodeId: idOption ?? ((addr) => defaultNodeId(addr.port)),
    });
    const started = server;
    undo.push(() => started.shutdown(0));
    const now = new Date().toISOString();
    log({ time: now, node: server.nodeId, event: "gf-backend", message: gf.message });
    if (namenodes.length > 0) registerAs = registrationId(server.nodeId);
    if (store.removedTempFiles > 0) {
      log({
        time: new Date().toISOString(),
        node: server.nodeId,
        event: "recovered",
        message: `removed ${
          formatCount(store.removedTempFiles, "temp file")
        } of STOREs cut off by a crash`,
      });
    }
  } catch (e) {
    await undoAll();
    throw e;
  }
  let reporter: NameNodeReporter | undefined;
  try {
    // First signal: graceful shutdown; a second one: abort what is still running. Listened
    // for before the 'listening' line, on which whoever started this process may signal it.
    const onSignal = () => {
      server.shutdown(server.draining ? 0 : shutdownGraceMs);
    };
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const signal of signals) Deno.addSignalListener(signal, onSignal);
    try {
      ctx.out(`listening ${formatAddress(server.addr)}\n`);
      if (metrics !== undefined) {
        ctx.out(`metrics http://${formatAddress(metrics.addr)}/metrics\n`);
      }
      if (registerAs !== undefined) {
        reporter = NameNodeReporter.start({
          namenodes,
          node: registerAs,
          logNode: server.nodeId,
          address: advertised ?? advertisedAddress(server.addr),
          store,
          log,
        });
      }
      await server.finished;
    } finally {
      try {
        // After the server: the blocks its last requests stored or deleted are reported too.
        await reporter?.stop();
        membership?.close();
        await metrics?.shutdown();
      } finally {
        // Only now: a signal with no listener would kill the process before its last reports.
        for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
      }
    }
    return 0;
  } finally {
    logFile?.close();
  }
}

/** The `--metrics` endpoint, bound now. */
function startMetrics(options: MetricsServerOptions): MetricsServer {
  try {
    return serveMetrics(options);
  } catch (e) {
    throw listenError(e, options.hostname, options.port, "--metrics");
  }
}

/** The namenodes of `--namenode` (or `$CDFS_NAMENODE`; empty: none), canonical `HOST:PORT`. */
function namenodeAddresses(text: string | undefined): string[] {
  if (text === undefined || text.trim() === "") return [];
  return text.split(",").map((address) =>
    formatNodeAddress(parseNodeAddress(address.trim(), { what: "--namenode" }))
  );
}

/** The addresses of `--peers`: literal `IP:PORT` each, canonical. */
function peerList(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text.split(",").map((item) => item.trim()).filter((item) => item !== "").map((item) => {
    parseNodeAddress(item, { what: "--peers" });
    const literal = literalNodeAddress(item);
    if (literal === undefined) {
      throw new CdfsError(
        "USAGE",
        `--peers ${JSON.stringify(item)}: a peer is a literal IP:PORT (host names are never ` +
          "resolved for a request)",
      );
    }
    return literal;
  });
}

/**
 * The node's peers (docs/protocol.md, CODING, peers) from --namenode, --peers and
 * --peers-file; undefined without any (the server's default then: loopback or nothing).
 */
async function startMembership(options: {
  namenodes: readonly string[];
  peers: readonly string[];
  peersFile: string | undefined;
  self: readonly string[];
  log: LogSink;
  node: string;
}): Promise<PeerMembership | undefined> {
  const sources: PeerSource[] = [];
  if (options.namenodes.length > 0) sources.push(namenodePeers(options.namenodes));
  const fixed = options.peers;
  if (fixed.length > 0) sources.push({ name: "--peers", fetch: () => Promise.resolve(fixed) });
  if (options.peersFile !== undefined) sources.push(peersFileSource(options.peersFile));
  if (sources.length === 0) return undefined;
  return await PeerMembership.start({
    sources,
    self: options.self,
    log: (event, message) =>
      options.log({ time: new Date().toISOString(), node: options.node, event, message }),
  });
}

/** The id this node registers under with a namenode. */
function registrationId(nodeId: string): string {
  const id = namenodeNodeId(nodeId);
  if (id === undefined) {
    throw new CdfsError(
      "USAGE",
      `--id ${JSON.stringify(nodeId)} cannot be a namenode's datanode id (letters, digits, ` +
        "'.', '_', '-', ':' and '@', never '..')",
    );
  }
  return id;
}

/**
 * The address told to the namenode when `--advertise` is not given: the bound one, except
 * that a wildcard (0.0.0.0, ::) is no address a client can use: then this host's name.
 */
function advertisedAddress(addr: Deno.NetAddr): string {
  if (addr.hostname !== "0.0.0.0" && addr.hostname !== "::") return formatAddress(addr);
  return formatNodeAddress({ hostname: Deno.hostname(), port: addr.port });
}

/** The modules of `--coding` (default: all) from `--coding-dir` and the built-in ones. */
async function servedModules(args: ParsedArgs): Promise<Map<string, CodingModule>> {
  const list = stringOption(args, "coding");
  const dir = stringOption(args, "coding-dir");
  const names = list?.split(",").map((name) => name.trim()).filter((name) => name !== "");
  if (names !== undefined && names.length === 0) {
    throw new CdfsError("USAGE", "--coding: name at least one coding module");
  }
  try {
    return await loadServedModules({
      ...(names === undefined ? {} : { names }),
      ...(dir === undefined ? {} : { codingDirs: [dir] }),
    });
  } catch (e) {
    if (e instanceof CdfsError) {
      throw new CdfsError(
        "USAGE",
        `${dir === undefined ? "--coding" : "--coding/--coding-dir"}: ${e.message}`,
      );
    }
    throw e;
  }
}

function defaultNodeId(port: number): string {
  let host = "datanode";
  try {
    host = Deno.hostname();
  } catch {
    // No permission or no name: the fallback is as good an id.
  }
  const id = `${host.replace(/[^A-Za-z0-9._@-]/g, "-").slice(0, 190) || "datanode"}:${port}`;
  return validateNodeId(id);
}

function createPool(chunkSize: number, maxMemory: number): BufferPool {
  // Each buffer holds a whole chunk plus 16 bytes before it for the frame header (so a frame
  // goes out in one write), rounded up to the pool's 64-byte granularity. The memory bound
  // counts chunks: 64M of 1 MiB chunks is 64 buffers.
  const bufferSize = Math.ceil((chunkSize + FRAME_HEADER_SIZE) / 64) * 64;
  const maxBuffers = Math.floor(maxMemory / chunkSize);
  if (maxBuffers < 1) {
    throw new CdfsError(
      "USAGE",
      `--max-memory ${maxMemory} is smaller than one chunk of ${chunkSize} bytes`,
    );
  }
  // A WebAssembly memory of its own, sized for the pool (buffers are staggered within 4 KiB
  // pages, hence the slack) plus the GF kernels' tables.
  const arenaBytes = maxBuffers * (bufferSize + 4096) + (1 << 20);
  if (arenaBytes > MAX_ARENA_BYTES) {
    throw new CdfsError("USAGE", `--max-memory ${maxMemory} exceeds the limit of about 4 GiB`);
  }
  const arena = new WasmArena({ maxBytes: Math.ceil(arenaBytes / 65536) * 65536 });
  return new BufferPool({ arena, bufferSize, maxBuffers });
}

function positive(args: ParsedArgs, name: string, fallback: number): number {
  const value = integerOption(args, name, fallback);
  if (value <= 0) throw new CdfsError("USAGE", `--${name} must be a positive number of ms`);
  return value;
}
