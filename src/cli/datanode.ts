/**
 * `cdfs datanode serve`: runs a datanode on a data directory until SIGINT or SIGTERM.
 *
 * When it is ready it prints one machine-readable line on standard output,
 * `listening HOST:PORT` (with the real port when `--listen` asked for port 0), then
 * `metrics http://HOST:PORT/metrics` with `--metrics`, and nothing else there unless `--log -`
 * sends the log to standard output too. The log is one JSON
 * object per line (one per request, plus start/stop events), on standard error by default.
 *
 * @module
 */
import { WasmArena } from "../buffer/arena.ts";
import { BufferPool } from "../buffer/pool.ts";
import {
  DataNodeServer,
  DEFAULT_DATANODE_PORT,
  DEFAULT_SHUTDOWN_GRACE_MS,
  formatAddress,
} from "../datanode/server.ts";
import { jsonLineSink, type LogSink } from "../datanode/log.ts";
import { type MetricsServer, serveMetrics } from "../datanode/metrics_http.ts";
import { loadServedModules } from "../datanode/ops/coding.ts";
import type { CodingModule } from "../coding/program.ts";
import { parseNodeAddress } from "../address.ts";
import { CdfsError } from "../errors.ts";
import { DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS } from "../protocol/connection.ts";
import { FRAME_HEADER_SIZE } from "../protocol/frame.ts";
import { validateNodeId } from "../protocol/messages.ts";
import { BlockStore } from "../store/block_store.ts";
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from "../store/block_file.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";

/** The default bound of the buffer pool: 64 MiB, 64 buffers of 1 MiB chunks. */
const DEFAULT_MAX_MEMORY = 64 * 1024 * 1024;
/** The largest WebAssembly memory (65535 pages), which the pool's arena must fit in. */
const MAX_ARENA_BYTES = 65535 * 65536;

/**
 * The `datanode serve` command.
 *
 * @example
 * ```ts
 * import { datanodeServeCommand } from "./datanode.ts";
 * console.log(datanodeServeCommand.name); // "datanode serve"
 * ```
 */
