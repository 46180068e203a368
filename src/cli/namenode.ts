/**
 * `cdfs namenode serve`: runs a namenode (docs/namenode.md) until SIGINT or SIGTERM.
 *
 * As `datanode serve` does, it tries everything that can fail before it says anything: the
 * port is bound first, then the log is opened, then the metadata store (a SQLite file that
 * cannot be opened, an etcd that does not answer); each failure is one `cdfs: error:` line and
 * undoes what was done. Once serving it prints one machine-readable line on standard output,
 * `listening HOST:PORT` (the real port when `--listen` asked for port 0; `cluster up` reads
 * it), and logs one JSON object per decision on standard error (or `--log`).
 *
 * @module
 */
import { join } from "node:path";
import { parseNodeAddress } from "../core/address.ts";
import { parseDuration } from "../emulation/link_spec.ts";
import { CdfsError } from "../core/errors.ts";
import { describeOsError } from "../format/os_error.ts";
import {
  deferredSink,
  nameNodeJsonLineSink,
  type NameNodeLogSink,
  nameNodeTextLine,
} from "../namenode/log.ts";
import { type MetaSpec, parseMetaSpec } from "../namenode/meta/open.ts";
import { DEFAULT_NAMENODE_PORT, NAMENODE_DEFAULTS, NameNodeServer } from "../namenode/server.ts";
import { type CliContext, type Command, type ParsedArgs, stringOption } from "./command.ts";
import { bindListener } from "./listen.ts";
import { SECRET_OPTIONS, serverSecrets } from "./secrets.ts";
import { serverTls, TLS_OPTIONS } from "./tls_options.ts";
import { type LogTarget, openLogTarget } from "./log_target.ts";
import {
  AUTO_REPAIR_OPTIONS,
  autoRepairSettings,
  startAutoRepair,
  wakingSink,
} from "./namenode_repair.ts";
import { defaultTls } from "../protocol/tls.ts";
import type { AutoRepair } from "../client/files/auto_repair.ts";

/** The file of the SQLite metadata inside `--data DIR`. */
const SQLITE_FILE = "meta.db";

/**
 * The namenode's data directory when neither `--meta` nor `--data` is given:
 * `$XDG_DATA_HOME/cdfs/namenode`, else `$HOME/.local/share/cdfs/namenode` (metadata is
 * precious: not a temporary or runtime directory).
 *
 * @example
 * ```ts
 * import { defaultNameNodeDir } from "./namenode.ts";
 * console.log(defaultNameNodeDir((name) => name === "HOME" ? "/home/ann" : undefined));
 * // "/home/ann/.local/share/cdfs/namenode"
 * ```
 *
 * @param env Reads an environment variable.
 * @returns The directory, or undefined when neither variable is set.
 */
export function defaultNameNodeDir(env: (name: string) => string | undefined): string | undefined {
  const data = env("XDG_DATA_HOME");
  if (data !== undefined && data.startsWith("/")) return join(data, "cdfs", "namenode");
  const home = env("HOME");
  if (home !== undefined && home.startsWith("/")) {
    return join(home, ".local", "share", "cdfs", "namenode");
  }
  return undefined;
}

/**
 * The `namenode serve` command.
 */
