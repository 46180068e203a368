/**
 * The block commands, each talking to one datanode through {@linkcode DataNodeClient}, by
 * block id and without a namenode: `cdfs block store`, `block retrieve`, `block rm`,
 * `block stat`, `block ls`, `block ping` and `block stats`. The node is given with
 * `--node HOST:PORT` (or the `CDFS_NODE` environment variable). (`cdfs ls`, `stat`, `rm` are
 * the files of the namenode: `files.ts`.)
 *
 * Block bytes travel through standard input and output untouched, so they use the binary
 * `stdin`/`stdout` of {@linkcode CliContext}, not its text writers.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { parseNodeAddress } from "../core/address.ts";
import type { ByteReader } from "../client/byte_io.ts";
import { DataNodeClient, type RetrieveResult } from "../client/datanode_client.ts";
import { validateBlockId, validateBlockIdFragment } from "../core/block_id.ts";
import { clusterNodeAddresses, readClusterFileSync } from "../cluster/cluster_file.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { optionalClusterPath } from "./cluster.ts";
import { MAX_LIST_LIMIT, type OpTraffic, type StatsResponse } from "../protocol/messages.ts";
import {
  type ArgumentDef,
  type CliContext,
  type Command,
  integerOption,
  type OptionSpec,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { chunkSizeOptionDef, clusterOption, jsonOption } from "./options.ts";
import { formatColumns } from "../format/columns.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatCount } from "../format/count.ts";
import { describeOsError } from "../format/os_error.ts";
import { createProgress, formatSummaryRate } from "./progress.ts";

/** The node a block command talks to: an address, or an index into a cluster. */
const NODE_OPTIONS: OptionSpec = {
  node: {
    type: "string",
    short: "n",
    value: "HOST:PORT",
    description: "the datanode (IPv6 as [::1]:13100), or with --cluster its INDEX there",
    env: "CDFS_NODE",
  },
  ...clusterOption("with --node INDEX: the cluster whose node INDEX is meant"),
};

/** The block id argument of the commands on one block. */
const BLOCK_ID_ARGUMENT: ArgumentDef = {
  name: "ID",
  description: "the block id: 1 to 200 of A-Z a-z 0-9 . _ - (not '.', nothing with '..')",
};

/**
 * `cdfs block store`: stores a file or standard input as a block.
 */
export const storeCommand: Command = {
  name: "block store",
  summary: "Store a file (or standard input) as a block on a datanode",
  usage: "cdfs block store --node HOST:PORT [--overwrite] [--chunk-size N] [--json] ID FILE|-",
  description: [
    "Reads FILE (standard input when FILE is -) and stores it as block ID. The node answers",
    "once the block is durable; the digest it confirms is that of the bytes sent. Standard",
    "input is read only when asked with -, never from a terminal, and an empty standard",
    "input is refused (an empty block is stored from an empty FILE).",
  ].join("\n"),
  options: {
    ...NODE_OPTIONS,
    overwrite: {
      type: "boolean",
      description: "replace an existing block (without it: an EXISTS error)",
    },
    ...chunkSizeOptionDef("bytes per chunk, 4K..16M", "1M"),
    ...jsonOption(),
  },
  arguments: [
    BLOCK_ID_ARGUMENT,
    { name: "FILE|-", description: "the file to store; - reads standard input" },
  ],
  // With one argument the command says itself whether the id or the file was forgotten.
  minArguments: 1,
  examples: [
    "cdfs block store --node 127.0.0.1:13100 photo.jpg.0 photo.jpg",
    "cdfs block store --cluster lab --node 3 --overwrite notes.0 - < notes.txt",
  ],
  run: runStore,
};

/**
 * `cdfs block retrieve`: writes a block (or a byte range) to standard output or a file.
 */
export const retrieveCommand: Command = {
  name: "block retrieve",
  summary: "Write a block (or a byte range of it) to standard output or a file",
  usage: "cdfs block retrieve --node HOST:PORT [-o FILE] [--offset N] [--length N] [--json] ID",
  description: [
    "Every chunk is verified on arrival, a whole block also against its stored digest. With",
    "-o the block is written to a temporary file next to FILE and renamed over FILE only when",
    "it is complete and verified: a failed retrieve leaves no partial file.",
  ].join("\n"),
  options: {
    ...NODE_OPTIONS,
    output: {
      type: "string",
      short: "o",
      value: "FILE",
      description: "write to FILE instead of standard output",
    },
    offset: { type: "string", value: "N", description: "start at byte N", default: 0 },
    length: {
      type: "string",
      value: "N",
      description: "retrieve N bytes",
      default: "to the end",
    },
    ...jsonOption("print the summary as JSON (needs -o)"),
  },
  arguments: [BLOCK_ID_ARGUMENT],
  examples: [
    "cdfs block retrieve --node 127.0.0.1:13100 photo.jpg.0 -o copy.jpg",
    "cdfs block retrieve --cluster lab --node 3 --offset 1K --length 64 notes.0 | od -c",
  ],
  run: runRetrieve,
};