export const datanodeServeCommand: Command = {
  name: "datanode serve",
  summary: "Run a datanode: serve the blocks of a data directory over TCP",
  usage: "cdfs datanode serve --data DIR [--listen HOST:PORT] [--id NAME] [options]",
  description: [
    "Serves STORE, RETRIEVE, DELETE, STAT, LIST, PING, CODING and STATS (docs/protocol.md) until",
    "SIGINT or SIGTERM, then stops accepting, lets requests under way finish within the grace",
    "period, aborts the rest (an aborted STORE leaves nothing behind) and exits 0. A second",
    "signal aborts at once. When ready, prints 'listening HOST:PORT' on standard output.",
    "",
    "Options:",
    "  --data DIR             the data directory (created if missing; required)",
    `  --listen HOST:PORT     address to listen on (default 127.0.0.1:${DEFAULT_DATANODE_PORT};`,
    "                         port 0 picks a free port, printed on the 'listening' line)",
    "  --id NAME              node id reported by PING, 1-200 of A-Z a-z 0-9 . _ : @ -",
    "                         (default HOSTNAME:PORT)",
    `  --idle-timeout MS      drop a connection silent this long (default ${DEFAULT_IDLE_TIMEOUT_MS})`,
    `  --frame-timeout MS     limit for a started frame to arrive or be sent (default ${DEFAULT_FRAME_TIMEOUT_MS})`,
    "  --chunk-size N         the largest chunk size served, and the buffer size (default 1M)",
    "  --max-memory N         bound of the buffer pool shared by all connections, e.g. 64M",
    "                         (default 64M: 64 buffers of 1 MiB chunks)",
    "  --log FILE|-           JSON log lines, one per request: appended to FILE, '-' for",
    "                         standard output (default: standard error)",
    `  --shutdown-grace MS    how long requests may finish after a signal (default ${DEFAULT_SHUTDOWN_GRACE_MS})`,
    "  --coding LIST          the coding modules served by CODING, comma separated",
    "                         (default: every module found)",
    "  --coding-dir DIR       a directory of users' coding modules (DIR/<name>.ts), searched",
    "                         before the built-in ones",
    "  --metrics HOST:PORT    serve the traffic counters over HTTP at /metrics (Prometheus",
    "                         text format) on this address (default: off); prints",
    "                         'metrics http://HOST:PORT/metrics' when ready",
    "",
    "Example:",
    "  cdfs datanode serve --data /srv/cdfs --listen 0.0.0.0:13100 --id dn1",
  ].join("\n"),
  options: {
    data: { type: "string" },
    listen: { type: "string" },
    id: { type: "string" },
    "idle-timeout": { type: "string" },
    "frame-timeout": { type: "string" },
    "chunk-size": { type: "string" },
    "max-memory": { type: "string" },
    log: { type: "string" },
    "shutdown-grace": { type: "string" },
    coding: { type: "string" },
    "coding-dir": { type: "string" },
    metrics: { type: "string" },
  },
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
  const idleTimeoutMs = positive(args, "idle-timeout", DEFAULT_IDLE_TIMEOUT_MS);
  const frameTimeoutMs = positive(args, "frame-timeout", DEFAULT_FRAME_TIMEOUT_MS);
  const shutdownGraceMs = integerOption(args, "shutdown-grace", DEFAULT_SHUTDOWN_GRACE_MS);
  const chunkSize = integerOption(args, "chunk-size", DEFAULT_CHUNK_SIZE);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CdfsError(
      "USAGE",
      `--chunk-size must be ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE} bytes, got ${chunkSize}`,
    );
  }
  const maxMemory = integerOption(args, "max-memory", DEFAULT_MAX_MEMORY);
  const pool = createPool(chunkSize, maxMemory);
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
  const logFile = logTarget !== undefined && logTarget !== "-"
    ? await Deno.open(logTarget, { create: true, append: true })
    : undefined;
  try {
    const log = jsonLineSink(
      logFile !== undefined
        ? (text) => writeAllSync(logFile, text)
        : logTarget === "-"
        ? ctx.out
        : ctx.err,
    );
    const store = await BlockStore.open(dataDir, { chunkSize });
    const server = listen({
      store,
      pool,
      maxChunkSize: chunkSize,
      hostname,
      port,
      idOption,
      idleTimeoutMs,
      frameTimeoutMs,
      shutdownGraceMs,
      log,
      modules,
    });
    if (store.removedTempFiles > 0) {
      log({
        time: new Date().toISOString(),
        node: server.nodeId,
        event: "recovered",
        message: `removed ${store.removedTempFiles} temp files of STOREs cut off by a crash`,
      });
    }
    ctx.out(`listening ${formatAddress(server.addr)}\n`);
    const metrics = metricsAddress === undefined
      ? undefined
      : startMetrics(server, store, metricsAddress.hostname, metricsAddress.port);
    if (metrics !== undefined) {
      ctx.out(`metrics http://${formatAddress(metrics.addr)}/metrics\n`);
    }

    // First signal: graceful shutdown; a second one: abort what is still running.
    const onSignal = () => {
      server.shutdown(server.draining ? 0 : shutdownGraceMs);
    };
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const signal of signals) Deno.addSignalListener(signal, onSignal);
    try {
      await server.finished;
    } finally {
      for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
      await metrics?.shutdown();
    }
    return 0;
  } finally {
    logFile?.close();
  }
}

interface ListenSettings {
  store: BlockStore;
  pool: BufferPool;
  maxChunkSize: number;
  hostname: string;
  port: number;
  idOption: string | undefined;
  idleTimeoutMs: number;
  frameTimeoutMs: number;
  shutdownGraceMs: number;
  log: LogSink;
  modules: ReadonlyMap<string, CodingModule>;
}

function listen(settings: ListenSettings): DataNodeServer {
  const { idOption, hostname, port, modules, ...rest } = settings;
  try {
    return DataNodeServer.listen({
      ...rest,
      hostname,
      port,
      coding: { modules },
      // The default names the port actually bound, which port 0 leaves open until then.
      nodeId: idOption ?? ((addr) => defaultNodeId(addr.port)),
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable) {
      throw new CdfsError("UNAVAILABLE", `cannot listen on ${hostname}:${port}: ${e.message}`);
    }
    throw e;
  }
}

/** The `--metrics` endpoint; a failure to bind stops the node it was asked for. */
function startMetrics(
  server: DataNodeServer,
  store: BlockStore,
  hostname: string,
  port: number,
): MetricsServer {
  try {
    return serveMetrics({ hostname, port, traffic: server.traffic, store });
  } catch (e) {
    server.shutdown(0);
    if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable) {
      throw new CdfsError("UNAVAILABLE", `--metrics: cannot listen on ${hostname}:${port}`);
    }
    throw e;
  }
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

const encoder = new TextEncoder();

function writeAllSync(file: Deno.FsFile, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}
