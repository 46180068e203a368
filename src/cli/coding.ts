/**
 * The coding commands: `cdfs object put-parts`, `object encode`, `object decode`,
 * `object repair` work on a coded object spread over an ordered node list (`--nodes`, logical
 * node i = the i-th address), without a namenode, through the object operations of
 * `src/client/objects.ts`; `cdfs code list` and `cdfs code inspect` describe the coding
 * modules (built-in and `--coding-dir`). The files by name (`cdfs put`, `get`, `archive`,
 * `repair`, ...) are in `files.ts`.
 *
 * @module
 */
import {
  decodeObject,
  encodeObject,
  putParts,
  readManifest,
  repairBlock,
} from "../client/objects.ts";
import type { CodedBlockState, CorruptBlock, ProgressCallback } from "../client/objects.ts";
import { manifestBlockId, type ObjectManifest } from "../client/manifest.ts";
import { type DataNodeClientOptions, withStallTimeout } from "../client/datanode_client.ts";
import { listCodingModules, loadCodingModule } from "../coding/lang/loader.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { pushChain } from "../coding/runtime/push_chain.ts";
import { analyze } from "../coding/analysis/symbolic.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import {
  type ArgumentDef,
  type CliContext,
  type Command,
  integerOption,
  type OptionSpec,
  type ParsedArgs,
  parseSize,
  parseTimeout,
  stringOption,
} from "./command.ts";
import { MAX_CODING_TIMEOUT_MS, MIN_CODING_TIMEOUT_MS } from "../protocol/messages.ts";
import { checkNodeCount, NODE_LIST_OPTIONS, nodeListArgument } from "./node_list.ts";
import { chunkSizeOptionDef, CODING_DIR_OPTION, jsonOption, OUTPUT_OPTIONS } from "./options.ts";
import { formatColumns } from "../format/columns.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatCount, formatRanges, pluralNoun } from "../format/count.ts";
import { createProgress, formatSummaryRate, type Progress } from "./progress.ts";

/** `--code NAME` of put-parts, which picks the module that cuts the file. */
const CODE_OPTION: OptionSpec = {
  code: { type: "string", value: "NAME", description: "the coding module (see 'cdfs code list')" },
};
/** `--code NAME` of the commands on a put object, whose manifest already names the module. */
const OBJECT_CODE_OPTION: OptionSpec = {
  code: {
    type: "string",
    value: "NAME",
    description: "the coding module; when given, it must be the one the object's manifest names",
    default: "the manifest's",
  },
};
/** What every coding run takes: the node list, the modules' directories and the step size. */
const RUN_OPTIONS: OptionSpec = {
  ...NODE_LIST_OPTIONS,
  ...CODING_DIR_OPTION,
  ...chunkSizeOptionDef(
    "bytes per step of the coding run (and per stored chunk), 4K..16M; at most the " +
      "datanodes' --chunk-size",
    "1M",
  ),
  timeout: {
    type: "string",
    value: "DURATION",
    description: "give up on a node that sends nothing for this long (the error names it): " +
      "10s, 500ms, 2m or plain milliseconds, 100ms..24h",
    default: "each node's --idle-timeout, 60s",
  },
};
const OBJECT_ID_ARGUMENT: ArgumentDef = {
  name: "ID",
  description: "the object's id; its blocks are named after it (ID.manifest, ID.coded0, ...)",
};
/** A node list as --nodes takes it, for the one example that spells one out. */
const EXAMPLE_NODES = "127.0.0.1:13100,127.0.0.1:13101,127.0.0.1:13102";

/**
 * `cdfs object put-parts`: cuts a file into a module's k parts and places them on the nodes.
 */
export const putPartsCommand: Command = {
  name: "object put-parts",
  summary: "Cut a file into a coding module's k parts and store them on the nodes",
  usage: "cdfs object put-parts --code NAME --nodes LIST [--overwrite] [--json] FILE ID",
  description: [
    "Cuts FILE into k parts of equal length (the last one zero-padded), stores part j on every",
    "node the module places it on, all at once, then writes the manifest ID.manifest (module,",
    "k, n, object length, part length, SHA-256 of FILE) on every node of the list. Then run",
    "'cdfs object encode'. Without --overwrite an existing part is an error, and a failed put removes",
    "what it stored.",
  ].join("\n"),
  options: {
    ...CODE_OPTION,
    ...RUN_OPTIONS,
    overwrite: { type: "boolean", description: "replace existing parts and manifests" },
    ...jsonOption(),
  },
  arguments: [
    { name: "FILE", description: "the file to put" },
    OBJECT_ID_ARGUMENT,
  ],
  examples: [
    "cdfs object put-parts --code rapidraid --cluster lab movie.mkv movie",
    `cdfs object put-parts --code replication --nodes ${EXAMPLE_NODES} notes.txt notes`,
  ],
  run: runPutParts,
};

