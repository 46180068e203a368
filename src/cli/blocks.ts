/**
 * The block commands, each talking to one datanode through {@linkcode DataNodeClient}:
 * `cdfs store`, `cdfs retrieve`, `cdfs rm`, `cdfs stat`, `cdfs ls` and `cdfs ping`. The node is
 * given with `--node HOST:PORT` (or the `CDFS_NODE` environment variable).
 *
 * Block bytes travel through standard input and output untouched, so they use the binary
 * `stdin`/`stdout` of {@linkcode CliContext}, not its text writers.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { parseNodeAddress } from "../address.ts";
import { DataNodeClient, type RetrieveResult } from "../client/datanode_client.ts";
import { validateBlockId, validateBlockIdFragment } from "../block_id.ts";
import { clusterNodeAddresses, readClusterFileSync } from "../cluster/cluster_file.ts";
import { CdfsError, isCdfsError } from "../errors.ts";
import { optionalClusterPath } from "./cluster.ts";
import { MAX_LIST_LIMIT, type OpTraffic, type StatsResponse } from "../protocol/messages.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { formatColumns } from "../format/columns.ts";
import { formatBytes } from "../format/bytes.ts";
import { createProgress } from "./progress.ts";

const NODE_OPTION = {
  node: { type: "string", short: "n" },
  cluster: { type: "string" },
} as const;
const NODE_HELP = [
  "  -n, --node HOST:PORT  the datanode (default: $CDFS_NODE); IPv6 as [::1]:13100",
  "  --cluster FILE|NAME   with --node INDEX: node INDEX of a cluster from 'cdfs cluster up'",
  "                        (default: $CDFS_CLUSTER)",
].join("\n");

/**
 * `cdfs store`: stores a file or standard input as a block.
 *
 * @example
 * ```ts
 * import { storeCommand } from "./blocks.ts";
 * console.log(storeCommand.usage);
 * ```
 */
export const storeCommand: Command = {
  name: "store",
  summary: "Store a file (or standard input) as a block on a datanode",
  usage: "cdfs store --node HOST:PORT [--overwrite] [--chunk-size N] [--json] ID [FILE|-]",
  description: [
    "Reads FILE (standard input when FILE is - or absent) and stores it as block ID. The node",
    "answers once the block is durable; the digest it confirms is that of the bytes sent.",
    "",
    "Options:",
    NODE_HELP,
    "  --overwrite           replace an existing block (default: fail with EXISTS)",
    "  --chunk-size N        bytes per chunk, 4K..16M (default 1M)",
    "  --json                print the summary as JSON",
  ].join("\n"),
  options: {
    ...NODE_OPTION,
    overwrite: { type: "boolean" },
    "chunk-size": { type: "string" },
    json: { type: "boolean" },
  },
  run: runStore,
};

/**
 * `cdfs retrieve`: writes a block (or a byte range) to standard output or a file.
 *
 * @example
 * ```ts
 * import { retrieveCommand } from "./blocks.ts";
 * console.log(retrieveCommand.usage);
 * ```
 */
export const retrieveCommand: Command = {
  name: "retrieve",
  summary: "Write a block (or a byte range of it) to standard output or a file",
  usage: "cdfs retrieve --node HOST:PORT [-o FILE] [--offset N] [--length N] [--json] ID",
  description: [
    "Every chunk is verified on arrival, a whole block also against its stored digest. With",
    "-o the block is written to a temporary file next to FILE and renamed over FILE only when",
    "it is complete and verified: a failed retrieve leaves no partial file.",
    "",
    "Options:",
    NODE_HELP,
    "  -o, --output FILE     write to FILE instead of standard output",
    "  --offset N            start at byte N (default 0)",
    "  --length N            retrieve N bytes (default: to the end)",
    "  --json                print the summary as JSON (needs -o)",
  ].join("\n"),
  options: {
    ...NODE_OPTION,
    output: { type: "string", short: "o" },
    offset: { type: "string" },
    length: { type: "string" },
    json: { type: "boolean" },
  },
  run: runRetrieve,
};

/**
 * `cdfs rm`: deletes blocks.
 *
 * @example
 * ```ts
 * import { rmCommand } from "./blocks.ts";
 * console.log(rmCommand.usage);
 * ```
 */
export const rmCommand: Command = {
  name: "rm",
  summary: "Delete blocks from a datanode",
  usage: "cdfs rm --node HOST:PORT ID...",
  description: [
    "Deletes each block in turn; stops at the first that fails (e.g. NOT_FOUND).",
    "",
    "Options:",
    NODE_HELP,
  ].join("\n"),
  options: { ...NODE_OPTION },
  run: runRm,
};