export const namenodeServeCommand: Command = {
  name: "namenode serve",
  summary: "Run a namenode: where files' blocks live, which datanodes are alive",
  usage:
    "cdfs namenode serve [--listen HOST:PORT] [--meta SPEC | --data DIR] [--dead-after D] [options]",
  description: [
    "Serves the namenode's ops (docs/namenode.md) over TCP until SIGINT or SIGTERM, then",
    "stops accepting, lets requests under way finish within the grace period and exits 0 (a",
    "second signal stops at once). It holds metadata only: datanodes register and report",
    "their blocks to it (datanode serve --namenode), clients ask it where blocks go and are,",
    "and move the bytes to and from the datanodes themselves. The metadata lives in SQLite",
    "(one namenode) or etcd (several namenodes sharing it). When ready, prints",
    "'listening HOST:PORT' on standard output. With --tls-cert and --tls-key it serves TLS",
    "only (docs/security.md).",
    "",
    "It repairs by itself (docs/namenode.md §12): when a datanode is declared dead or blocks",
    "are reported missing, the files concerned are queued, the most endangered first, and",
    "repaired as 'cdfs repair' would, at most --repair-rate bytes/s per datanode; failed",
    "repairs are retried with backoff. Orphan blocks older than --gc-grace (a returning",
    "datanode's stale copies, a crashed put's blocks) are removed as 'cdfs gc' would.",
  ].join("\n"),
  options: {
    listen: {
      type: "string",
      value: "HOST:PORT",
      description: "address to listen on; port 0 picks a free port, printed on the " +
        "'listening' line",
      default: `127.0.0.1:${DEFAULT_NAMENODE_PORT}`,
    },
    meta: {
      type: "string",
      value: "SPEC",
      description: "the metadata store: sqlite:PATH (a database file, created if missing) or " +
        "etcd:URL[,URL...] (an etcd cluster's client URLs, http://HOST:PORT)",
      default: `sqlite:DIR/${SQLITE_FILE} of --data`,
    },
    data: {
      type: "string",
      value: "DIR",
      description:
        `a directory (created if missing) for the SQLite database, DIR/${SQLITE_FILE}, ` +
        "when --meta is not given",
      default: "$XDG_DATA_HOME/cdfs/namenode, else ~/.local/share/cdfs/namenode",
    },
    id: {
      type: "string",
      value: "NAME",
      description: "the namenode's name in logs and PING",
      default: "nn@HOST:PORT",
    },
    "dead-after": {
      type: "string",
      value: "DURATION",
      description: "silence after which a datanode counts as dead, e.g. 30s or 1500ms",
      default: `${NAMENODE_DEFAULTS.deadAfterMs / 1000}s`,
    },
    "heartbeat-interval": {
      type: "string",
      value: "DURATION",
      description: "how often datanodes are asked to send heartbeats (less than --dead-after)",
      default: "3s, at most a third of --dead-after",
    },
    "block-report-interval": {
      type: "string",
      value: "DURATION",
      description: "how often datanodes are asked for a full block report",
      default: `${NAMENODE_DEFAULTS.blockReportIntervalMs / 1000}s`,
    },
    log: {
      type: "string",
      value: "FILE|-",
      description: "JSON log lines, one per decision: appended to FILE, '-' for standard output",
      default: "standard error",
    },
    "log-format": {
      type: "string",
      value: "json|text",
      description: "one JSON object per line, or one line of text (time, event, key=value)",
      default: "json",
    },
    http: {
      type: "string",
      value: "HOST:PORT",
      description: "also serve the status page (and /status.json) over HTTP here; read-only " +
        "and unauthenticated: keep it on loopback or a management network",
      default: "not served",
    },
    "shutdown-grace": {
      type: "string",
      value: "DURATION",
      description: "how long requests may finish after a signal",
      default: `${NAMENODE_DEFAULTS.shutdownGraceMs / 1000}s`,
    },
    ...AUTO_REPAIR_OPTIONS,
    ...SECRET_OPTIONS,
    ...TLS_OPTIONS,
  },
  arguments: [],
  examples: [
    "cdfs namenode serve --listen 0.0.0.0:13000 --data /var/lib/cdfs/namenode " +
    "--secret-file /etc/cdfs/secret",
    "cdfs namenode serve --listen 127.0.0.1:0 --meta sqlite:/tmp/nn.db --dead-after 10s",
    "cdfs namenode serve --data /tmp/nn --http 127.0.0.1:8080 --log-format text",
    "cdfs namenode serve --data /var/lib/cdfs/namenode --repair-rate 20MiB/s --gc-grace 1800s",
    "cdfs namenode serve --data /var/lib/cdfs/namenode --no-auto-repair --no-auto-gc",
    "cdfs namenode serve --listen 10.0.0.1:13000 --meta etcd:http://10.0.0.7:2379,http://10.0.0.8:2379 " +
    "--secret-file /etc/cdfs/secret",
  ],
  run: runServe,
};

