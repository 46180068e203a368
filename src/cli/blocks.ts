/**
 * The block commands, each talking to one datanode through {@linkcode DataNodeClient}, by
 * block id and without a namenode: `cdfs block store`, `block retrieve`, `block rm`,
 * `block stat`, `block ls`, `block ping` and `block stats`. The node is given with
 * `--node HOST:PORT` (or the `CDFS_NODE` environment variable; `block_args.ts`). (`cdfs ls`, `stat`, `rm` are
 * the files of the namenode: `files.ts`.)
 *
 * `block store` and `block retrieve`, whose bytes travel through standard input and output
 * untouched, are in `block_transfer.ts`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { DataNodeClient } from "../client/datanode_client.ts";
import type { RetrieveResult } from "../client/retrieve.ts";
import { validateBlockIdFragment } from "../core/block_id.ts";
import { CdfsError } from "../core/errors.ts";
import { MAX_LIST_LIMIT } from "../protocol/requests.ts";
import type { OpTraffic, StatsResponse } from "../protocol/responses.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatColumns } from "../format/columns.ts";
import { formatCount } from "../format/count.ts";
import {
  asUsage,
  BLOCK_ID_ARGUMENT,
  blockIdArgument,
  NODE_OPTIONS,
  nodeArgument,
  round3,
} from "./block_args.ts";
import { retrieveCommand, storeCommand } from "./block_transfer.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  positionals,
  stringOption,
} from "./command.ts";
import { printJson } from "./json_line.ts";
import { jsonOption } from "./options.ts";
import { createProgress } from "./progress.ts";

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
      connectMs: round3(connectMs),
      roundTripMs: round3(roundTripMs),
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