/**
 * `cdfs stat`: describes a block.
 *
 * @example
 * ```ts
 * import { statCommand } from "./blocks.ts";
 * console.log(statCommand.usage);
 * ```
 */
export const statCommand: Command = {
  name: "stat",
  summary: "Show a block's length, chunk size, digest and creation time",
  usage: "cdfs stat --node HOST:PORT [--sha256] [--json] ID",
  description: [
    "The digest is the block's xxh64 digest (of its chunk checksums), kept by the node.",
    "",
    "Options:",
    NODE_HELP,
    "  --sha256              also compute the SHA-256 of the block. The node has no SHA-256",
    "                        operation: this client retrieves the whole block (verified) and",
    "                        hashes it as it streams by, so it costs a full read",
    "  --json                print as JSON",
  ].join("\n"),
  options: { ...NODE_OPTION, sha256: { type: "boolean" }, json: { type: "boolean" } },
  run: runStat,
};

/**
 * `cdfs ls`: lists blocks.
 *
 * @example
 * ```ts
 * import { lsCommand } from "./blocks.ts";
 * console.log(lsCommand.usage);
 * ```
 */
export const lsCommand: Command = {
  name: "ls",
  summary: "List the blocks of a datanode",
  usage: "cdfs ls --node HOST:PORT [--prefix P] [--after ID] [--limit N] [--json]",
  description: [
    "Lists blocks in id order, one per line: length, creation time, id. Without --limit every",
    "block is listed (the node is asked page by page). With --limit N at most N are listed",
    "and, when more follow, the id to continue from is printed (on standard error; in the",
    'JSON as "next").',
    "",
    "Options:",
    NODE_HELP,
    "  --prefix P            only ids starting with P",
    "  --after ID            only ids after ID (to continue a listing)",
    "  --limit N             list at most N blocks",
    '  --json                print {"blocks": [...], "next": ID|null}',
  ].join("\n"),
  options: {
    ...NODE_OPTION,
    prefix: { type: "string" },
    after: { type: "string" },
    limit: { type: "string" },
    json: { type: "boolean" },
  },
  run: runLs,
};

/**
 * `cdfs ping`: checks that a datanode answers.
 *
 * @example
 * ```ts
 * import { pingCommand } from "./blocks.ts";
 * console.log(pingCommand.usage);
 * ```
 */
export const pingCommand: Command = {
  name: "ping",
  summary: "Check that a datanode answers: its id, version, free space, block count",
  usage: "cdfs ping --node HOST:PORT [--json]",
  description: ["Options:", NODE_HELP, "  --json                print as JSON"].join("\n"),
  options: { ...NODE_OPTION, json: { type: "boolean" } },
  run: runPing,
};

/**
 * `cdfs stats`: a datanode's traffic counters (STATS).
 *
 * @example
 * ```ts
 * import { statsCommand } from "./blocks.ts";
 * console.log(statsCommand.usage);
 * ```
 */
export const statsCommand: Command = {
  name: "stats",
  summary: "Show a datanode's traffic: bytes in and out and time per op and per coding run",
  usage: "cdfs stats --node HOST:PORT [--run RUN] [--json]",
  description: [
    "Bytes are whole frames (header and payload) as the node read and wrote them. A coding",
    "run is counted as 'served' (its CODING requests answered by this node) and 'upstream'",
    "(the connections this node opened to other nodes for it, by node). Without --run, the",
    "most recent runs are shown.",
    "",
    "Options:",
    NODE_HELP,
    "  --run RUN             only this run (32 hex digits)",
    "  --json                print the STATS reply as JSON",
  ].join("\n"),
  options: { ...NODE_OPTION, run: { type: "string" }, json: { type: "boolean" } },
  run: runStats,
};

/**
 * The block commands, in the order `cdfs --help` shows them.
 *
 * @example
 * ```ts
 * import { BLOCK_COMMANDS } from "./blocks.ts";
 * console.log(BLOCK_COMMANDS.map((c) => c.name)); // [ "store", "retrieve", "rm", "stat", "ls", "ping", "stats" ]
 * ```
 */
export const BLOCK_COMMANDS: readonly Command[] = [
  storeCommand,
  retrieveCommand,
  rmCommand,
  statCommand,
  lsCommand,
  pingCommand,
  statsCommand,
];

