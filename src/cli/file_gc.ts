/**
 * `cdfs gc`: garbage collection over the namenode (`src/client/files/gc.ts` does the work and
 * says why it never deletes a block a file needs); this module parses the options and prints
 * counts, bytes and, for a dry run, every copy.
 *
 * @module
 */
import { collectGarbage, type GcResult } from "../client/files/gc.ts";
import { quoteName } from "../client/files/file_target.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatCount } from "../format/count.ts";
import {
  type CliContext,
  type Command,
  type ParsedArgs,
  parseTimeout,
  stringOption,
} from "./command.ts";
import { printJson } from "./json_line.ts";
import { connectNamenode, NAMENODE_OPTIONS } from "./namenode_option.ts";
import { jsonOption } from "./options.ts";

/** The default `--grace`: the namenode's own default orphan grace (`orphanGraceMs`). */
const DEFAULT_GRACE = "1h";
/** The longest `--grace`: a year, far beyond any reason to keep garbage. */
const MAX_GRACE_MS = 366 * 24 * 3_600_000;

/**
 * `cdfs gc`: deletes orphan block copies, after aborting abandoned pending files.
 */
export const gcCommand: Command = {
  name: "gc",
  summary: "Delete block copies no file needs (orphans), after aborting abandoned puts",
  usage: "cdfs gc [--namenode ADDR] [--dry-run] [--grace DURATION] [--foreign] [--json]",
  description: [
    "Aborts every pending file created at least DURATION ago whose blocks are on a live",
    "datanode (a put whose client died: its name is freed, its blocks become orphans), then",
    "asks the namenode for the orphans: block copies datanodes reported that no file places",
    "on them, first reported at least DURATION ago (replicas an archive could not delete, the",
    "blocks of a file removed while a datanode was down, an aborted put's parts). Each is",
    "checked against its file once more right before it is deleted on its datanode, and kept",
    "when the file places it there now or has it on a dead datanode (a repair may be putting",
    "it there). Blocks whose id names no file (stored with 'cdfs block' or 'cdfs object') are",
    "kept unless --foreign. --grace 0 takes puts and repairs under way too: use it only when",
    "no client is writing. Exit status 1 when a copy could not be deleted.",
  ].join("\n"),
  options: {
    ...NAMENODE_OPTIONS,
    "dry-run": {
      type: "boolean",
      description: "only list the files that would be aborted and the copies that would go",
    },
    grace: {
      type: "string",
      value: "DURATION",
      description: "how old an orphan and an abandoned pending file must be: 10m, 2h, 30s, " +
        "0 or plain milliseconds",
      default: DEFAULT_GRACE,
    },
    foreign: {
      type: "boolean",
      description: "also delete orphans whose block id names no file",
    },
    ...jsonOption(),
  },
  arguments: [],
  examples: [
    "cdfs gc --namenode 127.0.0.1:13000 --dry-run",
    "cdfs gc --cluster lab --grace 10m",
    "cdfs gc --grace 0 --json",
  ],
  run: runGc,
};

async function runGc(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const graceText = stringOption(args, "grace") ?? DEFAULT_GRACE;
  const graceMs = parseTimeout(graceText, "--grace", { min: 0, max: MAX_GRACE_MS });
  using namenode = await connectNamenode(ctx, args);
  const result = await collectGarbage({
    namenode,
    graceMs,
    dryRun: args.values["dry-run"] === true,
    foreign: args.values.foreign === true,
  });
  if (args.values.json === true) printJson(ctx, result);
  else ctx.out(gcText(result, graceText));
  for (const f of result.failed) {
    ctx.err(
      `cdfs: gc: ${f.block} on ${f.node} (${f.address ?? "no address"}) not deleted: ` +
        `${f.reason}\n`,
    );
  }
  for (const r of result.raced) {
    ctx.err(
      `cdfs: gc: ${r.block} on ${r.node} was deleted while its file came to place it there ` +
        "(a concurrent archive): an archive of the file keeps its replicas until 'cdfs repair' " +
        "rebuilds the block, once fsck shows it missing\n",
    );
  }
  for (const u of result.unlisted) {
    ctx.err(
      `cdfs: gc: ${u.node} (${u.address}): its blocks could not be listed, so pending files ` +
        `with blocks only there were not looked for: ${u.reason}\n`,
    );
  }
  return result.failed.length === 0 && result.raced.length === 0 ? 0 : 1;
}

/**
 * What `cdfs gc` prints: a summary line with the counts and bytes, then a line per aborted
 * file, per kept copy and, in a dry run, per copy that would go.
 */
function gcText(result: GcResult, grace: string): string {
  const [abort, remove] = result.dryRun ? ["would abort", "would delete"] : ["aborted", "deleted"];
  const datanodes = new Set(result.deleted.map((c) => c.node)).size;
  const expiredCopies = result.expired.reduce((sum, f) => sum + f.copies, 0);
  const expiredBytes = result.expired.reduce((sum, f) => sum + f.bytes, 0);
  const summary = `gc${result.dryRun ? " --dry-run" : ""} (grace ${grace}): ` +
    `${abort} ${formatCount(result.expired.length, "abandoned pending file")}` +
    (result.expired.length === 0
      ? ""
      : ` (${formatCount(expiredCopies, "block copy", "block copies")}, ` +
        `${formatBytes(expiredBytes)}${result.dryRun ? ", orphans once aborted" : ""})`) +
    `, ${remove} ${
      formatCount(result.deleted.length, "orphan block copy", "orphan block copies")
    }` +
    ` (${formatBytes(result.bytes)}) on ${formatCount(datanodes, "datanode")}` +
    (result.kept.length === 0 ? "" : `; ${result.kept.length} kept`) +
    (result.failed.length === 0 ? "" : `; ${result.failed.length} not deleted`);
  const lines = [
    summary,
    ...result.expired.map((f) =>
      `${abort} ${quoteName(f.name)} (f${f.fileId}), pending since ${f.created}: ` +
      `${formatCount(f.copies, "block copy", "block copies")} (${formatBytes(f.bytes)})`
    ),
    ...(result.dryRun
      ? result.deleted.map((c) =>
        `would delete ${c.block} on ${c.node} (${c.address ?? "no address"}): ` +
        `${formatBytes(c.length)}, first seen ${c.firstSeen}`
      )
      : []),
    ...result.kept.map((c) => `kept ${c.block} on ${c.node}: ${c.reason}`),
  ];
  return lines.map((line) => `${line}\n`).join("");
}
