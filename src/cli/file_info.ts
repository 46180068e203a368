/**
 * The file commands that read or drop the namenode's records: `cdfs ls`, `cdfs stat`,
 * `cdfs rm` and `cdfs fsck`. (The blocks of one datanode are `cdfs block ls|stat|rm`.)
 *
 * `fsck`'s exit code tells a script how the files are: 0 every file healthy, 1 some degraded
 * (every block copy readable or not, the file still decodes) and none worse, 2 some lost, of
 * unknown health, or the check itself failed.
 *
 * @module
 */
import { removeFile } from "../client/files/remove.ts";
import { describeError } from "./app.ts";
import type { CliContext, Command, ParsedArgs } from "./command.ts";
import { elapsed } from "./coding_args.ts";
import { printJson } from "./json_line.ts";
import { FILE_NAME_ARGUMENT, fileNameArgument, namePrefixArgument } from "./file_args.ts";
import { connectNamenode, NAMENODE_OPTIONS } from "./namenode_option.ts";
import { jsonOption } from "./options.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatColumns } from "../format/columns.ts";
import { formatCount } from "../format/count.ts";
import type { NameNodeClient } from "../namenode/client.ts";
import type { FileHealth, FileSummary, FileView } from "../namenode/responses.ts";

/**
 * The exit codes of `cdfs fsck`.
 */
export const FSCK_EXIT = { healthy: 0, degraded: 1, lostOrError: 2 } as const;

/**
 * `cdfs ls`: the files, by name.
 */
export const lsFilesCommand: Command = {
  name: "ls",
  summary: "List the files (of the namenode): size, state, code, name",
  usage: "cdfs ls [--namenode ADDR] [--json] [PREFIX]",
  description: [
    "Lists the committed files whose names start with PREFIX (all without it), in byte order",
    "of their names: length, state (replicated, encoded, archived), code and name. A file",
    "being put is not listed until it is committed. The blocks of one datanode are",
    "'cdfs block ls'.",
  ].join("\n"),
  options: { ...NAMENODE_OPTIONS, ...jsonOption('print {"files": [...]}') },
  arguments: [{ name: "PREFIX", optional: true, description: "only names starting with it" }],
  examples: ["cdfs ls --namenode 127.0.0.1:13000", "cdfs ls --cluster lab photos/ --json"],
  run: runLs,
};

/**
 * `cdfs stat`: one file's record, every block with its datanode.
 */
export const statFileCommand: Command = {
  name: "stat",
  summary: "Show a file: length, SHA-256, code, state, every block with its datanode",
  usage: "cdfs stat [--namenode ADDR] [--json] NAME",
  description: [
    "Prints the namenode's record of the file: its id, code, state, length, SHA-256 and",
    "times, then every block copy: its id, role (part j or coded block i), datanode,",
    "address, whether the datanode is alive and whether the copy is committed. A block of",
    "one datanode is 'cdfs block stat'.",
  ].join("\n"),
  options: { ...NAMENODE_OPTIONS, ...jsonOption("print the record as JSON") },
  arguments: [FILE_NAME_ARGUMENT],
  examples: [
    "cdfs stat --namenode 127.0.0.1:13000 big.iso",
    "cdfs stat --cluster lab --json big.iso",
  ],
  run: runStat,
};

/**
 * `cdfs rm`: deletes a file.
 */
export const rmFileCommand: Command = {
  name: "rm",
  summary: "Delete a file: its record, then its blocks on the datanodes",
  usage: "cdfs rm [--namenode ADDR] [--json] NAME",
  description: [
    "Deletes the file's record first (from then on no reader sees it and no block of it is",
    "needed), then each of its block copies from its datanode. A copy whose datanode is down",
    "is left behind as an orphan, which the namenode lists for garbage collection once the",
    "datanode reports it (the other order could leave a record naming deleted blocks). A",
    "block of one datanode is deleted with 'cdfs block rm'.",
  ].join("\n"),
  options: { ...NAMENODE_OPTIONS, ...jsonOption() },
  arguments: [FILE_NAME_ARGUMENT],
  examples: ["cdfs rm --namenode 127.0.0.1:13000 big.iso", "cdfs rm --cluster lab photos/cat.jpg"],
  run: runRm,
};

