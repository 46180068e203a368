/**
 * The coding commands: `cdfs put-parts`, `cdfs encode`, `cdfs decode`, `cdfs repair` work on a
 * coded object spread over an ordered node list (`--nodes`, logical node i = the i-th
 * address), through the object operations of `src/client/objects.ts`; `cdfs code list` and
 * `cdfs code inspect` describe the coding modules (built-in and `--coding-dir`).
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
import type { CodedBlockState, ProgressCallback } from "../client/objects.ts";
import { manifestBlockId, type ObjectManifest } from "../client/manifest.ts";
import { listCodingModules, loadCodingModule } from "../coding/loader.ts";
import type { CodingModule } from "../coding/program.ts";
import { pushChain } from "../coding/push.ts";
import { analyze } from "../coding/symbolic.ts";
import { CdfsError, isCdfsError } from "../errors.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  parseSize,
  stringOption,
} from "./command.ts";
import {
  checkNodeCount,
  NODE_LIST_HELP,
  NODE_LIST_OPTIONS,
  nodeListArgument,
} from "./node_list.ts";
import { formatColumns } from "../format/columns.ts";
import { formatBytes } from "../format/bytes.ts";
import { createProgress, type Progress } from "./progress.ts";

const CODE_OPTION = { code: { type: "string" } } as const;
const DIR_OPTION = { "coding-dir": { type: "string", multiple: true } } as const;
const RUN_OPTIONS = { "chunk-size": { type: "string" }, json: { type: "boolean" } } as const;
const DIR_HELP =
  "  --coding-dir DIR      also look for coding modules in DIR (before the built-in ones;\n" +
  "                        repeatable). The datanodes must serve the same module";
const CHUNK_HELP =
  "  --chunk-size N        bytes per step of the coding run (and per stored chunk), 4K..16M\n" +
  "                        (default 1M; at most the datanodes' --chunk-size)";
const OPTIONAL_CODE_HELP =
  "  --code NAME           the coding module (default: the one the object's manifest names;\n" +
  "                        when given, it must be that one)";
const EXAMPLE_NODES = "10.0.0.1:13100,10.0.0.2:13100,...,10.0.0.16:13100";

/**
 * `cdfs put-parts`: cuts a file into a module's k parts and places them on the nodes.
 *
 * @example
 * ```ts
 * import { putPartsCommand } from "./coding.ts";
 * console.log(putPartsCommand.usage);
 * ```
 */
export const putPartsCommand: Command = {
  name: "put-parts",
  summary: "Cut a file into a coding module's k parts and store them on the nodes",
  usage: "cdfs put-parts --code NAME --nodes LIST [--overwrite] [--json] FILE ID",
  description: [
    "Cuts FILE into k parts of equal length (the last one zero-padded), stores part j on every",
    "node the module places it on, all at once, then writes the manifest ID.manifest (module,",
    "k, n, object length, part length, SHA-256 of FILE) on every node of the list. Then run",
    "'cdfs encode'. Without --overwrite an existing part is an error, and a failed put removes",
    "what it stored.",
    "",
    "Options:",
    "  --code NAME           the coding module (see 'cdfs code list')",
    NODE_LIST_HELP,
    DIR_HELP,
    CHUNK_HELP,
    "  --overwrite           replace existing parts and manifests",
    "  --json                print the summary as JSON",
    "",
    "Example:",
    `  cdfs put-parts --code rapidraid --nodes ${EXAMPLE_NODES} movie.mkv movie`,
  ].join("\n"),
  options: {
    ...CODE_OPTION,
    ...NODE_LIST_OPTIONS,
    ...DIR_OPTION,
    ...RUN_OPTIONS,
    overwrite: { type: "boolean" },
  },
  run: runPutParts,
};

/**
 * `cdfs encode`: runs a module's encode on the nodes.
 *
 * @example
 * ```ts
 * import { encodeCommand } from "./coding.ts";
 * console.log(encodeCommand.usage);
 * ```
 */
export const encodeCommand: Command = {
  name: "encode",
  summary: "Encode a put object on the nodes: every node writes its coded block",
  usage: "cdfs encode [--code NAME] --nodes LIST [--push] [--overwrite] [--json] ID",
  description: [
    "Starts every program of the module's encode at once, with one run id; the datanodes pull",
    "the rest of the pipeline from each other and each writes its coded block ID.coded<i>",
    "(atomically: nothing is visible unless the whole run succeeds). The progress bar shows",
    "the bytes that went through the last node. The part blocks stay; remove them with",
    "'cdfs rm' once the object is encoded.",
    "",
    "With --push the pipeline is driven from its other end: the first program is started and",
    "each node pushes its output to the next (same programs, same coded blocks). It needs an",
    "encode that is a chain of programs, such as RapidRAID's.",
    "",
    "Options:",
    OPTIONAL_CODE_HELP,
    NODE_LIST_HELP,
    DIR_HELP,
    CHUNK_HELP,
    "  --push                push mode: each node sends its output on to the next",
    "  --overwrite           replace coded blocks that exist (default: fail with EXISTS)",
    "  --json                print the summary as JSON",
    "",
    "Example:",
    `  cdfs encode --code rapidraid --nodes ${EXAMPLE_NODES} movie`,
  ].join("\n"),
  options: {
    ...CODE_OPTION,
    ...NODE_LIST_OPTIONS,
    ...DIR_OPTION,
    ...RUN_OPTIONS,
    push: { type: "boolean" },
    overwrite: { type: "boolean" },
  },
  run: runEncode,
};