/**
 * `cdfs object encode`: runs a module's encode on the nodes.
 */
export const encodeCommand: Command = {
  name: "object encode",
  summary: "Encode a put object on the nodes: every node writes its coded block",
  usage: "cdfs object encode [--code NAME] --nodes LIST [--push] [--drop-replicas] [--overwrite] " +
    "[--json] ID",
  description: [
    "Starts every program of the module's encode at once, with one run id; the datanodes pull",
    "the rest of the pipeline from each other and each writes its coded block ID.coded<i>",
    "(atomically: nothing is visible unless the whole run succeeds). The progress bar and the",
    "summary count the object's bytes encoded. The part replicas stay unless --drop-replicas",
    "is given: then they are deleted once every coded block is confirmed on its node (length",
    "and digest), and the manifest records the object as archived.",
    "",
    "With --push the pipeline is driven from its other end: the first program is started and",
    "each node pushes its output to the next (same programs, same coded blocks). It needs an",
    "encode that is a chain of programs, such as RapidRAID's.",
  ].join("\n"),
  options: {
    ...OBJECT_CODE_OPTION,
    ...RUN_OPTIONS,
    push: { type: "boolean", description: "push mode: each node sends its output on to the next" },
    "drop-replicas": {
      type: "boolean",
      description: "once every coded block is confirmed on its node, drop the part replicas " +
        "(on any doubt they are all kept and the encode fails)",
    },
    overwrite: {
      type: "boolean",
      description: "replace coded blocks that exist (without it: an EXISTS error)",
    },
    ...jsonOption(),
  },
  arguments: [OBJECT_ID_ARGUMENT],
  examples: [
    "cdfs object encode --cluster lab movie",
    "cdfs object encode --code rapidraid --cluster lab --push --overwrite movie",
    "cdfs object encode --cluster lab --drop-replicas --timeout 30s movie",
  ],
  run: runEncode,
};

/**
 * `cdfs object decode`: rebuilds an object from its surviving coded blocks.
 */
export const decodeCommand: Command = {
  name: "object decode",
  summary: "Rebuild an object from the coded blocks that survive",
  usage: "cdfs object decode [--code NAME] --nodes LIST [-o FILE] [--json] ID",
  description: [
    "Reads the manifest from any reachable node, asks every node for its coded block (an",
    "unreachable node's block counts as lost) and refuses at once a set of survivors that",
    "cannot decode (SINGULAR, naming the lost blocks and the rank). Otherwise one node, the",
    "coordinator, runs a decode program derived from the survivors and streams the k parts",
    "back, all at once; part j is written at offset j x part length into a temporary file,",
    "which is cut to the object's length and checked against the manifest's SHA-256.",
    "",
    "With -o the verified file is renamed over FILE: a failed decode leaves no partial file.",
    "Without -o the object goes to standard output, but only once verified: the parts arrive",
    "concurrently, so it is first decoded into a temporary file ($TMPDIR) and then copied.",
  ].join("\n"),
  options: {
    ...OBJECT_CODE_OPTION,
    ...RUN_OPTIONS,
    ...OUTPUT_OPTIONS,
  },
  arguments: [OBJECT_ID_ARGUMENT],
  examples: [
    "cdfs object decode --cluster lab -o movie.copy.mkv movie",
    "cdfs object decode --cluster lab movie | sha256sum",
  ],
  run: runDecode,
};

/**
 * `cdfs object repair`: rebuilds one lost coded block.
 */
