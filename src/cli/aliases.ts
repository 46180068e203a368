/**
 * The old spellings of commands that moved into a group. Top-level words are the files of the
 * namenode (`cdfs put`, `get`, `ls`, `stat`, `rm`, `archive`, `fsck`, `repair`); the tools that
 * address datanodes directly, without a namenode, are grouped by what they address: `cdfs
 * block ...` (one block on one datanode) and `cdfs object ...` (an object id over a node
 * list). A moved command's old top-level word keeps working, hidden from the help and the
 * completions, and says on stderr what it is called now; a word that now names a file command
 * (`ls`, `stat`, `rm`, `repair`) is that command.
 *
 * @module
 */
import type { Command } from "./command.ts";

/**
 * A hidden command that runs `target` under its old name `oldName`, after a one-line note on
 * stderr naming the new spelling. Its help, usage and examples are the target's, spelled the
 * old way, so that each example runs the command it documents.
 *
 * @example
 * ```ts
 * import { aliasOf } from "./aliases.ts";
 * const target = {
 *   name: "block ping",
 *   summary: "Check a datanode",
 *   usage: "cdfs block ping --node HOST:PORT",
 *   options: {},
 *   arguments: [],
 *   examples: ["cdfs block ping --node 127.0.0.1:13100"],
 *   run: () => Promise.resolve(0),
 * };
 * const alias = aliasOf(target, "ping");
 * console.log(alias.name, alias.hidden, alias.examples); // "ping" true [ "cdfs ping --node 127.0.0.1:13100" ]
 * ```
 *
 * @param target The command under its new name.
 * @param oldName Its old name.
 * @returns The alias.
 */
export function aliasOf(target: Command, oldName: string): Command {
  const respell = (text: string) => text.replaceAll(`cdfs ${target.name}`, `cdfs ${oldName}`);
  return {
    ...target,
    name: oldName,
    summary: `${target.summary} (now 'cdfs ${target.name}')`,
    usage: respell(target.usage),
    description: `The old name of 'cdfs ${target.name}', which it runs.` +
      (target.description === undefined ? "" : `\n\n${target.description}`),
    examples: (target.examples ?? []).map(respell),
    hidden: true,
    run(ctx, args) {
      ctx.err(`cdfs: note: 'cdfs ${oldName}' is now 'cdfs ${target.name}'\n`);
      return target.run(ctx, args);
    },
  };
}

/**
 * The aliases of the commands among `commands` whose old name is one of `oldNames` (the
 * command `<group> <oldName>`).
 *
 * @example
 * ```ts
 * import { aliasesIn } from "./aliases.ts";
 * import { BLOCK_COMMANDS } from "./blocks.ts";
 * const aliases = aliasesIn(BLOCK_COMMANDS, "block", ["store", "retrieve"]);
 * console.log(aliases.map((alias) => alias.name)); // [ "store", "retrieve" ]
 * ```
 *
 * @param commands The commands of a group.
 * @param group The group's word.
 * @param oldNames The old top-level names that still run them.
 * @returns One alias per old name.
 * @throws {Error} When a name has no command in the group (a programming error).
 */
export function aliasesIn(
  commands: readonly Command[],
  group: string,
  oldNames: readonly string[],
): Command[] {
  return oldNames.map((old) => {
    const target = commands.find((c) => c.name === `${group} ${old}`);
    if (target === undefined) throw new Error(`no command '${group} ${old}' to alias as '${old}'`);
    return aliasOf(target, old);
  });
}