/**
 * Every `namenode` sub-command.
 *
 * @example
 * ```ts
 * import { NAMENODE_COMMANDS } from "./namenode.ts";
 * console.log(NAMENODE_COMMANDS.map((c) => c.name)); // [ "namenode serve" ]
 * ```
 */
export const NAMENODE_COMMANDS: readonly Command[] = [namenodeServeCommand];

async function runServe(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
  const { hostname, port } = parseNodeAddress(
    stringOption(args, "listen") ?? `127.0.0.1:${DEFAULT_NAMENODE_PORT}`,
    { what: "--listen", allowPortZero: true },
  );
  const secrets = await serverSecrets(ctx, args, hostname, "namenode serve");
  const tls = await serverTls(args);
  const { meta, dataDir } = metaOption(ctx, args);
  const deadAfterMs = duration(args, "dead-after") ?? NAMENODE_DEFAULTS.deadAfterMs;
  const heartbeatIntervalMs = duration(args, "heartbeat-interval");
  if (heartbeatIntervalMs !== undefined && heartbeatIntervalMs >= deadAfterMs) {
    throw new CdfsError(
      "USAGE",
      `--heartbeat-interval ${heartbeatIntervalMs} ms must be shorter than --dead-after ` +
        `${deadAfterMs} ms (a datanode would count as dead between two heartbeats)`,
    );
  }
  const blockReportIntervalMs = duration(args, "block-report-interval");
  const shutdownGraceMs = duration(args, "shutdown-grace", true) ??
    NAMENODE_DEFAULTS.shutdownGraceMs;
  const logFormat = stringOption(args, "log-format") ?? "json";
  if (logFormat !== "json" && logFormat !== "text") {
    throw new CdfsError("USAGE", `--log-format ${JSON.stringify(logFormat)}: json or text`);
  }
  const httpOption = stringOption(args, "http");
  const http = httpOption === undefined
    ? undefined
    : parseNodeAddress(httpOption, { what: "--http", allowPortZero: true });
  const id = stringOption(args, "id");
  if (id !== undefined && !/^[\x21-\x7e]{1,200}$/.test(id)) {
    throw new CdfsError("USAGE", `--id ${JSON.stringify(id)}: 1-200 printable characters`);
  }
  const repair = autoRepairSettings(args);
  if (tls !== undefined && defaultTls() === null && (repair.repair || repair.gcGraceMs !== null)) {
    throw new CdfsError(
      "USAGE",
      "namenode serve: --tls-cert needs --tls-ca (or CDFS_TLS_CA) too: its repair loop " +
        "connects to the namenode and the datanodes with TLS (or give --no-auto-repair " +
        "--no-auto-gc)",
    );
  }

  // Everything that can fail before a word is said, each step undone when a later one fails:
  // the port, the log, the data directory, the store (NameNodeServer.start closes the
  // listener it was given when the store cannot be opened).
  const listener = bindListener(hostname, port, "", tls);
  let log: LogTarget;
  let createdDir = false;
  let server: NameNodeServer;
  let loop: AutoRepair | null = null;
  let stopRepair: (graceMs: number) => Promise<void> = () => Promise.resolve();
  try {
    log = await openLogTarget(stringOption(args, "log"), ctx);
  } catch (error) {
    listener.close();
    throw error;
  }
  // Log lines are written after the replies of their turn (a put's two records cost ~2% of
  // its time before them), and every one of them before the log is closed.
  const lines = deferredSink(logSink(log, logFormat));
  try {
    if (dataDir !== undefined) createdDir = await makeDataDir(dataDir);
    server = await NameNodeServer.start({
      meta,
      listener,
      deadAfterMs,
      shutdownGraceMs,
      log: wakingSink(lines.sink, () => loop),
      ...(http === undefined ? {} : { http }),
      ...(secrets === undefined ? {} : { secrets }),
      ...(id === undefined ? {} : { id }),
      ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
      ...(blockReportIntervalMs === undefined ? {} : { blockReportIntervalMs }),
    });
  } catch (error) {
    try {
      listener.close();
    } catch {
      // Closed already by the server's start.
    }
    lines.flush();
    await log.undo();
    if (createdDir) await Deno.remove(dataDir!, { recursive: true }).catch(() => {});
    throw error;
  }
  try {
    stopRepair = await startAutoRepair(
      server,
      repair,
      server.logSink,
      (started) => loop = started,
    );
  } catch (error) {
    await server.shutdown(0);
    lines.flush();
    log.close();
    throw error;
  }
  try {
    // First signal: graceful shutdown; a second one: stop at once. Listened for before the
    // 'listening' line, on which whoever started this process may signal it at once.
    let signalled = false;
    const onSignal = () => {
      void stopRepair(signalled ? 0 : shutdownGraceMs);
      void server.shutdown(signalled ? 0 : shutdownGraceMs);
      signalled = true;
    };
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const signal of signals) Deno.addSignalListener(signal, onSignal);
    try {
      ctx.out(`listening ${server.address}\n`);
      if (server.httpAddress !== null) ctx.out(`status page http://${server.httpAddress}/\n`);
      await server.finished;
      await stopRepair(0);
    } finally {
      for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    }
    return 0;
  } finally {
    lines.flush();
    log.close();
  }
}

