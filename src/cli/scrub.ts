/**
 * `cdfs scrub`: one scrub pass now on one datanode (SCRUB, docs/protocol.md), printing what it
 * found: blocks and bytes verified, the damaged blocks it quarantined, and the time it took.
 *
 * @module
 */
import { DataNodeClient } from "../client/datanode_client.ts";
import { scrubNode } from "../client/scrub.ts";
import { CdfsError } from "../core/errors.ts";
import { formatBytes } from "../format/bytes.ts";
import { formatCount } from "../format/count.ts";
import type { ScrubSummary } from "../protocol/scrub_messages.ts";
import { NODE_OPTIONS, nodeArgument } from "./block_args.ts";
import {
  type CliContext,
  type Command,
  type ParsedArgs,
  positionals,
  stringOption,
} from "./command.ts";
import { printJson } from "./json_line.ts";
import { jsonOption } from "./options.ts";
import { createProgress } from "./progress.ts";
import { parseRate } from "./rate_option.ts";

/**
 * The `scrub` command.
 */
export const scrubCommand: Command = {
  name: "scrub",
  summary: "Verify every block of a datanode now; quarantine the damaged ones",
  usage: "cdfs scrub --node HOST:PORT [--rate BYTES/s] [--json]",
  description: [
    "Asks the node for one scrub pass now: every chunk of every block is read and checked",
    "against its stored checksum. A damaged block is quarantined (moved to the quarantine",
    "folder of the node's data directory: no longer listed or served, reported removed to the",
    "namenode, which sees it missing). Prints the blocks and bytes verified, the blocks",
    "quarantined and the time taken. The pass replaces a background pass under way; while",
    "another requested pass runs, the node answers BUSY.",
  ].join("\n"),
  options: {
    ...NODE_OPTIONS,
    rate: {
      type: "string",
      value: "BYTES/s",
      description: "read at most this fast, e.g. 64MiB/s",
      default: "the node's --scrub-rate, or unlimited when that is 0",
    },
    ...jsonOption('print {"node", "pass", "blocks", "bytes", "corrupt", "quarantined", "ms"}'),
  },
  arguments: [],
  examples: [
    "cdfs scrub --node 127.0.0.1:13100",
    "cdfs scrub --cluster lab --node 3 --rate 64MiB/s --json",
  ],
  run: runScrub,
};

async function runScrub(ctx: CliContext, args: ParsedArgs): Promise<number> {
  positionals(args, 0, 0, "");
  const rateText = stringOption(args, "rate");
  const rate = rateText === undefined ? undefined : parseRate(rateText, "--rate");
  if (rate === 0) throw new CdfsError("USAGE", "--rate must be above 0");
  using client = await DataNodeClient.connect(nodeArgument(ctx, args));
  const progress = createProgress(ctx, { label: `scrub ${client.address}` });
  let summary: ScrubSummary;
  try {
    summary = await scrubNode(client, {
      ...(rate === undefined ? {} : { rate }),
      onProgress: (bytes) => progress.update(bytes),
    });
  } finally {
    progress.finish();
  }
  if (args.values.json === true) {
    printJson(ctx, { node: client.address, ...summary });
    return 0;
  }
  const lines = [
    `${client.address}: pass ${summary.pass}: ${formatCount(summary.blocks, "block")}, ` +
    `${formatBytes(summary.bytes)} verified in ${(summary.ms / 1000).toFixed(1)} s, ` +
    `${formatCount(summary.corrupt, "corrupt block")} quarantined`,
    ...summary.quarantined.map((block) => `  quarantined ${block}`),
  ];
  if (summary.corrupt > summary.quarantined.length) {
    lines.push(`  and ${summary.corrupt - summary.quarantined.length} more (see the node's log)`);
  }
  ctx.out(lines.map((line) => `${line}\n`).join(""));
  return 0;
}