/**
 * `cdfs decode`: rebuilds an object from its surviving coded blocks.
 *
 * @example
 * ```ts
 * import { decodeCommand } from "./coding.ts";
 * console.log(decodeCommand.usage);
 * ```
 */
export const decodeCommand: Command = {
  name: "decode",
  summary: "Rebuild an object from the coded blocks that survive",
  usage: "cdfs decode [--code NAME] --nodes LIST [-o FILE] [--json] ID",
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
    "",
    "Options:",
    OPTIONAL_CODE_HELP,
    NODE_LIST_HELP,
    DIR_HELP,
    CHUNK_HELP,
    "  -o, --output FILE     write to FILE instead of standard output",
    "  --json                print the summary as JSON (needs -o)",
    "",
    "Examples:",
    `  cdfs decode --nodes ${EXAMPLE_NODES} -o movie.mkv movie`,
    `  cdfs decode --code rs --nodes "$NODES" movie | sha256sum`,
  ].join("\n"),
  options: {
    ...CODE_OPTION,
    ...NODE_LIST_OPTIONS,
    ...DIR_OPTION,
    ...RUN_OPTIONS,
    output: { type: "string", short: "o" },
  },
  run: runDecode,
};

/**
 * `cdfs repair`: rebuilds one lost coded block.
 *
 * @example
 * ```ts
 * import { repairCommand } from "./coding.ts";
 * console.log(repairCommand.usage);
 * ```
 */
export const repairCommand: Command = {
  name: "repair",
  summary: "Rebuild one lost coded block from the surviving ones",
  usage: "cdfs repair [--code NAME] --nodes LIST --block I [--to NODE] [--overwrite] [--json] ID",
  description: [
    "Finds the surviving coded blocks, derives a program that computes coded block I from",
    "those it needs and runs it on the block's node (or on logical node --to), which writes",
    "ID.coded<I>. To replace a dead node: start a new one, put its address at the dead",
    "node's place in --nodes and repair each coded block the module stores there.",
    "",
    "Options:",
    OPTIONAL_CODE_HELP,
    NODE_LIST_HELP,
    DIR_HELP,
    CHUNK_HELP,
    "  --block I             the index of the coded block to rebuild (0..n-1)",
    "  --to NODE             the logical node (index into --nodes) to rebuild it on (default:",
    "                        the node the module stores it on; decode looks for it there)",
    "  --overwrite           replace the block if the target node has it",
    "  --json                print the summary as JSON",
    "",
    "Example:",
    `  cdfs repair --code rapidraid --nodes ${EXAMPLE_NODES} --block 3 movie`,
  ].join("\n"),
  options: {
    ...CODE_OPTION,
    ...NODE_LIST_OPTIONS,
    ...DIR_OPTION,
    ...RUN_OPTIONS,
    block: { type: "string" },
    to: { type: "string" },
    overwrite: { type: "boolean" },
  },
  run: runRepair,
};

/**
 * `cdfs code list`: the coding modules available.
 *
 * @example
 * ```ts
 * import { codeListCommand } from "./coding.ts";
 * console.log(codeListCommand.name); // "code list"
 * ```
 */
export const codeListCommand: Command = {
  name: "code list",
  summary: "List the coding modules: built-in ones and those of --coding-dir",
  usage: "cdfs code list [--coding-dir DIR] [--json]",
  description: [
    "One line per module: name, (n,k), field and description; a module that does not load is",
    "listed with the reason. A module in a --coding-dir hides a built-in one of the same name.",
    "",
    "Options:",
    DIR_HELP,
    "  --json                print a JSON array",
    "",
    "Examples:",
    "  cdfs code list",
    "  cdfs code list --coding-dir ./my-codes --json",
  ].join("\n"),
  options: { ...DIR_OPTION, json: { type: "boolean" } },
  run: runCodeList,
};