export const repairCommand: Command = {
  name: "object repair",
  summary: "Rebuild one lost coded block from the surviving ones",
  usage:
    "cdfs object repair [--code NAME] --nodes LIST --block I [--to NODE] [--overwrite] [--json] ID",
  description: [
    "Finds the surviving coded blocks, derives a program that computes coded block I from",
    "those it needs and runs it on the block's node (or on logical node --to), which writes",
    "ID.coded<I>. To replace a dead node: start a new one, put its address at the dead",
    "node's place in --nodes and repair each coded block the module stores there.",
  ].join("\n"),
  options: {
    ...OBJECT_CODE_OPTION,
    ...RUN_OPTIONS,
    block: {
      type: "string",
      value: "I",
      description: "the index of the coded block to rebuild (0..n-1; required)",
    },
    to: {
      type: "string",
      value: "NODE",
      description: "the logical node (index into --nodes) to rebuild it on; decode looks " +
        "for it on the node the module stores it on",
      default: "that node",
    },
    overwrite: { type: "boolean", description: "replace the block if the target node has it" },
    ...jsonOption(),
  },
  arguments: [OBJECT_ID_ARGUMENT],
  examples: [
    "cdfs object repair --cluster lab --block 3 movie",
    "cdfs object repair --code rapidraid --cluster lab --block 3 --to 15 movie",
  ],
  run: runRepair,
};

/**
 * `cdfs code list`: the coding modules available.
 */
export const codeListCommand: Command = {
  name: "code list",
  summary: "List the coding modules: built-in ones and those of --coding-dir",
  usage: "cdfs code list [--coding-dir DIR] [--json]",
  description: [
    "One line per module: name, (n,k), field and description; a module that does not load is",
    "listed with the reason. A module in a --coding-dir hides a built-in one of the same name.",
  ].join("\n"),
  options: { ...CODING_DIR_OPTION, ...jsonOption("print a JSON array") },
  arguments: [],
  examples: ["cdfs code list", "cdfs code list --coding-dir ./coding --json"],
  run: runCodeList,
};

/**
 * `cdfs code inspect`: a module's code, as symbolic execution sees it.
 */
export const codeInspectCommand: Command = {
  name: "code inspect",
  summary: "Show a coding module's generator matrix, whether it is MDS, what cannot decode",
  usage: "cdfs code inspect [--coding-dir DIR] [--json] NAME",
  description: [
    "Runs the module's encode over coefficient vectors to get its generator matrix G (row i =",
    "coded block i as a combination of the k parts), then checks every k-subset of the n coded",
    "blocks: the code is MDS when all of them decode. Prints n, k, the field, G, and every",
    "undecodable k-subset (coded block indices).",
  ].join("\n"),
  options: {
    ...CODING_DIR_OPTION,
    ...jsonOption("print as JSON (generator as an array of rows)"),
  },
  arguments: [{ name: "NAME", description: "the module (see 'cdfs code list')" }],
  examples: ["cdfs code inspect rapidraid", "cdfs code inspect rs --json"],
  run: runCodeInspect,
};

/**
 * The coding commands, in the order `cdfs --help` shows them.
 *
 * @example
 * ```ts
 * import { CODING_COMMANDS } from "./coding.ts";
 * console.log(CODING_COMMANDS.map((c) => c.name));
 * ```
 */
export const CODING_COMMANDS: readonly Command[] = [
  putPartsCommand,
  encodeCommand,
  decodeCommand,
  repairCommand,
  codeListCommand,
  codeInspectCommand,
];

async function runPutParts(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [file, id] = positionals(args, 2, 2, "FILE ID");
  objectIdArgument(id!);
  const code = stringOption(args, "code");
  if (code === undefined) throw new CdfsError("USAGE", "--code NAME is required");
  const nodes = nodeListArgument(ctx, args);
  const chunkSize = chunkSizeOption(args);
  const timeout = timeoutArgument(args);
  const module = await loadModule(code, args);
  checkNodeCount(module, nodes);
  const started = performance.now();
  const result = await withProgress(ctx, `put-parts ${id}`, (onProgress) =>
    putParts({
      module,
      nodes: nodes.addresses,
      objectId: id!,
      file: file!,
      chunkSize,
      overwrite: args.values.overwrite === true,
      ...timeout,
      onProgress,
    }));
  const seconds = elapsed(started);
  const { manifest } = result;
  if (args.values.json === true) {
    printJson(ctx, { object: id, ...result, seconds });
  } else {
    ctx.out(
      `put ${id} (${formatBytes(manifest.objectLength)}) as ${formatCount(manifest.k, "part")} ` +
        `of ${formatBytes(manifest.partLength)}: ` +
        `${formatCount(result.parts.length, "part block")} and ` +
        `${formatCount(nodes.addresses.length, "manifest")} on ` +
        `${formatCount(nodes.addresses.length, "node")}` +
        `${formatSummaryRate(result.bytesSent, seconds)}\nsha256 ${manifest.sha256}\n`,
    );
  }
  return 0;
}