async function runStore(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id, path = "-"] = positionals(args, 1, 2, "ID [FILE|-]");
  const block = blockIdArgument(id!);
  const chunkSize = integerOption(args, "chunk-size", 1 << 20);
  const node = nodeArgument(ctx, args);
  let file: Deno.FsFile | undefined;
  let length: number | undefined;
  if (path !== "-") {
    file = await openLocal(path, { read: true }, "read");
    const info = await file.stat();
    if (!info.isFile) {
      file.close();
      throw new CdfsError("USAGE", `${path} is not a regular file`);
    }
    length = info.size;
  }
  try {
    using client = await DataNodeClient.connect(node);
    const progress = createProgress(ctx, {
      label: `store ${block}`,
      ...(length === undefined ? {} : { total: length }),
    });
    const started = performance.now();
    let result;
    try {
      result = await client.store(block, file ?? binaryStream(ctx.stdin, "standard input"), {
        overwrite: args.values.overwrite === true,
        chunkSize,
        ...(length === undefined ? {} : { length }),
        onProgress: (n) => progress.update(n),
      });
    } finally {
      progress.finish();
    }
    const seconds = (performance.now() - started) / 1000;
    if (args.values.json === true) {
      printJson(ctx, { node: client.address, ...result, seconds: round(seconds) });
    } else {
      ctx.out(
        `stored ${result.block} on ${client.address}: ${result.length} bytes, digest ${result.digest}` +
          `${rateText(result.length, seconds)}\n`,
      );
    }
  } finally {
    file?.close();
  }
  return 0;
}

async function runRetrieve(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id] = positionals(args, 1, 1, "ID");
  const block = blockIdArgument(id!);
  const node = nodeArgument(ctx, args);
  const output = stringOption(args, "output");
  const toStdout = output === undefined || output === "-";
  if (toStdout && args.values.json === true) {
    throw new CdfsError("USAGE", "--json needs -o FILE (the block itself goes to standard output)");
  }
  const range: { offset?: number; length?: number } = {};
  if (stringOption(args, "offset") !== undefined) range.offset = integerOption(args, "offset", 0);
  if (stringOption(args, "length") !== undefined) range.length = integerOption(args, "length", 0);
  using client = await DataNodeClient.connect(node);
  const progress = createProgress(ctx, { label: `retrieve ${block}` });
  const started = performance.now();
  let result: RetrieveResult;
  try {
    const options = {
      ...range,
      onResponse: (info: { length: number }) => progress.setTotal(info.length),
      onProgress: (n: number) => progress.update(n),
    };
    result = toStdout
      ? await client.retrieve(block, binaryStream(ctx.stdout, "standard output"), options)
      : await retrieveToFile(client, block, output!, options);
  } finally {
    progress.finish();
  }
  const seconds = (performance.now() - started) / 1000;
  if (toStdout) return 0;
  if (args.values.json === true) {
    printJson(ctx, { node: client.address, ...result, file: output, seconds: round(seconds) });
  } else {
    const check = result.verified ? "digest verified" : "chunks verified";
    ctx.out(
      `retrieved ${block} from ${client.address} to ${output}: ${result.length} bytes, ${check}` +
        `${rateText(result.length, seconds)}\n`,
    );
  }
  return 0;
}

/**
 * Retrieves into a temporary file beside `path`, made durable and renamed over `path` only on
 * success; removed on failure.
 */
async function retrieveToFile(
  client: DataNodeClient,
  block: string,
  path: string,
  options: Parameters<DataNodeClient["retrieve"]>[2],
): Promise<RetrieveResult> {
  const suffix = crypto.getRandomValues(new Uint32Array(2)).join("");
  const temp = join(dirname(path), `.${basename(path)}.${suffix}.part`);
  const file = await openLocal(temp, { write: true, createNew: true, mode: 0o666 }, "create");
  let complete = false;
  try {
    const result = await client.retrieve(block, file, options);
    await file.syncData();
    file.close();
    await Deno.rename(temp, path).catch((e) => {
      throw localError(e, path, "write");
    });
    complete = true;
    return result;
  } finally {
    if (!complete) {
      try {
        file.close();
      } catch {
        // Already closed after the data was synced; only the rename failed.
      }
      await Deno.remove(temp).catch(() => {});
    }
  }
}

async function runRm(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const ids = positionals(args, 1, Infinity, "ID...").map(blockIdArgument);
  using client = await DataNodeClient.connect(nodeArgument(ctx, args));
  for (const id of ids) await client.delete(id);
  return 0;
}