/**
 * `cdfs block rm`: deletes blocks.
 */
export const rmCommand: Command = {
  name: "block rm",
  summary: "Delete blocks from a datanode",
  usage: "cdfs block rm --node HOST:PORT ID...",
  description: "Deletes each block in turn; stops at the first that fails (e.g. NOT_FOUND).",
  options: { ...NODE_OPTIONS },
  arguments: [{ ...BLOCK_ID_ARGUMENT, variadic: true }],
  examples: ["cdfs block rm --node 127.0.0.1:13100 photo.jpg.0 notes.0"],
  run: runRm,
};

/**
 * `cdfs block stat`: describes a block.
 */
export const statCommand: Command = {
  name: "block stat",
  summary: "Show a block's length, chunk size, digest and creation time",
  usage: "cdfs block stat --node HOST:PORT [--sha256] [--json] ID",
  description: "The digest is the block's xxh64 digest (of its chunk checksums), kept by the node.",
  options: {
    ...NODE_OPTIONS,
    sha256: {
      type: "boolean",
      description: "also compute the SHA-256 of the block. The node has no SHA-256 operation: " +
        "this client retrieves the whole block (verified) and hashes it as it streams by, so " +
        "it costs a full read",
    },
    ...jsonOption("print as JSON"),
  },
  arguments: [BLOCK_ID_ARGUMENT],
  examples: [
    "cdfs block stat --node 127.0.0.1:13100 photo.jpg.0",
    "cdfs block stat --cluster lab --node 3 --sha256 --json notes.0",
  ],
  run: runStat,
};

/**
 * `cdfs block ls`: lists blocks.
 */
export const lsCommand: Command = {
  name: "block ls",
  summary: "List the blocks of a datanode",
  usage: "cdfs block ls --node HOST:PORT [--prefix P] [--after ID] [--limit N] [--json]",
  description: [
    "Lists blocks in id order, one per line: length, creation time, id. Without --limit every",
    "block is listed (the node is asked page by page). With --limit N at most N are listed",
    "and, when more follow, the id to continue from is printed (on standard error; in the",
    'JSON as "next").',
  ].join("\n"),
  options: {
    ...NODE_OPTIONS,
    prefix: { type: "string", value: "P", description: "only ids starting with P" },
    after: {
      type: "string",
      value: "ID",
      description: "only ids after ID (to continue a listing)",
    },
    limit: { type: "string", value: "N", description: "list at most N blocks" },
    ...jsonOption('print {"blocks": [...], "next": ID|null}'),
  },
  arguments: [],
  examples: [
    "cdfs block ls --node 127.0.0.1:13100",
    "cdfs block ls --cluster lab --node 0 --prefix movie. --limit 20",
  ],
  run: runLs,
};

/**
 * `cdfs block ping`: checks that a datanode answers.
 */
export const pingCommand: Command = {
  name: "block ping",
  summary: "Check that a datanode answers: its id, version, free space, block count",
  usage: "cdfs block ping --node HOST:PORT [--json]",
  options: { ...NODE_OPTIONS, ...jsonOption("print as JSON") },
  arguments: [],
  examples: [
    "cdfs block ping --node 127.0.0.1:13100",
    "cdfs block ping --cluster lab --node 15 --json",
  ],
  run: runPing,
};

/**
 * `cdfs block stats`: a datanode's traffic counters (STATS).
 */
export const statsCommand: Command = {
  name: "block stats",
  summary: "Show a datanode's traffic: bytes in and out and time per op and per coding run",
  usage: "cdfs block stats --node HOST:PORT [--run RUN] [--json]",
  description: [
    "Bytes are whole frames (header and payload) as the node read and wrote them. A coding",
    "run is counted as 'served' (its CODING requests answered by this node) and 'upstream'",
    "(the connections this node opened to other nodes for it, by node). Without --run, the",
    "most recent runs are shown.",
  ].join("\n"),
  options: {
    ...NODE_OPTIONS,
    run: { type: "string", value: "RUN", description: "only this run (32 hex digits)" },
    ...jsonOption("print the STATS reply as JSON"),
  },
  arguments: [],
  examples: [
    "cdfs block stats --node 127.0.0.1:13100",
    "cdfs block stats --cluster lab --node 15 --json",
  ],
  run: runStats,
};