async function runEncode(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id] = positionals(args, 1, 1, "ID");
  objectIdArgument(id!);
  const { module, nodes } = await objectArguments(ctx, args, id!);
  const chunkSize = chunkSizeOption(args);
  const timeout = timeoutArgument(args);
  const mode = args.values.push === true ? "push" : "pull";
  if (mode === "push") checkPushMode(module);
  const started = performance.now();
  // encodeObject counts the bytes of one coded block (those the slowest pipeline end has
  // produced); the bar and the summary both count the object's bytes encoded, k parts of
  // that many bytes, so that the bar's rate ends where the summary's is.
  const result = await withProgress(ctx, `encode ${id}`, (onProgress) =>
    encodeObject({
      module,
      nodes: nodes.addresses,
      objectId: id!,
      chunkSize,
      overwrite: args.values.overwrite === true,
      mode,
      ...timeout,
      ...(args.values["drop-replicas"] === true ? { dropReplicas: true } : {}),
      onProgress: (done, total) => onProgress(done * module.k, total * module.k),
    }));
  const seconds = elapsed(started);
  if (args.values.json === true) {
    printJson(ctx, { object: id, module: module.name, mode, ...result, seconds });
  } else {
    ctx.out(
      `encoded ${id} with ${module.name}${mode === "push" ? " (push)" : ""}: ` +
        `${formatCount(module.n, "coded block")} of ${formatBytes(result.length)}, ` +
        `run ${result.runId}${formatSummaryRate(result.length * module.k, seconds)}\n`,
    );
    if (result.archive !== undefined) {
      const { confirmed, dropped, kept } = result.archive;
      ctx.out(
        `dropped ${formatCount(dropped.length, "part replica")} after confirming ` +
          `${formatCount(confirmed.length, "coded block")}` +
          (kept.length === 0 ? "\n" : `; ${formatCount(kept.length, "replica")} could not be ` +
            `deleted: ${kept.map((r) => `${r.block} on node ${r.node}`).join(", ")}\n`),
      );
    }
  }
  return 0;
}

/**
 * Checks that a module's encode can run in push mode (`--push`): every end of it is a chain
 * of programs. Refused before anything is sent, as a usage error.
 *
 * @example
 * ```ts
 * import { checkPushMode } from "./coding.ts";
 * import { codingModule } from "../../coding/rapidraid.ts";
 * checkPushMode(codingModule); // RapidRAID's encode is a pipeline: no error
 * ```
 *
 * @param module The coding module.
 * @throws {CdfsError} USAGE naming the module and why it has no pipeline to push.
 */
export function checkPushMode(module: CodingModule): void {
  for (const end of [module.encode].flat()) {
    try {
      pushChain(module.programs, end);
    } catch (e) {
      throw new CdfsError("USAGE", `--push with module '${module.name}': ${(e as Error).message}`);
    }
  }
}

/**
 * The stderr line for a damaged block that a decode or repair found and went around: which
 * block, on which node, and the node's own words.
 *
 * @example
 * ```ts
 * import { corruptBlockLine } from "./coding.ts";
 * const block = { index: 3, block: "big.coded3", node: 3, address: "h:1", reason: "checksum mismatch" };
 * console.log(corruptBlockLine("decode big", block));
 * // "cdfs: decode big: coded block 3 (big.coded3) on node 3 (h:1) is damaged, not used: checksum mismatch\n"
 * ```
 *
 * @param what The operation and object, e.g. `decode big`.
 * @param block The damaged block.
 * @returns The line, with its newline.
 */
export function corruptBlockLine(what: string, block: CorruptBlock): string {
  return `cdfs: ${what}: coded block ${block.index} (${block.block}) on node ${block.node} ` +
    `(${block.address}) is damaged, not used: ${block.reason}\n`;
}

