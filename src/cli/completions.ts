/**
 * `cdfs completions bash|zsh|fish`: shell completion scripts generated from the command
 * declarations, the same tables the parser and the help read: the commands and groups, every
 * command's options (with their short forms and descriptions) and what to offer for a value or
 * an argument (files for FILE, directories for DIR, a fixed list of words, or nothing).
 *
 * The scripts are static: completing never starts cdfs (a Deno process takes a noticeable
 * moment to start), so they must be generated again after an upgrade.
 *
 * @module
 */
import { VERSION } from "../core/version.ts";
import { CdfsError } from "../core/errors.ts";
import type {
  ArgumentDef,
  Command,
  CommandGroup,
  OptionDef,
  OptionSpec,
  ValueHint,
} from "./command.ts";
import { HELP_OPTION } from "./command.ts";
import { groupCommands, groupNames } from "./help.ts";

/**
 * The shells there are completion scripts for.
 */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/**
 * What completion offers for an option's value or an argument: its declared hint, else files
 * for a placeholder that names a FILE, directories for a DIR, else nothing.
 *
 * @example
 * ```ts
 * import { valueHint } from "./completions.ts";
 * console.log(valueHint("FILE|-"), valueHint("DIR"), valueHint("HOST:PORT")); // file dir none
 * console.log(valueHint("SHELL", ["bash", "zsh"])); // [ "bash", "zsh" ]
 * ```
 *
 * @param placeholder The value's or argument's placeholder (`FILE`, `HOST:PORT`).
 * @param declared The hint the declaration gives, if any.
 * @returns The hint.
 */
export function valueHint(placeholder: string | undefined, declared?: ValueHint): ValueHint {
  if (declared !== undefined) return declared;
  if (placeholder === undefined) return "none";
  if (/\bFILE\b/.test(placeholder)) return "file";
  if (/\bDIR\b/.test(placeholder)) return "dir";
  return "none";
}

/**
 * The completion script of a shell for the listed (not hidden) commands.
 *
 * @example
 * ```ts
 * import { completionScript } from "./completions.ts";
 * import { COMMANDS, GROUPS } from "./commands.ts";
 * console.log(completionScript("bash", COMMANDS, GROUPS).includes("complete -F _cdfs cdfs")); // true
 * ```
 *
 * @param shell `bash`, `zsh` or `fish`.
 * @param commands The known commands.
 * @param groups The groups' summaries.
 * @returns The script.
 * @throws {CdfsError} USAGE for another shell.
 */
export function completionScript(
  shell: string,
  commands: readonly Command[],
  groups: readonly CommandGroup[],
): string {
  const model = completionModel(commands, groups);
  switch (shell) {
    case "bash":
      return bashScript(model);
    case "zsh":
      return zshScript(model);
    case "fish":
      return fishScript(model);
  }
  throw new CdfsError(
    "USAGE",
    `no completions for shell '${shell}': expected ${SHELLS.join(", ")}`,
  );
}

/**
 * `cdfs completions`, over the command list that `list` returns when it runs (the list
 * includes this command itself, hence the function).
 *
 * @example
 * ```ts
 * import { completionsCommand } from "./completions.ts";
 * const command = completionsCommand(() => ({ commands: [], groups: [] }));
 * console.log(command.name); // "completions"
 * ```
 *
 * @param list The commands and groups to complete.
 * @returns The command.
 */
export function completionsCommand(
  list: () => { commands: readonly Command[]; groups: readonly CommandGroup[] },
): Command {
  return {
    name: "completions",
    summary: "Print a shell completion script for cdfs (bash, zsh or fish)",
    usage: "cdfs completions bash|zsh|fish",
    description: [
      "Prints a script that completes cdfs's commands, options and their values in the shell.",
      "bash: save it as ~/.local/share/bash-completion/completions/cdfs (or source it from",
      "~/.bashrc); zsh: save it as _cdfs in a directory of $fpath, before compinit runs (or",
      "source it after compinit); fish: save it as ~/.config/fish/completions/cdfs.fish.",
      "Generate it again after upgrading cdfs: it does not run cdfs to complete.",
    ].join("\n"),
    options: {},
    arguments: [{ name: "SHELL", description: "bash, zsh or fish", complete: SHELLS }],
    examples: [
      "cdfs completions bash > ~/.local/share/bash-completion/completions/cdfs",
      "cdfs completions zsh > ~/.zfunc/_cdfs",
      "cdfs completions fish > ~/.config/fish/completions/cdfs.fish",
    ],
    run(ctx, args) {
      const { commands, groups } = list();
      ctx.out(completionScript(args.positionals[0]!, commands, groups));
      return Promise.resolve(0);
    },
  };
}