async function runStat(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id] = positionals(args, 1, 1, "ID");
  const block = blockIdArgument(id!);
  using client = await DataNodeClient.connect(nodeArgument(ctx, args));
  const stat = await client.stat(block);
  let sha256: string | undefined;
  if (args.values.sha256 === true) {
    const hash = createHash("sha256");
    const progress = createProgress(ctx, { label: `sha256 ${block}`, total: stat.length });
    let retrieved: RetrieveResult;
    try {
      retrieved = await client.retrieve(block, (chunk) => void hash.update(chunk), {
        onProgress: (n) => progress.update(n),
      });
    } finally {
      progress.finish();
    }
    if (retrieved.digest !== stat.digest) {
      throw new CdfsError(
        "UNAVAILABLE",
        `block '${block}' on ${client.address} was replaced while it was being hashed; try again`,
      );
    }
    sha256 = hash.digest("hex");
  }
  if (args.values.json === true) {
    printJson(ctx, {
      node: client.address,
      ...stat,
      ...(sha256 === undefined ? {} : { sha256, sha256ComputedBy: "client" }),
    });
    return 0;
  }
  const rows: [string, string][] = [
    ["block", stat.block],
    ["node", client.address],
    ["length", `${stat.length} (${formatBytes(stat.length)})`],
    ["chunkSize", String(stat.chunkSize)],
    ["digest", `${stat.digest} (xxh64 of the chunk checksums)`],
    ["created", stat.created],
  ];
  if (sha256 !== undefined) {
    rows.push(["sha256", `${sha256} (computed by this client over a full, verified retrieve)`]);
  }
  ctx.out(formatColumns(rows, 2).map((line) => `${line}\n`).join(""));
  return 0;
}

async function runLs(ctx: CliContext, args: ParsedArgs): Promise<number> {
  positionals(args, 0, 0, "");
  const prefix = stringOption(args, "prefix");
  const after = stringOption(args, "after");
  try {
    if (prefix !== undefined) validateBlockIdFragment(prefix, "--prefix", 0);
    if (after !== undefined) validateBlockIdFragment(after, "--after", 1);
  } catch (e) {
    throw asUsage(e);
  }
  const limit = stringOption(args, "limit") === undefined
    ? Infinity
    : integerOption(args, "limit", 0);
  if (limit < 1) throw new CdfsError("USAGE", "--limit must be at least 1");
  const json = args.values.json === true;
  using client = await DataNodeClient.connect(nodeArgument(ctx, args));
  if (json) ctx.out(`{"blocks":[`);
  let listed = 0;
  let cursor = after;
  let next: string | null = null;
  // Ask page by page until the listing or the limit ends; a page may be shorter than asked.
  while (listed < limit) {
    const page = await client.list({
      ...(prefix === undefined ? {} : { prefix }),
      ...(cursor === undefined ? {} : { after: cursor }),
      limit: Math.min(limit - listed, MAX_LIST_LIMIT),
    });
    const lines = page.blocks.map((entry, i) =>
      json
        ? `${listed + i > 0 ? "," : ""}${JSON.stringify(entry)}`
        // Lines go out page by page, so no table-wide widths: 14 digits hold 99 TB.
        : `${String(entry.length).padStart(14)}  ${entry.created}  ${entry.block}\n`
    );
    ctx.out(lines.join(""));
    listed += page.blocks.length;
    next = page.next;
    if (next === null) break;
    cursor = next;
  }
  if (json) {
    ctx.out(`],"next":${JSON.stringify(next)}}\n`);
  } else if (next !== null) {
    ctx.err(`more blocks follow: continue with --after ${next}\n`);
  }
  return 0;
}

async function runPing(ctx: CliContext, args: ParsedArgs): Promise<number> {
  positionals(args, 0, 0, "");
  const connectStarted = performance.now();
  using client = await DataNodeClient.connect(nodeArgument(ctx, args));
  const connectMs = performance.now() - connectStarted;
  const started = performance.now();
  const pong = await client.ping();
  const roundTripMs = performance.now() - started;
  if (args.values.json === true) {
    printJson(ctx, {
      address: client.address,
      ...pong,
      connectMs: round(connectMs),
      roundTripMs: round(roundTripMs),
    });
  } else {
    ctx.out(
      `${client.address}: node ${pong.node}, cdfs ${pong.version}, ${pong.blocks} blocks, ` +
        `${formatBytes(pong.freeBytes)} free, round trip ${roundTripMs.toFixed(2)} ms\n`,
    );
  }
  return 0;
}

async function runStats(ctx: CliContext, args: ParsedArgs): Promise<number> {
  positionals(args, 0, 0, "");
  const run = stringOption(args, "run");
  if (run !== undefined && !/^[0-9a-f]{32}$/.test(run)) {
    throw new CdfsError("USAGE", `--run must be 32 lower-case hex digits, got '${run}'`);
  }
  using client = await DataNodeClient.connect(nodeArgument(ctx, args));
  const stats = await client.stats(run);
  if (args.values.json === true) printJson(ctx, { address: client.address, ...stats });
  else ctx.out(statsText(client.address, stats));
  return 0;
}