async function runDecode(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id] = positionals(args, 1, 1, "ID");
  objectIdArgument(id!);
  const output = stringOption(args, "output");
  const toStdout = output === undefined || output === "-";
  if (toStdout && args.values.json === true) {
    throw new CdfsError(
      "USAGE",
      "--json needs -o FILE (the object itself goes to standard output)",
    );
  }
  const chunkSize = chunkSizeOption(args);
  const timeout = timeoutArgument(args);
  const { module, nodes, manifest } = await objectArguments(ctx, args, id!);
  const started = performance.now();
  const result = await withProgress(ctx, `decode ${id}`, (onProgress) =>
    decodeObject({
      module,
      nodes: nodes.addresses,
      objectId: id!,
      ...(manifest === undefined ? {} : { manifest }),
      output: toStdout ? binaryStdout(ctx) : output!,
      chunkSize,
      ...timeout,
      onProgress,
      onCorrupt: (block) => ctx.err(corruptBlockLine(`decode ${id}`, block)),
      onSurvey: (blocks) => {
        // On stdout the object itself is the output: the lost blocks are worth a line on stderr.
        if (toStdout && blocks.some((b) => !b.present)) {
          ctx.err(`cdfs: decode ${id}: ${formatLostBlocks(blocks)}\n`);
        }
      },
    }));
  const seconds = elapsed(started);
  if (toStdout) return 0;
  if (args.values.json === true) {
    printJson(ctx, { object: id, module: module.name, file: output, ...result, seconds });
  } else {
    ctx.out(
      `decoded ${id} to ${output}: ${formatBytes(result.length)}, sha256 verified, from ` +
        `${codedBlocks(result.used)} on node ${result.coordinator}` +
        `${formatSummaryRate(result.length, seconds)}; ${formatLostBlocks(result.blocks)}\n`,
    );
  }
  return 0;
}

async function runRepair(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id] = positionals(args, 1, 1, "ID");
  objectIdArgument(id!);
  const blockText = stringOption(args, "block");
  if (blockText === undefined) throw new CdfsError("USAGE", "--block I is required");
  const block = parseSize(blockText, "--block");
  const toText = stringOption(args, "to");
  const to = toText === undefined ? undefined : parseSize(toText, "--to");
  const chunkSize = chunkSizeOption(args);
  const timeout = timeoutArgument(args);
  const { module, nodes, manifest } = await objectArguments(ctx, args, id!);
  if (block >= module.n) {
    throw new CdfsError(
      "USAGE",
      `--block ${block}: ${module.name} has coded blocks 0..${module.n - 1}`,
    );
  }
  if (to !== undefined && to >= nodes.addresses.length) {
    throw new CdfsError(
      "USAGE",
      `--to ${to}: the node list has nodes 0..${nodes.addresses.length - 1}`,
    );
  }
  const started = performance.now();
  const result = await withProgress(
    ctx,
    `repair ${id} coded block ${block}`,
    (onProgress) =>
      repairBlock({
        module,
        nodes: nodes.addresses,
        objectId: id!,
        block,
        ...(to === undefined ? {} : { to }),
        // The manifest, not only the part length: it records where repaired blocks live now.
        ...(manifest === undefined ? {} : { manifest }),
        chunkSize,
        overwrite: args.values.overwrite === true,
        ...timeout,
        onCorrupt: (damaged) => ctx.err(corruptBlockLine(`repair ${id}`, damaged)),
        onProgress,
      }),
  );
  const seconds = elapsed(started);
  if (args.values.json === true) {
    printJson(ctx, { object: id, module: module.name, ...result, seconds });
  } else {
    ctx.out(
      `repaired ${result.block} on node ${result.node} (${result.address}): ` +
        `${formatBytes(result.length)} from ${codedBlocks(result.used)}, ` +
        `digest ${result.digest}${formatSummaryRate(result.length, seconds)}\n`,
    );
  }
  return 0;
}