/** One option as the scripts need it. */
interface OptionModel {
  readonly long: string;
  readonly short?: string;
  readonly takesValue: boolean;
  readonly multiple: boolean;
  readonly placeholder: string;
  readonly hint: ValueHint;
  readonly description: string;
}

/** One command as the scripts need it. */
interface CommandModel {
  readonly name: string;
  readonly summary: string;
  readonly options: readonly OptionModel[];
  readonly arguments: readonly ArgumentDef[];
}

/** What every script completes: the first words, each group's words, every command. */
interface CompletionModel {
  /** Single-word commands, groups and `help`, with a summary each. */
  readonly top: readonly [string, string][];
  /** Each group's second words, with their summaries. */
  readonly groups: readonly { name: string; words: readonly [string, string][] }[];
  readonly commands: readonly CommandModel[];
}

function completionModel(
  commands: readonly Command[],
  groups: readonly CommandGroup[],
): CompletionModel {
  const listed = commands.filter((c) => c.hidden !== true);
  const groupList = groupNames(commands);
  const top: [string, string][] = [];
  for (const command of listed) {
    const word = command.name.split(" ")[0]!;
    if (top.some(([w]) => w === word)) continue;
    const summary = groupList.includes(word)
      ? groups.find((g) => g.name === word)?.summary ?? `the ${word} commands`
      : command.summary;
    top.push([word, summary]);
  }
  top.push(["help", "Show the help of a command or group"]);
  return {
    top,
    groups: groupList.map((name) => ({
      name,
      words: groupCommands(commands, name).map((c): [string, string] => [
        c.name.slice(name.length + 1),
        c.summary,
      ]),
    })),
    commands: listed.map((c) => ({
      name: c.name,
      summary: c.summary,
      options: optionModels(c.options),
      arguments: c.arguments ?? [],
    })),
  };
}

function optionModels(options: OptionSpec): OptionModel[] {
  return Object.entries({ ...options, help: HELP_OPTION }).map((
    [long, def]: [string, OptionDef],
  ) => ({
    long,
    ...(def.short === undefined ? {} : { short: def.short }),
    takesValue: def.type === "string",
    multiple: def.multiple === true,
    placeholder: def.value ?? "VALUE",
    hint: def.type === "string" ? valueHint(def.value, def.complete) : "none",
    description: shortDescription(def.description ?? ""),
  }));
}

