/**
 * The coding commands: `cdfs object put-parts`, `object encode`, `object decode`,
 * `object repair` work on a coded object spread over an ordered node list (`--nodes`, logical
 * node i = the i-th address), without a namenode, through the object operations of
 * `src/client/objects/`; `cdfs code list` and `cdfs code inspect` describe the coding
 * modules (`code_commands.ts`). The files by name (`cdfs put`, `get`, `archive`,
 * `repair`, ...) are in `files.ts`.
 *
 * @module
 */
import { decodeObject } from "../client/objects/decode.ts";
import { encodeObject } from "../client/objects/encode.ts";
import { putParts } from "../client/objects/put_parts.ts";
import { repairBlock } from "../client/objects/repair.ts";
import { readManifest } from "../client/objects/state.ts";
import type { ObjectManifest } from "../client/objects/manifest.ts";
import type { CodingModule } from "../coding/lang/program.ts";
import { pushChain } from "../coding/runtime/push_chain.ts";
import { CdfsError } from "../core/errors.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatCount } from "../format/count.ts";
import { codeInspectCommand, codeListCommand } from "./code_commands.ts";
import { codeTuneCommand } from "./code_tune.ts";
import {
  binaryStdout,
  chunkSizeOption,
  elapsed,
  loadModule,
  objectIdArgument,
  timeoutArgument,
  withProgress,
} from "./coding_args.ts";
import { codedBlocks, corruptBlockLine, formatLostBlocks } from "./coding_summaries.ts";
import {
  type ArgumentDef,
  type CliContext,
  type Command,
  type OptionSpec,
  type ParsedArgs,
  parseSize,
  positionals,
  stringOption,
} from "./command.ts";
import { printJson } from "./json_line.ts";
import { checkNodeCount, NODE_LIST_OPTIONS, nodeListArgument } from "./node_list.ts";
import { chunkSizeOptionDef, CODING_DIR_OPTION, jsonOption, OUTPUT_OPTIONS } from "./options.ts";
import { formatSummaryRate } from "./progress.ts";

/** `--code NAME` of put-parts, which picks the module that cuts the file. */
const CODE_OPTION: OptionSpec = {
  code: {
    type: "string",
    value: "NAME",
    description: "the coding module (see 'cdfs code list'), or a family spec: rs:k=6,m=3, " +
      "lrc:k=10,l=2,r=2, rapidraid:n=12,k=8 (k < n <= 2k, n <= 32), replication:n=3",
  },
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
    "cdfs object put-parts --code rs:k=6,m=3 --cluster lab movie.mkv movie",
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
  codeTuneCommand,
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
    // Bounded by --timeout like every other connection of the command: a node that stopped
    // answering must not hold the command for the default 60 s idle timeout.
    manifest = (await readManifest(nodes.addresses, objectId, timeoutArgument(args).client))
      .manifest;
    module = await loadModule(manifest.module, args);
    checkNodeCount(module, nodes);
  }
  return { module, nodes, ...(manifest === undefined ? {} : { manifest }) };
}