/** The STATS reply as a table of ops and one paragraph per run. */
function statsText(address: string, stats: StatsResponse): string {
  const rows = [["op", "requests", "errors", "in", "out", "seconds"]];
  const row = (name: string, c: OpTraffic) =>
    rows.push([
      name,
      String(c.requests),
      String(c.errors),
      formatBytes(c.bytesIn),
      formatBytes(c.bytesOut),
      (c.ms / 1000).toFixed(3),
    ]);
  for (const [op, counters] of Object.entries(stats.ops)) row(op, counters);
  row("total", stats.total);
  const lines = [
    `${address}: node ${stats.node}, counting since ${stats.since}`,
    ...formatColumns(rows, 1),
  ];
  for (const [id, run] of Object.entries(stats.runs)) {
    const s = run.served;
    lines.push(
      `run ${id}: served ${s.requests} requests (${s.errors} failed), in ${
        formatBytes(s.bytesIn)
      }, out ${formatBytes(s.bytesOut)}, ${(s.ms / 1000).toFixed(3)} s`,
    );
    for (const [peer, p] of Object.entries(run.upstream)) {
      lines.push(
        `  upstream ${peer}: in ${formatBytes(p.bytesIn)}, out ${
          formatBytes(p.bytesOut)
        } (${p.connections} connections)`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** The positionals, checked to number between `min` and `max`. */
function positionals(args: ParsedArgs, min: number, max: number, synopsis: string): string[] {
  const given = args.positionals;
  if (given.length < min) throw new CdfsError("USAGE", `missing argument: expected ${synopsis}`);
  if (given.length > max) {
    throw new CdfsError(
      "USAGE",
      `unexpected argument '${given[max]}'${synopsis ? `: expected ${synopsis}` : ""}`,
    );
  }
  return given;
}

function nodeArgument(ctx: CliContext, args: ParsedArgs): string {
  const fromOption = stringOption(args, "node");
  const cluster = optionalClusterPath(ctx, args);
  if (fromOption !== undefined && /^[0-9]+$/.test(fromOption)) {
    if (cluster === undefined) {
      throw new CdfsError(
        "USAGE",
        `--node ${fromOption} is an index: name the cluster (--cluster)`,
      );
    }
    const addresses = clusterNodeAddresses(readClusterFileSync(cluster));
    const address = addresses[Number(fromOption)];
    if (address === undefined) {
      throw new CdfsError(
        "USAGE",
        `--node ${fromOption}: the cluster has nodes 0..${addresses.length - 1}`,
      );
    }
    return address;
  }
  const text = fromOption ?? ctx.env("CDFS_NODE");
  if (text === undefined) {
    throw new CdfsError(
      "USAGE",
      cluster === undefined
        ? "--node HOST:PORT is required (or set CDFS_NODE)"
        : "name the node of the cluster: --node INDEX",
    );
  }
  // Checked here so that a typo is a usage error, not a failed connection.
  parseNodeAddress(text, { what: fromOption === undefined ? "CDFS_NODE" : "--node" });
  return text;
}

function blockIdArgument(id: string): string {
  try {
    return validateBlockId(id);
  } catch (e) {
    throw asUsage(e);
  }
}

function asUsage(error: unknown): unknown {
  return isCdfsError(error) ? new CdfsError("USAGE", error.message, { cause: error }) : error;
}

async function openLocal(
  path: string,
  options: Deno.OpenOptions,
  verb: string,
): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, options);
  } catch (e) {
    throw localError(e, path, verb);
  }
}

/** A failure on a local file, as a CdfsError that says which file. */
function localError(error: unknown, path: string, verb: string): CdfsError {
  const reason = error instanceof Error ? error.message.replace(/ \(os error \d+\).*$/, "") : "";
  const code = error instanceof Deno.errors.NotFound ? "NOT_FOUND" : "UNAVAILABLE";
  return new CdfsError(code, `cannot ${verb} ${path}: ${reason}`, { cause: error });
}

function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(`${JSON.stringify(value)}\n`);
}

function rateText(bytes: number, seconds: number): string {
  if (seconds <= 0 || bytes === 0) return "";
  return `, ${seconds.toFixed(2)} s, ${formatBytes(bytes / seconds)}/s`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function binaryStream<T>(stream: T | undefined, what: string): T {
  if (stream === undefined) throw new CdfsError("INTERNAL", `this context has no binary ${what}`);
  return stream;
}