/**
 * The store of `--meta`, or the SQLite file in `--data` (or the default directory), and the
 * directory to create for it.
 */
function metaOption(
  ctx: CliContext,
  args: ParsedArgs,
): { meta: MetaSpec; dataDir: string | undefined } {
  const meta = stringOption(args, "meta");
  const data = stringOption(args, "data");
  if (meta !== undefined) {
    if (data !== undefined) {
      throw new CdfsError(
        "USAGE",
        "--data DIR only places the default SQLite file: give --meta or --data",
      );
    }
    return { meta: parseMetaSpec(meta), dataDir: undefined };
  }
  const dir = data ?? defaultNameNodeDir(ctx.env);
  if (dir === undefined || dir === "") {
    throw new CdfsError(
      "USAGE",
      "no place for the metadata: give --meta sqlite:PATH or --data DIR (HOME is not set)",
    );
  }
  return { meta: { kind: "sqlite", path: join(dir, SQLITE_FILE) }, dataDir: dir };
}

/** The sink of `--log-format`: JSON lines, or text lines (write errors swallowed alike). */
function logSink(log: LogTarget, format: "json" | "text"): NameNodeLogSink {
  if (format === "json") return nameNodeJsonLineSink(log.write);
  return (record) => {
    try {
      log.write(`${nameNodeTextLine(record)}\n`);
    } catch {
      // As nameNodeJsonLineSink: a lost log line must not fail a request.
    }
  };
}

/** Creates the data directory if missing; says whether it did. */
async function makeDataDir(dir: string): Promise<boolean> {
  const existed = await Deno.lstat(dir).then(() => true, () => false);
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CdfsError("UNAVAILABLE", `--data ${dir}: ${describeOsError(error)}`, {
      cause: error,
    });
  }
  return !existed;
}

/** A duration option in ms (`30s`, `1500ms`), positive unless `zero` allows 0. */
function duration(args: ParsedArgs, name: string, zero = false): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const ms = parseDuration(text, `--${name}`);
  if (ms < 1 && !(zero && ms === 0)) {
    throw new CdfsError("USAGE", `--${name} ${JSON.stringify(text)}: must be at least 1ms`);
  }
  return Math.round(ms);
}