/**
 * `cdfs fsck`: the health of one file or of all.
 */
export const fsckCommand: Command = {
  name: "fsck",
  summary: "Check files: healthy, degraded (with the unavailable blocks) or lost",
  usage: "cdfs fsck [--namenode ADDR] [--json] [NAME]",
  description: [
    "Asks the namenode for the health of NAME (every file without it): healthy (every block",
    "copy available), degraded (some copies unavailable, listed with why: their datanode is",
    "dead, or its reports say the block is missing; the others still decode the file), lost",
    "(they do not), or unknown (the namenode cannot load the file's code). The namenode",
    "decides, from datanode heartbeats and block reports; 'cdfs repair' rebuilds what is",
    "unavailable. A file whose blocks a repair had to double up on a datanode (no live one",
    "held nothing of it) is noted '(2 blocks share DATANODE)', healthy or not: losing that",
    "datanode loses both, so the file survives fewer losses than its code promises.",
    "",
    "Exit status: 0 every file healthy, 1 some degraded and none lost, 2 some lost or unknown,",
    "or the check failed (the namenode unreachable, no such file).",
  ].join("\n"),
  options: { ...NAMENODE_OPTIONS, ...jsonOption('print {"files": [...], "counts": {...}}') },
  arguments: [{ ...FILE_NAME_ARGUMENT, optional: true }],
  examples: [
    "cdfs fsck --namenode 127.0.0.1:13000",
    "cdfs fsck --cluster lab big.iso || echo 'not healthy'",
  ],
  run: runFsck,
};

async function runLs(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const prefix = namePrefixArgument(args.positionals[0] ?? "");
  using namenode = await connectNamenode(ctx, args);
  const files: FileSummary[] = [];
  for await (const file of namenode.files(prefix)) files.push(file);
  if (args.values.json === true) {
    printJson(ctx, { files });
    return 0;
  }
  const rows = files.map((f) => [formatBytes(f.length ?? 0), f.state, f.code, f.name]);
  ctx.out(formatColumns(rows, ["right", "left", "left", "left"]).map((l) => `${l}\n`).join(""));
  return 0;
}

async function runStat(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const name = fileNameArgument(args.positionals[0]!);
  using namenode = await connectNamenode(ctx, args);
  const file = await namenode.getFile(name);
  if (args.values.json === true) printJson(ctx, file);
  else ctx.out(fileText(file));
  return 0;
}

/**
 * A file's record as `cdfs stat` prints it: its fields, then a table of its block copies.
 *
 * @example
 * ```ts
 * import { fileText } from "./file_info.ts";
 * console.log(fileText({
 *   fileId: 7, objectId: "f7", name: "a.bin", code: "replication", length: 10,
 *   digest: "ab".repeat(32), state: "replicated", created: "2026-01-01T00:00:00.000Z",
 *   committed: "2026-01-01T00:00:01.000Z", version: 2,
 *   blocks: [{ block: "f7.part0", kind: "part", index: 0, node: "dn0", address: "h:1", alive: true, state: "stored" }],
 * }));
 * ```
 *
 * @param file The record.
 * @returns The text, with a newline at the end of each line.
 */
export function fileText(file: FileView): string {
  const fields = formatColumns([
    ["name", file.name],
    ["file", `${file.fileId} (blocks ${file.objectId}.*)`],
    ["code", file.code],
    ["state", file.state],
    ["length", file.length === null ? "-" : `${file.length} (${formatBytes(file.length)})`],
    ["sha256", file.digest ?? "-"],
    ["created", file.created],
    ["committed", file.committed ?? "-"],
    ["blocks", formatCount(file.blocks.length, "copy", "copies")],
  ], 2);
  const blocks = formatColumns(
    file.blocks.map((b) => [
      `  ${b.block}`,
      `${b.kind} ${b.index}`,
      b.node,
      b.address ?? "(no address)",
      b.alive ? "alive" : "dead",
      b.state,
    ]),
    6,
  );
  return [...fields, ...blocks].map((line) => `${line}\n`).join("");
}