async function runCodeList(ctx: CliContext, args: ParsedArgs): Promise<number> {
  positionals(args, 0, 0, "");
  const search = { codingDirs: codingDirs(args) };
  const listing = await asUsageWhenMissingDir(listCodingModules(search));
  const rows = await Promise.all(listing.map(async (entry) => {
    if (entry.error !== undefined) return { ...entry };
    const module = await loadCodingModule(entry.name, search);
    return { ...entry, n: module.n, k: module.k, field: module.field };
  }));
  if (args.values.json === true) {
    printJson(ctx, rows);
    return 0;
  }
  // A module that does not load has a short row: its error spans the other columns.
  const table = rows.map((r) => {
    const where = r.builtin ? "" : `  [${r.path}]`;
    if (!("n" in r)) return [r.name, `does not load: ${r.error}${where}`];
    return [r.name, `(${r.n},${r.k})`, `GF(2^${r.field})`, `${r.description}${where}`];
  });
  ctx.out(formatColumns(table, 4).map((line) => `${line}\n`).join(""));
  return 0;
}

async function runCodeInspect(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name] = positionals(args, 1, 1, "NAME");
  const module = await loadModule(name!, args);
  const analysis = analyze(module);
  const generator = analysis.generator.map((row) => Array.from(row));
  if (args.values.json === true) {
    printJson(ctx, {
      name: module.name,
      description: module.description,
      field: module.field,
      n: analysis.n,
      k: analysis.k,
      rank: analysis.rank,
      isMds: analysis.isMds,
      subsetCount: analysis.subsetCount,
      decodableCount: analysis.decodableCount,
      undecodableCount: analysis.undecodableSubsets.length,
      undecodableSubsets: analysis.undecodableSubsets,
      generator,
      coded: module.coded.map((c) => c.node),
    });
    return 0;
  }
  const undecodable = analysis.undecodableSubsets.length;
  const lines = [
    `module       ${module.name}: ${module.description}`,
    `field        GF(2^${module.field})`,
    `n            ${analysis.n} coded blocks`,
    `k            ${analysis.k} parts`,
    `rank         ${analysis.rank}`,
    `MDS          ${analysis.isMds ? "yes" : "no"}`,
    `undecodable  ${undecodable} of the ${analysis.subsetCount} ${analysis.k}-subsets of the ` +
    `coded blocks`,
    "",
    "generator matrix (row i = coded block i and its node; column j = part j):",
  ];
  const cell = Math.max(1, ...generator.flat().map((v) => String(v).length));
  const label = `coded${module.n - 1}`.length;
  generator.forEach((row, i) => {
    const head = `coded${i}`.padEnd(label) + ` node ${String(module.coded[i]!.node).padEnd(3)}`;
    lines.push(`  ${head} ${row.map((v) => String(v).padStart(cell)).join(" ")}`);
  });
  if (undecodable > 0) {
    lines.push(
      "",
      `undecodable ${analysis.k}-subsets (coded block indices: if only these survive, the ` +
        "object is lost):",
    );
    for (const subset of analysis.undecodableSubsets) lines.push(`  {${subset.join(", ")}}`);
  }
  ctx.out(`${lines.join("\n")}\n`);
  return 0;
}

/**
 * The module and node list of a command on an existing object: the module of `--code`, or the
 * one the object's manifest names (read from any node); the manifest when it was read.
 */
async function objectArguments(
  ctx: CliContext,
  args: ParsedArgs,
  objectId: string,
): Promise<
  { module: CodingModule; nodes: ReturnType<typeof nodeListArgument>; manifest?: ObjectManifest }
> {
  const nodes = nodeListArgument(ctx, args);
  const code = stringOption(args, "code");
  let manifest: ObjectManifest | undefined;
  let module: CodingModule;
  if (code !== undefined) {
    module = await loadModule(code, args);
    checkNodeCount(module, nodes);
  } else {
    manifest = (await readManifest(nodes.addresses, objectId)).manifest;
    module = await loadModule(manifest.module, args);
    checkNodeCount(module, nodes);
  }
  return { module, nodes, ...(manifest === undefined ? {} : { manifest }) };
}

/**
 * Loads a module by name, from `--coding-dir` first; an unknown name is a usage error listing
 * the known ones.
 *
 * @example
 * ```ts
 * import { loadModule } from "./coding.ts";
 * const module = await loadModule("rs", { values: {}, positionals: [] });
 * console.log(module.n, module.k); // 16 11
 * ```
 *
 * @param name The module's name.
 * @param args The parsed arguments (their `--coding-dir`).
 * @returns The module.
 * @throws {CdfsError} USAGE for an unknown module.
 */