/**
 * `cdfs code inspect`: a module's code, as symbolic execution sees it.
 *
 * @example
 * ```ts
 * import { codeInspectCommand } from "./coding.ts";
 * console.log(codeInspectCommand.name); // "code inspect"
 * ```
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
    "",
    "Options:",
    DIR_HELP,
    "  --json                print as JSON (generator as an array of rows)",
    "",
    "Examples:",
    "  cdfs code inspect rapidraid",
    "  cdfs code inspect rs --json",
  ].join("\n"),
  options: { ...DIR_OPTION, json: { type: "boolean" } },
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
      onProgress,
    }));
  const seconds = elapsed(started);
  const { manifest } = result;
  if (args.values.json === true) {
    printJson(ctx, { object: id, ...result, seconds });
  } else {
    ctx.out(
      `put ${id} (${manifest.objectLength} bytes) as ${manifest.k} parts of ` +
        `${manifest.partLength} bytes: ${result.parts.length} part blocks and ` +
        `${nodes.addresses.length} manifests on ${nodes.addresses.length} nodes` +
        `${rateText(result.bytesSent, seconds)}\nsha256 ${manifest.sha256}\n`,
    );
  }
  return 0;
}

async function runEncode(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id] = positionals(args, 1, 1, "ID");
  objectIdArgument(id!);
  const { module, nodes } = await objectArguments(ctx, args, id!);
  const chunkSize = chunkSizeOption(args);
  const mode = args.values.push === true ? "push" : "pull";
  if (mode === "push") {
    // Refused before anything is sent, as a usage error: the module has no pipeline to push.
    for (const end of [module.encode].flat()) {
      try {
        pushChain(module.programs, end);
      } catch (e) {
        throw new CdfsError(
          "USAGE",
          `--push with module '${module.name}': ${(e as Error).message}`,
        );
      }
    }
  }
  const started = performance.now();
  const result = await withProgress(ctx, `encode ${id}`, (onProgress) =>
    encodeObject({
      module,
      nodes: nodes.addresses,
      objectId: id!,
      chunkSize,
      overwrite: args.values.overwrite === true,
      mode,
      onProgress,
    }));
  const seconds = elapsed(started);
  if (args.values.json === true) {
    printJson(ctx, { object: id, module: module.name, mode, ...result, seconds });
  } else {
    ctx.out(
      `encoded ${id} with ${module.name}${mode === "push" ? " (push)" : ""}: ${module.n} ` +
        `coded blocks of ${result.length} bytes, run ${result.runId}${
          rateText(result.length * module.k, seconds)
        }\n`,
    );
  }
  return 0;
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
      onProgress,
      onSurvey: (blocks) => {
        // On stdout the object itself is the output: the lost blocks are worth a line on stderr.
        if (toStdout && blocks.some((b) => !b.present)) {
          ctx.err(`cdfs: decode ${id}: ${lostText(blocks)}\n`);
        }
      },
    }));
  const seconds = elapsed(started);
  if (toStdout) return 0;
  if (args.values.json === true) {
    printJson(ctx, { object: id, module: module.name, file: output, ...result, seconds });
  } else {
    ctx.out(
      `decoded ${id} to ${output}: ${result.length} bytes, sha256 verified, from coded blocks ` +
        `{${result.used.join(", ")}} on node ${result.coordinator}; ${lostText(result.blocks)}` +
        `${rateText(result.length, seconds)}\n`,
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
        ...(manifest === undefined ? {} : { partLength: manifest.partLength }),
        chunkSize,
        overwrite: args.values.overwrite === true,
        onProgress,
      }),
  );
  const seconds = elapsed(started);
  if (args.values.json === true) {
    printJson(ctx, { object: id, module: module.name, ...result, seconds });
  } else {
    ctx.out(
      `repaired ${result.block} on node ${result.node} (${result.address}): ${result.length} ` +
        `bytes from coded blocks {${result.used.join(", ")}}, digest ${result.digest}` +
        `${rateText(result.length, seconds)}\n`,
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

/** Loads a module by name; an unknown name is a usage error listing the known ones. */
async function loadModule(name: string, args: ParsedArgs): Promise<CodingModule> {
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

function chunkSizeOption(args: ParsedArgs): number {
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

/** Runs an operation with a progress bar (on a terminal), removed when it ends. */
async function withProgress<T>(
  ctx: CliContext,
  label: string,
  operation: (onProgress: ProgressCallback) => Promise<T>,
): Promise<T> {
  const progress: Progress = createProgress(ctx, { label });
  try {
    return await operation((done, total) => {
      progress.setTotal(total);
      progress.update(done);
    });
  } finally {
    progress.finish();
  }
}

function lostText(blocks: readonly CodedBlockState[]): string {
  const lost = blocks.filter((b) => !b.present);
  if (lost.length === 0) return "no coded block lost";
  return `lost coded blocks ${
    lost.map((b) => `${b.index} (node ${b.node}: ${b.reason ?? "lost"})`).join(", ")
  }`;
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

function binaryStdout(ctx: CliContext): NonNullable<CliContext["stdout"]> {
  if (ctx.stdout === undefined) {
    throw new CdfsError("INTERNAL", "this context has no binary standard output");
  }
  return ctx.stdout;
}

function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(`${JSON.stringify(value)}\n`);
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}

function rateText(bytes: number, seconds: number): string {
  if (seconds <= 0 || bytes === 0) return "";
  return `, ${seconds.toFixed(2)} s, ${formatBytes(bytes / seconds)}/s`;
}
