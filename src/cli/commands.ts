/**
 * The list of every cdfs sub-command, in the order `cdfs --help` shows them, and the summaries
 * of the command groups (`cdfs cluster --help`).
 *
 * Naming: top-level words are the files of the namenode (`put`, `get`, `ls`, `stat`, `rm`,
 * `archive`, `fsck`, `repair`); the tools that address datanodes directly are grouped by what
 * they address, `block` (one block of one datanode) and `object` (an object over a node
 * list). Their old top-level words still run them, with a note (`aliases.ts`), except those
 * that now name a file command.
 *
 * @module
 */
import { aliasesIn } from "./aliases.ts";
import { BENCH_COMMANDS } from "./bench.ts";
import { BLOCK_COMMANDS } from "./blocks.ts";
import { CERT_COMMANDS } from "./cert.ts";
import { CLUSTER_COMMANDS } from "./cluster.ts";
import { CODING_COMMANDS } from "./coding.ts";
import type { Command, CommandGroup } from "./command.ts";
import { completionsCommand } from "./completions.ts";
import { datanodeServeCommand } from "./datanode.ts";
import { demoCommand } from "./demo.ts";
import { FILE_COMMANDS } from "./files.ts";
import { NAMENODE_COMMANDS } from "./namenode.ts";
import { scrubCommand } from "./scrub.ts";
import { statusCommand } from "./status.ts";

/**
 * What each group of commands is about, for its help and the shell completions.
 *
 * @example
 * ```ts
 * import { GROUPS } from "./commands.ts";
 * console.log(GROUPS.map((g) => g.name));
 * // [ "block", "object", "code", "datanode", "namenode", "cluster", "bench", "cert" ]
 * ```
 */
export const GROUPS: readonly CommandGroup[] = [
  {
    name: "block",
    summary: "The blocks of one datanode, by block id (no namenode): store, retrieve, stat, " +
      "list, delete; ping, traffic",
  },
  {
    name: "object",
    summary: "A coded object over a node list (--nodes; no namenode): put its parts, encode, " +
      "decode, repair a coded block",
  },
  { name: "code", summary: "The coding modules: list them, inspect one's code" },
  { name: "datanode", summary: "Run a datanode" },
  { name: "namenode", summary: "Run a namenode: file metadata, datanode liveness, placement" },
  {
    name: "cluster",
    summary: "Local clusters of datanodes on this machine: start, stop, status, traffic",
  },
  { name: "bench", summary: "Experiments on a cluster, with tables and charts" },
  { name: "cert", summary: "TLS certificates: a throwaway CA and node certificate (dev)" },
];

/**
 * Every sub-command.
 *
 * @example
 * ```ts
 * import { COMMANDS } from "./commands.ts";
 * console.log(COMMANDS.map((c) => c.name));
 * ```
 */
export const COMMANDS: readonly Command[] = [
  ...FILE_COMMANDS,
  statusCommand,
  ...BLOCK_COMMANDS,
  ...CODING_COMMANDS,
  datanodeServeCommand,
  scrubCommand,
  ...NAMENODE_COMMANDS,
  ...CLUSTER_COMMANDS,
  demoCommand,
  ...BENCH_COMMANDS,
  ...CERT_COMMANDS,
  // Completes every command, itself included: the list is read when it runs.
  completionsCommand(() => ({ commands: COMMANDS, groups: GROUPS })),
  // The old spellings, hidden; `ls`, `stat`, `rm` and `repair` are file commands now.
  ...aliasesIn(BLOCK_COMMANDS, "block", ["store", "retrieve", "ping", "stats"]),
  ...aliasesIn(CODING_COMMANDS, "object", ["put-parts", "encode", "decode"]),
];