export async function loadModule(name: string, args: ParsedArgs): Promise<CodingModule> {
  const search = { codingDirs: codingDirs(args) };
  try {
    return await loadCodingModule(name, search);
  } catch (error) {
    if (!isCdfsError(error, "NOT_FOUND") && !isCdfsError(error, "BAD_REQUEST")) throw error;
    if (isCdfsError(error, "BAD_REQUEST") && !/is not valid/.test(error.message)) throw error;
    const listing = await asUsageWhenMissingDir(listCodingModules(search));
    const known = listing.filter((m) => m.error === undefined).map((m) => m.name);
    throw new CdfsError(
      "USAGE",
      `unknown coding module '${name}' (known: ${
        known.join(", ") || "none"
      }; see 'cdfs code list')`,
      { cause: error },
    );
  }
}

async function asUsageWhenMissingDir<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (isCdfsError(error, "NOT_FOUND")) {
      throw new CdfsError("USAGE", `--coding-dir: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function codingDirs(args: ParsedArgs): string[] {
  const value = args.values["coding-dir"];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
}

/**
 * `--timeout` as the object operations take it: `{ timeoutMs, client }` (the coding runs' stall
 * timeout and the same bound on every other connection), or nothing when absent.
 *
 * @example
 * ```ts
 * import { timeoutArgument } from "./coding.ts";
 * console.log(timeoutArgument({ values: { timeout: "2s" }, positionals: [] }).timeoutMs); // 2000
 * ```
 *
 * @param args The parsed arguments.
 * @returns The stall timeout and the client options bounded by it, if given.
 * @throws {CdfsError} USAGE for a malformed or out-of-range duration.
 */
export function timeoutArgument(
  args: ParsedArgs,
): { timeoutMs?: number; client?: DataNodeClientOptions } {
  const text = stringOption(args, "timeout");
  if (text === undefined) return {};
  const timeoutMs = parseTimeout(text, "--timeout", {
    min: MIN_CODING_TIMEOUT_MS,
    max: MAX_CODING_TIMEOUT_MS,
  });
  // The coding runs take it as their stall timeout; every other connection the command opens
  // (manifest reads, STAT, STORE of parts) is bounded by it too, so a frozen node costs at
  // most --timeout wherever it is met.
  return { timeoutMs, client: withStallTimeout({}, timeoutMs) };
}

/**
 * `--chunk-size` of a coding run: 4K..16M, default 1M.
 *
 * @example
 * ```ts
 * import { chunkSizeOption } from "./coding.ts";
 * console.log(chunkSizeOption({ values: { "chunk-size": "64K" }, positionals: [] })); // 65536
 * ```
 *
 * @param args The parsed arguments.
 * @returns Bytes.
 * @throws {CdfsError} USAGE outside 4K..16M.
 */
export function chunkSizeOption(args: ParsedArgs): number {
  const chunkSize = integerOption(args, "chunk-size", 1 << 20);
  if (chunkSize < 4096 || chunkSize > 16 << 20) {
    throw new CdfsError("USAGE", `--chunk-size must be in 4K..16M, got ${chunkSize}`);
  }
  return chunkSize;
}

/** Checks an object id (and the block ids made from it) as a usage error. */
function objectIdArgument(id: string): string {
  try {
    manifestBlockId(id);
    return id;
  } catch (error) {
    throw isCdfsError(error) ? new CdfsError("USAGE", error.message, { cause: error }) : error;
  }
}

/**
 * Runs an operation with a progress bar (on a terminal), removed when it ends.
 *
 * @example
 * Not run by `deno test --doc`: it needs a CLI context and a running cluster.
 * ```ts ignore
 * import { withProgress } from "./coding.ts";
 * const result = await withProgress(ctx, "put big", (onProgress) => putFile({ ...options, onProgress }));
 * ```
 *
 * @param ctx The command's context (the bar goes to its stderr, on a terminal only).
 * @param label What the bar is for.
 * @param operation The operation, given the callback that moves the bar.
 * @returns The operation's result.
 */
export async function withProgress<T>(
  ctx: CliContext,
  label: string,
  operation: (onProgress: ProgressCallback) => Promise<T>,
): Promise<T> {
  const progress: Progress = createProgress(ctx, { label });
  try {
    return await operation((done, total) => {
      // A total of 0 is one not known yet (an encode before its nodes answered): a bar of
      // "100%  0 B / 0 B" would be wrong until then.
      if (total > 0) progress.setTotal(total);
      progress.update(done);
    });
  } finally {
    progress.finish();
  }
}

/**
 * The coded blocks a decode found lost, in one short line: blocks lost for the same reason
 * share one entry, with their indices and nodes as ranges (16 refused connections would
 * otherwise make a line of 600 characters).
 *
 * @example
 * ```ts
 * import { formatLostBlocks } from "./coding.ts";
 * const lost = (index: number, reason: string) => ({
 *   index,
 *   block: `movie.coded${index}`,
 *   node: index,
 *   address: `127.0.0.1:${13100 + index}`,
 *   present: false,
 *   reason,
 * });
 * console.log(formatLostBlocks([
 *   lost(0, "node unreachable: cannot reach node 127.0.0.1:13100: connection refused"),
 *   lost(1, "node unreachable: cannot reach node 127.0.0.1:13101: connection refused"),
 *   lost(7, "missing"),
 * ]));
 * // "lost coded blocks 0-1 (nodes 0-1: connection refused); 7 (node 7: missing)"
 * ```
 *
 * @param blocks Every coded block's state, as the decode's survey found it.
 * @returns `no coded block lost`, or `lost coded block(s) ...`.
 */
export function formatLostBlocks(blocks: readonly CodedBlockState[]): string {
  const lost = blocks.filter((b) => !b.present);
  if (lost.length === 0) return "no coded block lost";
  const byReason = new Map<string, CodedBlockState[]>();
  for (const block of lost) {
    const reason = shortReason(block);
    byReason.set(reason, [...(byReason.get(reason) ?? []), block]);
  }
  const entries = [...byReason].map(([reason, group]) => {
    const nodes = new Set(group.map((b) => b.node));
    return `${formatRanges(group.map((b) => b.index))} ` +
      `(${pluralNoun(nodes.size, "node")} ${formatRanges(nodes)}: ${reason})`;
  });
  return `lost ${pluralNoun(lost.length, "coded block")} ${entries.join("; ")}`;
}

/**
 * Why a block is lost, without its node's address: the survey's reasons name it ("cannot
 * reach node 127.0.0.1:13100: ..."), which would keep nodes that failed alike apart.
 */
function shortReason(block: CodedBlockState): string {
  return (block.reason ?? "lost")
    .replace(/^node unreachable: /, "")
    .replaceAll(`cannot reach node ${block.address}: `, "")
    .replaceAll(`node ${block.address}: `, "");
}

/** `coded block 3` or `coded blocks 0-2, 5`. */
function codedBlocks(indices: readonly number[]): string {
  return `${pluralNoun(indices.length, "coded block")} ${formatRanges(indices)}`;
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

/**
 * The binary standard output of a context, where an object or a file goes without `-o`.
 *
 * @example
 * Not run by `deno test --doc`: it writes to a CLI context's standard output (`ctx`).
 * ```ts ignore
 * import { binaryStdout } from "./coding.ts";
 * await binaryStdout(ctx).write(bytes);
 * ```
 *
 * @param ctx The command's context.
 * @returns Its binary standard output.
 * @throws {CdfsError} INTERNAL for a context without one.
 */
export function binaryStdout(ctx: CliContext): NonNullable<CliContext["stdout"]> {
  if (ctx.stdout === undefined) {
    throw new CdfsError("INTERNAL", "this context has no binary standard output");
  }
  return ctx.stdout;
}

/**
 * Prints a value as one line of JSON.
 *
 * @example
 * ```ts
 * import { printJson } from "./coding.ts";
 * printJson({ out: (t) => console.log(t), err() {}, isTerminal: false, env: () => undefined }, { a: 1 });
 * ```
 *
 * @param ctx The command's context.
 * @param value The value.
 */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(`${JSON.stringify(value)}\n`);
}

/**
 * Seconds since `started` (a `performance.now()`), to the millisecond.
 *
 * @example
 * ```ts
 * import { elapsed } from "./coding.ts";
 * console.log(elapsed(performance.now()) < 1); // true
 * ```
 *
 * @param started When the work started.
 * @returns Seconds.
 */
export function elapsed(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}
