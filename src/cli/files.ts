/**
 * The commands on files by name, through the namenode (`--namenode`, `--cluster`,
 * `$CDFS_NAMENODE`): `cdfs put`, `cdfs get`, `cdfs archive`, `cdfs repair` move bytes between
 * this machine and the datanodes (`src/client/files/`); `cdfs ls`, `stat`, `rm`, `fsck` are in
 * `file_info.ts`, `cdfs gc` in `file_gc.ts`. {@linkcode FILE_COMMANDS} lists them all, in the
 * order of `cdfs --help`.
 *
 * @module
 */
import { archiveFile } from "../client/files/archive.ts";
import { checkFileCode, quoteName } from "../client/files/file_target.ts";
import { putFile } from "../client/files/put.ts";
import { readFile } from "../client/files/read.ts";
import { repairFile, type RepairFileResult } from "../client/files/repair.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { CdfsError } from "../core/errors.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatCount, formatRanges, pluralNoun } from "../format/count.ts";
import type { NameNodeClient } from "../namenode/client.ts";
import type { FileView } from "../namenode/responses.ts";
import { describeError } from "./app.ts";
import {
  type CliContext,
  type Command,
  type OptionSpec,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import {
  binaryStdout,
  chunkSizeOption,
  elapsed,
  loadModule,
  timeoutArgument,
  withProgress,
} from "./coding_args.ts";
import { checkPushMode } from "./coding.ts";
import { corruptBlockLine, formatLostBlocks } from "./coding_summaries.ts";
import { printJson } from "./json_line.ts";
import {
  DEFAULT_CODE,
  FILE_CODE_OPTION,
  FILE_NAME_ARGUMENT,
  fileNameArgument,
  PUT_CODE_OPTION,
} from "./file_args.ts";
import { gcCommand } from "./file_gc.ts";
import { fsckCommand, lsFilesCommand, rmFileCommand, statFileCommand } from "./file_info.ts";
import { connectNamenode, NAMENODE_OPTIONS } from "./namenode_option.ts";
import { chunkSizeOptionDef, CODING_DIR_OPTION, jsonOption, OUTPUT_OPTIONS } from "./options.ts";
import { formatSummaryRate } from "./progress.ts";

/** What the commands that move bytes take: the namenode, the modules, the runs' settings. */
const TRANSFER_OPTIONS: OptionSpec = {
  ...NAMENODE_OPTIONS,
  ...CODING_DIR_OPTION,
  ...chunkSizeOptionDef(
    "bytes per chunk of the blocks and steps of the coding runs, 4K..16M",
    "1M",
  ),
};
/** `--timeout` of the commands that run coding programs. */
const TIMEOUT_OPTION: OptionSpec = {
  timeout: {
    type: "string",
    value: "DURATION",
    description: "give up on a datanode that sends nothing for this long (the error names " +
      "it): 10s, 500ms, 2m or plain milliseconds, 100ms..24h",
    default: "each node's --idle-timeout, 60s",
  },
};

/**
 * `cdfs put`: stores a local file under a name.
 */
export const putCommand: Command = {
  name: "put",
  summary: "Store a file under a name: the namenode places it, its parts go to the datanodes",
  usage: "cdfs put [--code NAME] [--namenode ADDR] [--chunk-size N] [--json] FILE NAME",
  description: [
    "Asks the namenode to create NAME with the code's layout (it chooses the datanodes, e.g.",
    "for RapidRAID part j on the datanodes of coded blocks j and j+5), cuts FILE into the",
    "code's k parts and stores each on its datanodes, then commits: NAME becomes visible only",
    "once every part is stored and confirmed. On any failure the parts stored are removed and",
    "the name is free again. 'cdfs archive NAME' later encodes it and drops the replicas.",
  ].join("\n"),
  options: { ...PUT_CODE_OPTION, ...TRANSFER_OPTIONS, ...jsonOption() },
  arguments: [{ name: "FILE", description: "the local file to store" }, FILE_NAME_ARGUMENT],
  examples: [
    "cdfs put --namenode 127.0.0.1:13000 big.iso big.iso",
    "cdfs put --cluster lab --code rs movie.mkv movies/movie.mkv",
    "cdfs put --code replication --json notes.txt notes",
    "cdfs put --cluster lab --code lrc:k=10,l=2,r=2 big.iso big.iso",
  ],
  run: runPut,
};

/**
 * `cdfs get`: reads a file, degraded when datanodes are lost.
 */
export const getCommand: Command = {
  name: "get",
  summary: "Read a file: from its parts, or decoded from the coded blocks that survive",
  usage: "cdfs get [--namenode ADDR] [-o FILE] [--json] NAME",
  description: [
    "Reads NAME's parts from its datanodes when it has them (each part from the first copy",
    "that reads whole), or decodes it from any decodable set of its surviving coded blocks",
    "(a degraded read: lost datanodes are passed over, a damaged block is reported on stderr",
    "and another set of survivors used). The result is checked against the SHA-256 the",
    "namenode recorded before it reaches the output: with -o it is renamed over FILE, without",
    "it copied to standard output; a failed read leaves no partial file.",
  ].join("\n"),
  options: {
    ...TRANSFER_OPTIONS,
    ...TIMEOUT_OPTION,
    ...OUTPUT_OPTIONS,
  },
  arguments: [FILE_NAME_ARGUMENT],
  examples: [
    "cdfs get --namenode 127.0.0.1:13000 big.iso -o big.copy",
    "cdfs get --cluster lab movies/movie.mkv | sha256sum",
  ],
  run: runGet,
};

/**
 * `cdfs archive`: encodes a file and drops its replicas.
 */
export const archiveCommand: Command = {
  name: "archive",
  summary: "Encode a file on its datanodes, then keep only its coded blocks",
  usage: "cdfs archive [--code NAME] [--namenode ADDR] [--push] [--json] NAME",
  description: [
    "Runs the code's encode on the datanodes that hold NAME: the namenode first records the",
    "coded blocks (and places those of datanodes that hold no part), the datanodes write",
    "them, the namenode commits them (the file is 'encoded'); every coded block is then",
    "confirmed on its datanode (present, the part length, the digest the encode committed),",
    "the namenode records the file 'archived' with the coded blocks only, and only then are",
    "the part replicas deleted. A crash at any point leaves the replicated or the archived",
    "file, never neither; archive again to finish an encoded one.",
  ].join("\n"),
  options: {
    ...FILE_CODE_OPTION,
    ...TRANSFER_OPTIONS,
    ...TIMEOUT_OPTION,
    push: { type: "boolean", description: "push mode: each node sends its output on to the next" },
    ...jsonOption(),
  },
  arguments: [FILE_NAME_ARGUMENT],
  examples: [
    "cdfs archive --namenode 127.0.0.1:13000 big.iso",
    "cdfs archive --cluster lab --code rapidraid --push movies/movie.mkv",
  ],
  run: runArchive,
};

/**
 * `cdfs repair`: rebuilds a file's unavailable blocks.
 */
export const repairFileCommand: Command = {
  name: "repair",
  summary: "Rebuild a file's unavailable blocks on live datanodes (all files without NAME)",
  usage: "cdfs repair [--namenode ADDR] [--json] [NAME]",
  description: [
    "Rebuilds every block copy the namenode calls unavailable (fsck): a dead datanode's",
    "copies go to one live datanode that holds nothing of the file and has room, which takes",
    "its place in the code's layout. When every live datanode holds some block of the file,",
    "the one holding the fewest takes them, and the output says which blocks now share it",
    "(never a datanode whose blocks already carry the same data: a lost copy of a",
    "replicated file then has no datanode to go to). A copy missing on a live datanode is",
    "rebuilt there. A coded block is computed by the datanodes from the surviving coded",
    "blocks (going around a damaged one), a part copied from a surviving copy, node to node.",
    "Each new place is recorded with the namenode once the block is committed. Without NAME,",
    "every file fsck finds degraded is repaired. Exit status 1 when a block could not be",
    "rebuilt. (One coded block of an object over --nodes is 'cdfs object repair'.)",
  ].join("\n"),
  options: { ...TRANSFER_OPTIONS, ...TIMEOUT_OPTION, ...jsonOption() },
  arguments: [{ ...FILE_NAME_ARGUMENT, optional: true }],
  examples: [
    "cdfs repair --namenode 127.0.0.1:13000 big.iso",
    "cdfs repair --cluster lab --json",
  ],
  run: runRepair,
};

/**
 * The file commands, in the order `cdfs --help` shows them.
 *
 * @example
 * ```ts
 * import { FILE_COMMANDS } from "./files.ts";
 * console.log(FILE_COMMANDS.map((c) => c.name));
 * // [ "put", "get", "ls", "stat", "rm", "archive", "fsck", "repair", "gc" ]
 * ```
 */
export const FILE_COMMANDS: readonly Command[] = [
  putCommand,
  getCommand,
  lsFilesCommand,
  statFileCommand,
  rmFileCommand,
  archiveCommand,
  fsckCommand,
  repairFileCommand,
  gcCommand,
];

async function runPut(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [path, given] = args.positionals as [string, string];
  const name = fileNameArgument(given);
  const chunkSize = chunkSizeOption(args);
  const module = await loadModule(stringOption(args, "code") ?? DEFAULT_CODE, args);
  using namenode = await connectNamenode(ctx, args);
  const started = performance.now();
  const result = await withProgress(
    ctx,
    `put ${name}`,
    (onProgress) => putFile({ namenode, module, path, name, chunkSize, onProgress }),
  );
  const seconds = elapsed(started);
  const { file } = result;
  if (args.values.json === true) {
    printJson(ctx, { ...result, seconds });
    return 0;
  }
  const datanodes = new Set(file.blocks.map((b) => b.node)).size;
  ctx.out(
    `put ${name} (${formatBytes(file.length ?? 0)}) with ${module.name}: ` +
      `${formatCount(module.k, "part")} of ${formatBytes(result.partLength)}, ` +
      `${formatCount(result.parts.length, "copy", "copies")} on ` +
      `${formatCount(datanodes, "datanode")}${formatSummaryRate(result.bytesSent, seconds)}\n` +
      `sha256 ${file.digest}\n`,
  );
  return 0;
}

async function runGet(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const name = fileNameArgument(args.positionals[0]!);
  const output = stringOption(args, "output");
  const toStdout = output === undefined || output === "-";
  if (toStdout && args.values.json === true) {
    throw new CdfsError("USAGE", "--json needs -o FILE (the file itself goes to standard output)");
  }
  const chunkSize = chunkSizeOption(args);
  const timeout = timeoutArgument(args);
  using namenode = await connectNamenode(ctx, args);
  const { file, module } = await fileAndCode(namenode, name, args);
  const started = performance.now();
  const what = `get ${name}`;
  const result = await withProgress(ctx, what, (onProgress) =>
    readFile({
      file,
      module,
      output: toStdout ? binaryStdout(ctx) : output!,
      chunkSize,
      ...timeout,
      onProgress,
      onFailedCopy: (copy) =>
        ctx.err(
          `cdfs: ${what}: ${copy.block} on ${copy.node} (${copy.address ?? "no address"}) ` +
            `${copy.corrupt ? "is damaged, not used" : "not read"}: ${copy.reason}\n`,
        ),
      onCorrupt: (block) => ctx.err(corruptBlockLine(what, block)),
      onSurvey: (blocks) => {
        if (blocks.some((b) => !b.present)) {
          ctx.err(`cdfs: ${what}: degraded read: ${formatLostBlocks(blocks)}\n`);
        }
      },
    }));
  const seconds = elapsed(started);
  if (toStdout) return 0;
  if (args.values.json === true) {
    printJson(ctx, { name, file: output, ...result, seconds });
    return 0;
  }
  const from = result.decode === undefined
    ? `from its ${formatCount(result.parts?.used.length ?? 0, "part")}`
    : `decoded from ${pluralNoun(result.decode.used.length, "coded block")} ` +
      `${formatRanges(result.decode.used)} on ${result.decodedOn}`;
  ctx.out(
    `got ${name} to ${output}: ${formatBytes(result.length)}, sha256 verified, ${from}` +
      `${formatSummaryRate(result.length, seconds)}\n`,
  );
  return 0;
}

async function runArchive(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const name = fileNameArgument(args.positionals[0]!);
  const chunkSize = chunkSizeOption(args);
  const timeout = timeoutArgument(args);
  using namenode = await connectNamenode(ctx, args);
  const { file, module } = await fileAndCode(namenode, name, args);
  const mode = args.values.push === true ? "push" : "pull";
  if (mode === "push") checkPushMode(module);
  const started = performance.now();
  // The bar counts the file's bytes encoded: k parts of the coded block length done.
  const result = await withProgress(ctx, `archive ${name}`, (onProgress) =>
    archiveFile({
      namenode,
      file,
      module,
      chunkSize,
      ...timeout,
      mode,
      onProgress: (done, total) => onProgress(done * module.k, total * module.k),
    }));
  const seconds = elapsed(started);
  if (args.values.json === true) {
    printJson(ctx, { name, ...result, seconds });
    return 0;
  }
  if (result.already) {
    ctx.out(`${name} is archived already: nothing to do\n`);
    return 0;
  }
  const { confirmed, replicas, encode } = result;
  const length = confirmed[0]?.length ?? 0;
  ctx.out(
    `archived ${name} with ${module.name}: ` +
      (encode === undefined
        ? `(encoded before) `
        : `encoded in run ${encode.runId}${formatSummaryRate(length * module.k, seconds)}, `) +
      `${formatCount(confirmed.length, "coded block")} of ${formatBytes(length)} confirmed, ` +
      `${formatCount(replicas.deleted.length, "part replica")} dropped` +
      (replicas.left.length === 0 ? "" : `, ${replicas.left.length} left as orphans`) + "\n",
  );
  for (const left of replicas.left) {
    ctx.err(`cdfs: archive ${name}: ${left.block} on ${left.node} not deleted: ${left.reason}\n`);
  }
  return 0;
}

async function runRepair(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const given = args.positionals[0];
  const name = given === undefined ? undefined : fileNameArgument(given);
  const chunkSize = chunkSizeOption(args);
  const timeout = timeoutArgument(args);
  using namenode = await connectNamenode(ctx, args);
  const names = name !== undefined ? [name] : await unhealthyFiles(namenode);
  const results: (RepairFileResult | { name: string; error: string })[] = [];
  let failed = 0;
  for (const each of names) {
    try {
      const { file, module } = await fileAndCode(namenode, each, args);
      const result = await withProgress(ctx, `repair ${each}`, (onProgress) =>
        repairFile({
          namenode,
          file,
          module,
          chunkSize,
          ...timeout,
          onProgress,
          onCorrupt: (block) => ctx.err(corruptBlockLine(`repair ${each}`, block)),
        }));
      results.push(result);
      failed += result.failed.length;
      if (args.values.json !== true) ctx.out(repairText(each, result));
      for (const f of result.failed) {
        ctx.err(`cdfs: repair ${each}: ${f.block} on ${f.node} not rebuilt: ${f.reason}\n`);
      }
    } catch (error) {
      // One file's failure does not stop the others (without NAME); it decides the exit.
      if (name !== undefined) throw error;
      failed++;
      results.push({ name: each, error: describeError(error) });
      ctx.err(`cdfs: repair ${each}: ${describeError(error)}\n`);
    }
  }
  if (args.values.json === true) printJson(ctx, { files: results });
  else if (name === undefined && names.length === 0) ctx.out("every file is healthy\n");
  return failed === 0 ? 0 : 1;
}

/**
 * What `cdfs repair` prints for one file: a line per block rebuilt, saying when it shares its
 * datanode with other blocks of the file (no live datanode holding nothing of it was left),
 * then the counts.
 */
function repairText(name: string, result: RepairFileResult): string {
  if (result.health.unavailable.length === 0) return `${name}: healthy, nothing to repair\n`;
  const lines = result.rebuilt.map((r) => {
    const from = r.kind === "coded"
      ? `from coded blocks ${formatRanges(r.sources.map((s) => Number(s.slice(5))))}`
      : `copied from ${r.sources.join(", ")}`;
    const where = r.to === r.from
      ? `again on ${r.to}`
      : `on ${r.to} (${r.address}), was on ${r.from}`;
    // The blocks moved there together (one logical node's: parts j and j+5 of RapidRAID) with
    // the same others count too.
    const together = result.rebuilt.filter((o) =>
      o.to === r.to && o.shares.join() === r.shares.join()
    ).length;
    const shares = r.shares.length === 0
      ? ""
      : ` (${r.to} also holds ${r.shares.join(", ")}: ${r.shares.length + together} blocks of ` +
        "this file share that datanode)";
    return `repaired ${name}: ${r.block} rebuilt ${where}, ${formatBytes(r.length)} ${from}` +
      `${shares}\n`;
  });
  const sharing = result.rebuilt.filter((r) => r.shares.length > 0).length;
  return lines.join("") +
    `${name}: ${formatCount(result.rebuilt.length, "block copy", "block copies")} rebuilt` +
    (result.failed.length === 0 ? "" : `, ${result.failed.length} not`) +
    (sharing === 0 ? "" : `; ${sharing} share a datanode with other blocks of the file, as no ` +
      "live datanode without one was left (fsck notes them until a rebalance)") +
    "\n";
}

/** The files fsck finds not healthy (lost ones too: their repair says why it cannot). */
async function unhealthyFiles(namenode: NameNodeClient): Promise<string[]> {
  const names: string[] = [];
  let after: string | undefined;
  do {
    const page = await namenode.fsck(after === undefined ? {} : { after });
    names.push(...page.files.filter((f) => f.status !== "healthy").map((f) => f.name));
    after = page.next ?? undefined;
  } while (after !== undefined);
  return names;
}

/**
 * A file's record and its code: the module the file was put with, or `--code` when given
 * (which must be that one).
 */
async function fileAndCode(
  namenode: NameNodeClient,
  name: string,
  args: ParsedArgs,
): Promise<{ file: FileView; module: CodingModule }> {
  const file = await namenode.getFile(name);
  const code = stringOption(args, "code");
  if (
    code !== undefined && code !== file.code && (await loadModule(code, args)).name !== file.code
  ) {
    throw new CdfsError(
      "USAGE",
      `--code ${code}: file ${quoteName(name)} was put with ${file.code}`,
    );
  }
  const module = await loadModule(file.code, args);
  checkFileCode(file, module);
  return { file, module };
}