/**
 * The block commands, in the order `cdfs --help` shows them.
 *
 * @example
 * ```ts
 * import { BLOCK_COMMANDS } from "./blocks.ts";
 * console.log(BLOCK_COMMANDS.map((c) => c.name));
 * // [ "block store", "block retrieve", "block rm", "block stat", "block ls", "block ping", "block stats" ]
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
  const given = positionals(args, 1, 2, "ID FILE|-");
  // Standard input only when asked for with "-": with one argument, the likelier mistake is a
  // forgotten block id (`cdfs block store photo.jpg`), which must not store an empty 'photo.jpg'.
  if (given.length === 1) throw await missingStoreArgument(given[0]!);
  const [id, path] = given as [string, string];
  const block = blockIdArgument(id);
  const chunkSize = integerOption(args, "chunk-size", 1 << 20);
  const node = nodeArgument(ctx, args);
  if (path === "-" && ctx.stdinIsTerminal === true) {
    throw new CdfsError("USAGE", "standard input is a terminal; pipe data in or name a FILE");
  }
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
    // Peeked only once the node answers: the producer may take its time, the node's address
    // can be wrong at once.
    const source = file ?? await nonEmptyInput(binaryStream(ctx.stdin, "standard input"));
    const progress = createProgress(ctx, {
      label: `store ${block}`,
      ...(length === undefined ? {} : { total: length }),
    });
    const started = performance.now();
    let result;
    try {
      result = await client.store(block, source, {
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
        `stored ${result.block} on ${client.address}: ${formatBytes(result.length)}, ` +
          `digest ${result.digest}${formatSummaryRate(result.length, seconds)}\n`,
      );
    }
  } finally {
    file?.close();
  }
  return 0;
}

/** The usage error of `cdfs store` with one argument: a forgotten id, or a forgotten FILE. */
async function missingStoreArgument(argument: string): Promise<CdfsError> {
  const isFile = await Deno.stat(argument).then((info) => info.isFile, () => false);
  return new CdfsError(
    "USAGE",
    isFile
      ? `missing block id: '${argument}' is the file to store; name the block first: ` +
        `cdfs block store ID ${argument}`
      : `missing FILE: expected ID FILE, or ID - to read standard input`,
  );
}

/**
 * Standard input, once it has given its first bytes. An empty one is refused before anything
 * is stored: a producer that failed (`broken | cdfs store ID -`) must not leave an empty
 * block behind. An empty block is stored from an empty FILE.
 */
async function nonEmptyInput(input: ByteReader): Promise<ByteReader> {
  const first = new Uint8Array(64 * 1024);
  let n: number | null = 0;
  while (n === 0) n = await input.read(first);
  if (n === null) {
    throw new CdfsError(
      "USAGE",
      "standard input is empty: nothing stored (an empty block is stored from an empty FILE)",
    );
  }
  let pending: Uint8Array | undefined = first.subarray(0, n);
  return {
    read(view) {
      if (pending === undefined) return input.read(view);
      const count = Math.min(view.length, pending.length);
      view.set(pending.subarray(0, count));
      pending = count === pending.length ? undefined : pending.subarray(count);
      return Promise.resolve(count);
    },
  };
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
      `retrieved ${block} from ${client.address} to ${output}: ${formatBytes(result.length)}, ` +
        `${check}${formatSummaryRate(result.length, seconds)}\n`,
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
        // Lines go out page by page, so no table-wide widths: "1023.9 GiB" is the widest size.
        : `${formatBytes(entry.length).padStart(10)}  ${entry.created}  ${entry.block}\n`
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
      `${client.address}: node ${pong.node}, cdfs ${pong.version}, ` +
        `${formatCount(pong.blocks, "block")}, ` +
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
      `run ${id}: served ${formatCount(s.requests, "request")} (${s.errors} failed), in ${
        formatBytes(s.bytesIn)
      }, out ${formatBytes(s.bytesOut)}, ${(s.ms / 1000).toFixed(3)} s`,
    );
    for (const [peer, p] of Object.entries(run.upstream)) {
      lines.push(
        `  upstream ${peer}: in ${formatBytes(p.bytesIn)}, out ${formatBytes(p.bytesOut)} (${
          formatCount(p.connections, "connection")
        })`,
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
  if (fromOption !== undefined) {
    // Checked here so that a typo is a usage error, not a failed connection.
    parseNodeAddress(fromOption, { what: "--node" });
    return fromOption;
  }
  // No --node: the environment names the node, unless --cluster picked a cluster (then the
  // option wins, and its node is an index) or the environment names both a node and a cluster.
  const fromEnv = ctx.env("CDFS_NODE");
  if (fromEnv === undefined || stringOption(args, "cluster") !== undefined) {
    throw new CdfsError(
      "USAGE",
      cluster === undefined
        ? "--node HOST:PORT is required (or set CDFS_NODE)"
        : "name the node of the cluster: --node INDEX",
    );
  }
  if (ctx.env("CDFS_CLUSTER") !== undefined) {
    throw new CdfsError(
      "USAGE",
      "CDFS_NODE and CDFS_CLUSTER are both set: pick the node with --node HOST:PORT or " +
        "--node INDEX (of CDFS_CLUSTER), or unset one of them",
    );
  }
  parseNodeAddress(fromEnv, { what: "CDFS_NODE" });
  return fromEnv;
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
  const code = error instanceof Deno.errors.NotFound ? "NOT_FOUND" : "UNAVAILABLE";
  return new CdfsError(code, `cannot ${verb} ${path}: ${describeOsError(error)}`, {
    cause: error,
  });
}

function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(`${JSON.stringify(value)}\n`);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function binaryStream<T>(stream: T | undefined, what: string): T {
  if (stream === undefined) throw new CdfsError("INTERNAL", `this context has no binary ${what}`);
  return stream;
}
