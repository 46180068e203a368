/**
 * Option definitions shared by several commands, declared once: the JSON switch, the output
 * file, the chunk size, the coding module directories, the cluster to work on and the state
 * directory. A command spreads them into its option table; those whose wording depends on the
 * command take that wording as a parameter. The node selections live next to their parsers
 * (`NODE_LIST_OPTIONS` in `node_list.ts`, the single node in `blocks.ts`).
 *
 * @module
 */
import type { OptionDef } from "./command.ts";

/**
 * `--json`, with what the JSON is.
 *
 * @example
 * ```ts
 * import { jsonOption } from "./options.ts";
 * const options = { ...jsonOption("print as JSON") };
 * console.log(options.json.type); // "boolean"
 * ```
 *
 * @param description What is printed as JSON (default: the summary).
 * @returns The option table entry.
 */
export function jsonOption(description = "print the summary as JSON"): { json: OptionDef } {
  return { json: { type: "boolean", description } };
}

/**
 * `-o FILE` and `--json` of the commands that read an object or a file out (to FILE, else to
 * standard output, where the data leaves no room for a JSON summary).
 */
export const OUTPUT_OPTIONS: { output: OptionDef; json: OptionDef } = {
  output: {
    type: "string",
    short: "o",
    value: "FILE",
    description: "write to FILE instead of standard output",
  },
  ...jsonOption("print the summary as JSON (needs -o)"),
};

/**
 * `--chunk-size N`, with what the chunk is for and its default.
 *
 * @example
 * ```ts
 * import { chunkSizeOptionDef } from "./options.ts";
 * console.log(chunkSizeOptionDef("bytes per chunk", "1M")["chunk-size"].default); // "1M"
 * ```
 *
 * @param description What the size is.
 * @param defaultSize The size when the option is absent, as help shows it.
 * @returns The option table entry.
 */
export function chunkSizeOptionDef(
  description: string,
  defaultSize: string,
): { "chunk-size": OptionDef } {
  return { "chunk-size": { type: "string", value: "N", description, default: defaultSize } };
}

/**
 * `--coding-dir DIR` of the client commands: where users' coding modules are looked for,
 * before the built-in ones.
 */
export const CODING_DIR_OPTION: { "coding-dir": OptionDef } = {
  "coding-dir": {
    type: "string",
    multiple: true,
    value: "DIR",
    description:
      "also look for coding modules in DIR, before the built-in ones; the datanodes must " +
      "serve the same module",
  },
};

/**
 * `--cluster FILE|NAME`: a cluster that `cdfs cluster up` started, by its file or its name.
 *
 * @example
 * ```ts
 * import { clusterOption } from "./options.ts";
 * console.log(clusterOption("the cluster").cluster.env); // "CDFS_CLUSTER"
 * console.log(clusterOption("measure on it", { env: false }).cluster.env); // undefined
 * ```
 *
 * @param description What the cluster is for, in this command.
 * @param options Whether `$CDFS_CLUSTER` stands in for it (default true).
 * @returns The option table entry.
 */
export function clusterOption(
  description: string,
  options: { env?: boolean } = {},
): { cluster: OptionDef } {
  return {
    cluster: {
      type: "string",
      value: "FILE|NAME",
      description,
      ...(options.env === false ? {} : { env: "CDFS_CLUSTER" }),
    },
  };
}

/**
 * `--state-dir DIR`: where cluster files live.
 */
export const STATE_DIR_OPTION: { "state-dir": OptionDef } = {
  "state-dir": {
    type: "string",
    value: "DIR",
    description: "where cluster files live",
    env: "CDFS_STATE_DIR",
    default: "$XDG_RUNTIME_DIR/cdfs, else /tmp/cdfs-<uid>",
  },
};