/** The first clause of a description: completion menus have one line per option. */
function shortDescription(text: string): string {
  const clause = text.split(/; | \(/)[0]!.trim();
  return clause.length <= 70 ? clause : `${clause.slice(0, 67).trimEnd()}...`;
}

function flags(option: OptionModel): string[] {
  return [`--${option.long}`, ...(option.short === undefined ? [] : [`-${option.short}`])];
}

/** A bash or zsh word in single quotes. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A shell function name for a command: `_cdfs__cluster_stop_node`. */
function functionName(command: string): string {
  return `_cdfs__${command.replace(/[^A-Za-z0-9]/g, "_")}`;
}

function header(shell: string): string {
  return `# ${shell} completion for cdfs ${VERSION}, generated by 'cdfs completions ${shell}'.\n` +
    `# Generate it again after upgrading cdfs.\n`;
}

function bashScript(model: CompletionModel): string {
  const hintWord = (hint: ValueHint): string =>
    typeof hint === "string" ? hint : `words:${hint.join(" ")}`;
  const lines: string[] = [
    header("bash").trimEnd(),
    "",
    "# Offers what a hint names: files, directories, nothing, or the words after 'words:'.",
    "_cdfs_hint() {",
    "  case $1 in",
    '    file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;',
    '    dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;',
    '    words:*) COMPREPLY=($(compgen -W "${1#words:}" -- "$cur")) ;;',
    "    *) COMPREPLY=() ;;",
    "  esac",
    "}",
    "",
    "# Counts the arguments before the cursor from word $1, skipping the values of the",
    "# options listed in $2.",
    "_cdfs_count_args() {",
    "  local j=$1 n=0 w",
    "  while (( j < COMP_CWORD )); do",
    "    w=${COMP_WORDS[j]}",
    '    if [[ $w == "=" ]]; then',
    "      (( j++ ))",
    "    elif [[ $w == -* ]]; then",
    '      if [[ " $2 " == *" $w "* && ${COMP_WORDS[j+1]-} != "=" ]]; then (( j++ )); fi',
    "    else",
    "      (( n++ ))",
    "    fi",
    "    (( j++ ))",
    "  done",
    '  echo "$n"',
    "}",
    "",
  ];
  for (const command of model.commands) {
    const valued = command.options.filter((o) => o.takesValue);
    const allFlags = command.options.flatMap(flags);
    lines.push(`${functionName(command.name)}() {`);
    if (valued.length > 0) {
      lines.push("  case $prev in");
      for (const option of valued) {
        lines.push(
          `    ${flags(option).join("|")}) _cdfs_hint ${quote(hintWord(option.hint))}; return ;;`,
        );
      }
      lines.push("  esac");
    }
    lines.push(
      "  if [[ $cur == -* ]]; then",
      `    COMPREPLY=($(compgen -W ${quote(allFlags.join(" "))} -- "$cur"))`,
      "    return",
      "  fi",
    );
    const args = command.arguments;
    if (args.length > 0) {
      lines.push(
        `  local n; n=$(_cdfs_count_args "$1" ${quote(valued.flatMap(flags).join(" "))})`,
        `  local hints=(${
          args.map((a) => quote(hintWord(valueHint(a.name, a.complete)))).join(" ")
        })`,
        args.at(-1)!.variadic
          ? `  (( n >= \${#hints[@]} )) && n=$(( \${#hints[@]} - 1 ))`
          : `  (( n >= \${#hints[@]} )) && return`,
        '  _cdfs_hint "${hints[n]}"',
      );
    }
    lines.push("}", "");
  }
  const topWords = [...model.top.map(([w]) => w), "--help", "--version"].join(" ");
  lines.push(
    "_cdfs() {",
    "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
    "  COMPREPLY=()",
    "  # --opt=value arrives as three words: --opt, =, value.",
    '  if [[ $cur == "=" ]]; then cur=""; elif [[ $prev == "=" ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi',
    "  if (( COMP_CWORD == 1 )); then",
    `    COMPREPLY=($(compgen -W ${quote(topWords)} -- "$cur"))`,
    "    return",
    "  fi",
    "  local cmd=${COMP_WORDS[1]} first=2",
    "  case $cmd in",
  );
  for (const group of model.groups) {
    lines.push(
      `    ${group.name})`,
      "      if (( COMP_CWORD == 2 )); then",
      `        COMPREPLY=($(compgen -W ${quote(group.words.map(([w]) => w).join(" "))} -- "$cur"))`,
      "        return",
      "      fi",
      '      cmd="$cmd ${COMP_WORDS[2]}"; first=3 ;;',
    );
  }
  lines.push(
    "    help)",
    `      (( COMP_CWORD == 2 )) && COMPREPLY=($(compgen -W ${
      quote(model.top.map(([w]) => w).join(" "))
    } -- "$cur"))`,
    "      return ;;",
    "  esac",
    "  case $cmd in",
  );
  for (const command of model.commands) {
    lines.push(`    ${quote(command.name)}) ${functionName(command.name)} "$first" ;;`);
  }
  lines.push("  esac", "}", "", "complete -F _cdfs cdfs", "");
  return lines.join("\n");
}

function zshScript(model: CompletionModel): string {
  // In an _arguments spec the description ends at the first ']' and the message at ':'.
  const description = (text: string) => text.replaceAll("[", "(").replaceAll("]", ")");
  const message = (text: string) => text.replaceAll(":", "\\:");
  const action = (hint: ValueHint): string =>
    typeof hint !== "string"
      ? `(${hint.join(" ")})`
      : hint === "file"
      ? "_files"
      : hint === "dir"
      ? "_files -/"
      : " ";
  const describe = (items: readonly [string, string][]) =>
    items.map(([word, summary]) => `      ${quote(`${word.replaceAll(":", "\\:")}:${summary}`)}`);
  const lines: string[] = [
    "#compdef cdfs",
    header("zsh").trimEnd(),
    "",
  ];
  for (const command of model.commands) {
    const specs: string[] = [];
    for (const option of command.options) {
      const names = flags(option);
      const exclusive = option.multiple ? "*" : names.length > 1 ? `(${names.join(" ")})` : "";
      const value = option.takesValue
        ? `:${message(option.placeholder)}:${action(option.hint)}`
        : "";
      const body = `[${description(option.description)}]${value}`;
      specs.push(
        names.length > 1
          ? `${quote(exclusive)}{${names.join(",")}}${quote(body)}`
          : quote(`${exclusive}${names[0]}${body}`),
      );
    }
    command.arguments.forEach((arg, i) => {
      const position = arg.variadic ? "*" : String(i + 1);
      const colon = arg.optional && !arg.variadic ? "::" : ":";
      specs.push(
        quote(
          `${position}${colon}${message(arg.name)}:${action(valueHint(arg.name, arg.complete))}`,
        ),
      );
    });
    lines.push(
      `${functionName(command.name)}() {`,
      "  _arguments -s -S \\",
      ...specs.map((spec, i) => `    ${spec}${i < specs.length - 1 ? " \\" : ""}`),
      "}",
      "",
    );
  }
  lines.push(
    "_cdfs() {",
    "  local -a top",
    "  top=(",
    ...describe(model.top),
    "  )",
    "  if (( CURRENT == 2 )); then",
    "    _describe -t commands 'cdfs command' top",
    "    return",
    "  fi",
    "  local cmd=$words[2] skip=1",
    "  local -a sub",
    "  case $cmd in",
  );
  for (const group of model.groups) {
    lines.push(
      `    ${group.name})`,
      "      if (( CURRENT == 3 )); then",
      "        sub=(",
      ...describe(group.words).map((l) => `    ${l}`),
      "        )",
      `        _describe -t commands ${quote(`cdfs ${group.name} command`)} sub`,
      "        return",
      "      fi",
      '      cmd="$cmd $words[3]"; skip=2 ;;',
    );
  }
  lines.push(
    "    help)",
    "      (( CURRENT == 3 )) && _describe -t commands 'cdfs command' top",
    "      return ;;",
    "  esac",
    "  # The command's own words, as if it were a program of its own.",
    '  words=("${(@)words[skip+1,-1]}")',
    "  (( CURRENT -= skip ))",
    "  case $cmd in",
  );
  for (const command of model.commands) {
    lines.push(`    ${quote(command.name)}) ${functionName(command.name)} ;;`);
  }
  lines.push(
    "  esac",
    "}",
    "",
    "# Autoloaded from $fpath, or sourced after compinit.",
    "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
    '  _cdfs "$@"',
    "else",
    "  compdef _cdfs cdfs",
    "fi",
    "",
  );
  return lines.join("\n");
}

function fishScript(model: CompletionModel): string {
  const fishQuote = (text: string) => `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  const lines: string[] = [
    header("fish").trimEnd(),
    "",
    "# The command on the line so far: its first word, and the second after a group word.",
    "function __cdfs_command",
    "    set -l words (commandline -opc)",
    "    set -e words[1]",
    `    set -l groups ${model.groups.map((g) => g.name).join(" ")}`,
    "    if test (count $words) -ge 2; and contains -- $words[1] $groups",
    '        echo "$words[1] $words[2]"',
    "    else if test (count $words) -ge 1",
    "        echo $words[1]",
    "    end",
    "end",
    "",
    "function __cdfs_is",
    "    set -l command (__cdfs_command)",
    '    test "$command" = "$argv[1]"',
    "end",
    "",
    "complete -c cdfs -f",
    `complete -c cdfs -n '__cdfs_is ""' -l help -s h -d 'show the help'`,
    `complete -c cdfs -n '__cdfs_is ""' -l version -d 'print the version'`,
  ];
  for (const [word, summary] of model.top) {
    lines.push(`complete -c cdfs -n '__cdfs_is ""' -a ${fishQuote(word)} -d ${fishQuote(summary)}`);
  }
  for (const [word] of model.top) {
    lines.push(`complete -c cdfs -n '__cdfs_is help' -a ${fishQuote(word)}`);
  }
  for (const group of model.groups) {
    for (const [word, summary] of group.words) {
      lines.push(
        `complete -c cdfs -n ${fishQuote(`__cdfs_is ${group.name}`)} -a ${fishQuote(word)} -d ${
          fishQuote(summary)
        }`,
      );
    }
  }
  for (const command of model.commands) {
    const condition = `-n ${fishQuote(`__cdfs_is ${fishQuote(command.name)}`)}`;
    lines.push("", `# ${command.name}`);
    for (const option of command.options) {
      const parts = [`complete -c cdfs ${condition} -l ${option.long}`];
      if (option.short !== undefined) parts.push(`-s ${option.short}`);
      if (option.takesValue) {
        const hint = option.hint;
        if (typeof hint !== "string") parts.push(`-x -a ${fishQuote(hint.join(" "))}`);
        else if (hint === "file") parts.push("-r -F");
        else if (hint === "dir") parts.push("-x -a '(__fish_complete_directories)'");
        else parts.push("-x");
      }
      parts.push(`-d ${fishQuote(option.description)}`);
      lines.push(parts.join(" "));
    }
    for (const arg of command.arguments) {
      const hint = valueHint(arg.name, arg.complete);
      if (typeof hint !== "string") {
        lines.push(`complete -c cdfs ${condition} -a ${fishQuote(hint.join(" "))}`);
      } else if (hint === "file") lines.push(`complete -c cdfs ${condition} -F`);
      else if (hint === "dir") {
        lines.push(`complete -c cdfs ${condition} -a '(__fish_complete_directories)'`);
      }
    }
  }
  lines.push("");
  return lines.join("\n");
}