async function runRm(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const name = fileNameArgument(args.positionals[0]!);
  using namenode = await connectNamenode(ctx, args);
  const started = performance.now();
  const { file, blocks } = await removeFile(namenode, name);
  if (args.values.json === true) {
    printJson(ctx, { name, fileId: file.fileId, ...blocks, seconds: elapsed(started) });
  } else {
    ctx.out(
      `removed ${name} (${formatBytes(file.length ?? 0)}): ` +
        `${formatCount(blocks.deleted.length, "block copy", "block copies")} deleted` +
        (blocks.left.length === 0 ? "" : `, ${blocks.left.length} left behind as orphans for ` +
          `garbage collection`) +
        "\n",
    );
  }
  for (const left of blocks.left) {
    ctx.err(`cdfs: rm ${name}: ${left.block} on ${left.node} not deleted: ${left.reason}\n`);
  }
  return 0;
}

async function runFsck(ctx: CliContext, args: ParsedArgs): Promise<number> {
  // Every failure is exit 2, not the usual 1, which here means "degraded".
  try {
    const given = args.positionals[0];
    const name = given === undefined ? undefined : fileNameArgument(given);
    using namenode = await connectNamenode(ctx, args);
    const files = await healthOf(namenode, name);
    const counts = { healthy: 0, degraded: 0, lost: 0, unknown: 0 };
    for (const f of files) counts[f.status]++;
    if (args.values.json === true) {
      printJson(ctx, { files, counts });
    } else {
      ctx.out(files.map((f) => `${healthLine(f)}\n`).join(""));
      ctx.out(
        `${formatCount(files.length, "file")}: ${counts.healthy} healthy, ` +
          `${counts.degraded} degraded, ${counts.lost} lost` +
          (counts.unknown === 0 ? "" : `, ${counts.unknown} unknown`) + "\n",
      );
    }
    if (counts.lost > 0 || counts.unknown > 0) return FSCK_EXIT.lostOrError;
    return counts.degraded > 0 ? FSCK_EXIT.degraded : FSCK_EXIT.healthy;
  } catch (error) {
    ctx.err(`cdfs: error: ${describeError(error)}\n`);
    return FSCK_EXIT.lostOrError;
  }
}

/** The health of one file, or of every file page by page. */
async function healthOf(namenode: NameNodeClient, name: string | undefined): Promise<FileHealth[]> {
  if (name !== undefined) return (await namenode.fsck({ name })).files;
  return await Array.fromAsync(namenode.health());
}

/**
 * One file's line of `cdfs fsck`: its status, its name, for a file not healthy how many
 * copies are unavailable, each with its datanode and why, and the datanodes that hold the
 * blocks of several of its logical nodes.
 *
 * @example
 * ```ts
 * import { healthLine } from "./file_info.ts";
 * console.log(healthLine({
 *   fileId: 7, name: "big", code: "rapidraid", state: "archived", status: "degraded",
 *   decodable: true, blocks: 16, unavailable: [{ block: "f7.coded3", node: "dn3", why: "dead" }],
 *   note: null, shared: [],
 * }));
 * // "degraded  big: 1 of 16 block copies unavailable: f7.coded3 on dn3 (dead)"
 * console.log(healthLine({
 *   fileId: 7, name: "big", code: "rapidraid", state: "archived", status: "healthy",
 *   decodable: true, blocks: 16, unavailable: [], note: null,
 *   shared: [{ node: "dn15", blocks: ["f7.coded3", "f7.coded15"] }],
 * }));
 * // "healthy   big (2 blocks share dn15)"
 * ```
 *
 * @param health The file's health.
 * @returns The line, without its newline.
 */
export function healthLine(health: FileHealth): string {
  const status = health.status.padEnd(8);
  // The operator must see it on a healthy line too: the file survives fewer losses.
  const shared = health.shared.length === 0
    ? ""
    : ` (${health.shared.map((s) => `${s.blocks.length} blocks share ${s.node}`).join(", ")})`;
  if (health.unavailable.length === 0) return `${status}  ${health.name}${shared}`;
  const copies = health.unavailable.map((u) => `${u.block} on ${u.node} (${u.why})`).join(", ");
  return `${status}  ${health.name}: ${health.unavailable.length} of ` +
    `${formatCount(health.blocks, "block copy", "block copies")} unavailable: ${copies}` +
    (health.note === null ? "" : ` (${health.note})`) + shared;
}
