/**
 * `cdfs block store` and `cdfs block retrieve`: block bytes between a datanode and a file or the
 * binary standard input and output, untouched (not the text writers of `CliContext`).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { ByteReader } from "../client/byte_io.ts";
import { DataNodeClient } from "../client/datanode_client.ts";
import type { RetrieveResult } from "../client/retrieve.ts";
import { CdfsError } from "../core/errors.ts";
import { formatBytes } from "../format/bytes.ts";
import { describeOsError } from "../format/os_error.ts";
import {
  BLOCK_ID_ARGUMENT,
  blockIdArgument,
  NODE_OPTIONS,
  nodeArgument,
  round3,
} from "./block_args.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  positionals,
  stringOption,
} from "./command.ts";
import { printJson } from "./json_line.ts";
import { chunkSizeOptionDef, jsonOption } from "./options.ts";
import { createProgress, formatSummaryRate } from "./progress.ts";

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
    "input is refused (an empty block is stored from an empty FILE). When the connection is",
    "lost after the whole block went out and before the reply, the store is asked once more",
    "declaring its digest (a FILE is sent again; standard input is not, a STAT tells): the",
    "block is reported stored if exactly these bytes are there, never written twice.",
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
      printJson(ctx, { node: client.address, ...result, seconds: round3(seconds) });
    } else {
      ctx.out(
        `stored ${result.block} on ${client.address}: ${formatBytes(result.length)}, ` +
          `digest ${result.digest}${formatSummaryRate(result.length, seconds)}` +
          `${result.existed ? " (already there: the first reply was lost)" : ""}\n`,
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
    printJson(ctx, { node: client.address, ...result, file: output, seconds: round3(seconds) });
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

function binaryStream<T>(stream: T | undefined, what: string): T {
  if (stream === undefined) throw new CdfsError("INTERNAL", `this context has no binary ${what}`);
  return stream;
}
