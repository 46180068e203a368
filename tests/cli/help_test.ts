/**
 * The command-line framework as a user meets it: group help in every form, suggestions for
 * typos, one-line usage errors, help generated from the option tables (every option once),
 * examples that parse as they are, and completion scripts that the shells accept.
 *
 * @module
 */
import assert from "node:assert/strict";
import { EXIT_USAGE, formatGroupHelp, parseInvocation } from "../../src/cli/app.ts";
import {
  formatArguments,
  HELP_OPTION,
  type OptionSpec,
  parseCommandArgs,
} from "../../src/cli/command.ts";
import { COMMANDS, GROUPS } from "../../src/cli/commands.ts";
import { completionScript, SHELLS } from "../../src/cli/completions.ts";
import { groupCommands } from "../../src/cli/help.ts";
import { closestNames, didYouMean, editDistance } from "../../src/cli/suggest.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";

const LISTED = COMMANDS.filter((c) => c.hidden !== true);

function assertUsageLine(run: CliRun, expected: string): void {
  assert.equal(run.code, EXIT_USAGE, run.err);
  assert.equal(run.err, `cdfs: error: ${expected}\n`);
  assert.equal(run.out, "");
}

Deno.test("every group's help, in each form: GROUP --help, -h, bare GROUP, help GROUP", async () => {
  assert.deepEqual(GROUPS.map((g) => g.name).sort(), [
    "bench",
    "block",
    "cert",
    "cluster",
    "code",
    "datanode",
    "namenode",
    "object",
  ]);
  for (const group of GROUPS) {
    const expected = formatGroupHelp(COMMANDS, GROUPS, group.name);
    for (
      const argv of [[group.name, "--help"], [group.name, "-h"], [group.name], ["help", group.name]]
    ) {
      const run = await runCdfs(argv);
      assert.equal(run.code, 0, `${argv.join(" ")}: ${run.err}`);
      assert.equal(run.err, "");
      assert.equal(run.out, expected, argv.join(" "));
    }
    assert.ok(
      expected.startsWith(`Usage: cdfs ${group.name} <command> [options]\n\n${group.summary}\n`),
    );
    const commands = groupCommands(COMMANDS, group.name);
    assert.ok(commands.length > 0, group.name);
    for (const command of commands) {
      const word = command.name.slice(group.name.length + 1);
      assert.match(expected, new RegExp(`\\n {2}${word} +${escape(command.summary)}\\n`));
    }
  }
  // The hidden relay is not listed in its group.
  assert.doesNotMatch((await runCdfs(["cluster", "--help"])).out, /relay/);
});

Deno.test("help COMMAND is the command's --help", async () => {
  for (const name of ["object encode", "cluster up", "datanode serve", "completions", "get"]) {
    const viaHelp = await runCdfs(["help", ...name.split(" ")]);
    const viaFlag = await runCdfs([...name.split(" "), "--help"]);
    assert.equal(viaHelp.code, 0);
    assert.equal(viaHelp.out, viaFlag.out);
    assert.ok(viaHelp.out.startsWith(`Usage: cdfs ${name}`), name);
  }
  assertUsageLine(
    await runCdfs(["help", "archvie"]),
    "unknown command 'archvie' (did you mean 'archive'?); see 'cdfs --help'",
  );
});

Deno.test("typos get a suggestion, in one line, exit 2", async () => {
  assertUsageLine(
    await runCdfs(["block", "stor"]),
    "unknown command 'block stor' (did you mean 'block store'?); 'block' takes one of: " +
      "store, retrieve, rm, stat, ls, ping, stats",
  );
  assertUsageLine(
    await runCdfs(["blokc", "retreive", "--node", "127.0.0.1:13100", "b"]),
    "unknown command 'blokc retreive' (did you mean 'block retrieve'?); see 'cdfs --help'",
  );
  // The issue's own typos, as a user who knows the old top-level words types them.
  assertUsageLine(
    await runCdfs(["stor"]),
    "unknown command 'stor' (did you mean 'block store'?); see 'cdfs --help'",
  );
  assertUsageLine(
    await runCdfs(["retreive"]),
    "unknown command 'retreive' (did you mean 'block retrieve'?); see 'cdfs --help'",
  );
  assertUsageLine(
    await runCdfs(["ls", "--nod", "0"]),
    "ls: unknown option '--nod' (did you mean 'cdfs block ls --node'? list the blocks of a " +
      "datanode); see 'cdfs ls --help'",
  );
  assertUsageLine(
    await runCdfs(["fsk"]),
    "unknown command 'fsk' (did you mean 'fsck'?); see 'cdfs --help'",
  );
  assertUsageLine(
    await runCdfs(["clsuter", "up"]),
    "unknown command 'clsuter up' (did you mean 'cluster up'?); see 'cdfs --help'",
  );
  assertUsageLine(
    await runCdfs(["block", "ls", "--nod", "0"]),
    "block ls: unknown option '--nod' (did you mean '--node'?); see 'cdfs block ls --help'",
  );
  assertUsageLine(
    await runCdfs(["ls", "--namenod", "h:1"]),
    "ls: unknown option '--namenod' (did you mean '--namenode'?); see 'cdfs ls --help'",
  );
  assertUsageLine(
    await runCdfs(["cluster", "stauts"]),
    "unknown command 'cluster stauts' (did you mean 'cluster status' or 'cluster stats'?); " +
      "'cluster' takes one of: up, down, status, stats, stop-node, start-node, clean",
  );
  assertUsageLine(
    await runCdfs(["object", "encode", "--chunk", "64K", "obj"]),
    "object encode: unknown option '--chunk' (did you mean '--chunk-size'?); see " +
      "'cdfs object encode --help'",
  );
  assertUsageLine(
    await runCdfs(["block", "retrieve", "-O", "x", "b"]),
    "block retrieve: unknown option '-O' (did you mean '-o'?); see 'cdfs block retrieve --help'",
  );
  assertUsageLine(
    await runCdfs(["get", "-O", "x", "b"]),
    "get: unknown option '-O' (did you mean '-o'?); see 'cdfs get --help'",
  );
  // Nothing close: no suggestion, but still the pointer to the help.
  assertUsageLine(
    await runCdfs(["block", "ls", "--zzzz"]),
    "block ls: unknown option '--zzzz'; see 'cdfs block ls --help'",
  );
});

Deno.test("malformed arguments are one clear line each, exit 2", async () => {
  const node = ["--node", "127.0.0.1:13100"];
  assertUsageLine(
    await runCdfs(["block", "stat", ...node, "--sha265", "b"]),
    "block stat: unknown option '--sha265' (did you mean '--sha256'?); see " +
      "'cdfs block stat --help'",
  );
  assertUsageLine(
    await runCdfs(["block", "stat", "b", "--node"]),
    "block stat: option '--node' needs a value HOST:PORT; see 'cdfs block stat --help'",
  );
  assertUsageLine(
    await runCdfs(["block", "stat", "-n", "--json", "b"]),
    "block stat: option '-n' needs a value HOST:PORT, got '--json' (if that is the value, " +
      "write -n=--json); see 'cdfs block stat --help'",
  );
  assertUsageLine(
    await runCdfs(["block", "stat", ...node, "--json=yes", "b"]),
    "block stat: option '--json' takes no value, got '--json=yes'; see 'cdfs block stat --help'",
  );
  assertUsageLine(
    await runCdfs(["block", "ls", ...node, "stray"]),
    "block ls: unexpected argument 'stray': it takes no arguments; see 'cdfs block ls --help'",
  );
  assertUsageLine(
    await runCdfs(["block", "stat", ...node, "a", "b"]),
    "block stat: unexpected argument 'b': expected ID; see 'cdfs block stat --help'",
  );
  assertUsageLine(
    await runCdfs(["stat", "a", "b"]),
    "stat: unexpected argument 'b': expected NAME; see 'cdfs stat --help'",
  );
  assertUsageLine(
    await runCdfs(["put", "file"]),
    "put: missing argument: expected FILE NAME; see 'cdfs put --help'",
  );
  assertUsageLine(
    await runCdfs(["object", "put-parts", "--code", "rs", "file"]),
    "object put-parts: missing argument: expected FILE ID; see 'cdfs object put-parts --help'",
  );
  assertUsageLine(
    await runCdfs(["cluster", "stop-node"]),
    "cluster stop-node: missing argument: expected INDEX... (or --count N --decodable-for NAME); " +
      "see 'cdfs cluster stop-node --help'",
  );
  assertUsageLine(
    await runCdfs(["cluster", "--nodes", "3"]),
    "cluster: name a command before '--nodes'; 'cluster' takes one of: up, down, status, " +
      "stats, stop-node, start-node, clean",
  );
  // --help wins over the mistakes around it.
  const help = await runCdfs(["block", "ls", "--nod", "0", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: cdfs block ls /);
});

Deno.test("parseCommandArgs: repeated options, inline values, the -- terminator", () => {
  const options = {
    dir: { type: "string", multiple: true },
    out: { type: "string", short: "o" },
    json: { type: "boolean" },
  } as const;
  const args = parseCommandArgs(options, [
    "--dir",
    "a",
    "--dir=b",
    "-o",
    "-",
    "x",
    "--",
    "--json",
  ]);
  assert.deepEqual(args, {
    values: { dir: ["a", "b"], out: "-" },
    positionals: ["x", "--json"],
  });
  assert.deepEqual(parseCommandArgs(options, ["--log", "-h"]).values, { help: true });
  assert.throws(
    () => parseCommandArgs(options, ["--jsn"]),
    (e) =>
      e instanceof CdfsError && e.code === "USAGE" &&
      e.message === "unknown option '--jsn' (did you mean '--json'?)",
  );
  assert.equal(
    formatArguments([{ name: "ID" }, { name: "X", optional: true, variadic: true }]),
    "ID [X...]",
  );
});

Deno.test("suggestions: edit distance with swaps, closest names, prefixes", () => {
  assert.equal(editDistance("retreive", "retrieve"), 1);
  assert.equal(editDistance("clsuter", "cluster"), 1);
  assert.equal(editDistance("stor", "store"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.deepEqual(closestNames("stor", ["store", "stat", "stats", "rm"]), ["store"]);
  assert.deepEqual(closestNames("nod", ["node", "nodes", "json"]), ["node"]);
  assert.deepEqual(closestNames("rn", ["rm", "ls"]), ["rm"]);
  assert.deepEqual(closestNames("chunk", ["chunk-size", "json"]), ["chunk-size"]);
  assert.deepEqual(closestNames("zzzz", ["store", "stat"]), []);
  assert.equal(didYouMean(["'a'", "'b'", "'c'"]), " (did you mean 'a', 'b' or 'c'?)");
});

Deno.test("every command declares its arguments, describes its options and has examples", () => {
  for (const command of COMMANDS) {
    assert.ok(command.arguments !== undefined, `${command.name}: arguments`);
    assert.ok(command.examples !== undefined && command.examples.length > 0, command.name);
    for (const [name, def] of Object.entries(command.options)) {
      assert.ok((def.description ?? "") !== "", `${command.name} --${name}: description`);
      if (def.type === "string") assert.ok(def.value !== undefined, `${command.name} --${name}`);
    }
    for (const arg of command.arguments) assert.ok(arg.description, `${command.name} ${arg.name}`);
    // The synopsis names only options the command has.
    for (const [, flag] of command.usage.matchAll(/--([a-z0-9-]+)/g)) {
      assert.ok(flag! in command.options, `${command.name}: usage names --${flag}`);
    }
  }
});

Deno.test("every example of every help starts with 'cdfs ' and parses as it is", async () => {
  for (const command of COMMANDS) {
    const help = (await runCdfs([...command.name.split(" "), "--help"])).out;
    const section = /\nExamples?:\n((?: {2}.*\n)+)/.exec(help);
    assert.ok(section, `${command.name}: no Examples section`);
    const lines = section[1]!.trimEnd().split("\n").map((l) => l.slice(2));
    assert.deepEqual(lines, command.examples, command.name);
    for (const line of lines) {
      assert.ok(line.startsWith("cdfs "), `${command.name}: ${line}`);
      const argv = exampleArgv(line);
      for (const word of argv) {
        assert.ok(
          !word.includes("...") && !word.includes("$"),
          `${command.name}: '${word}' in ${line}`,
        );
      }
      assert.equal(argv[0], "cdfs");
      // Parsed only, not run: the right command, and its options and arguments accepted.
      const parsed = parseInvocation(COMMANDS, argv.slice(1));
      assert.equal(parsed.command, command, line);
      assert.notEqual(parsed.args.values.help, true, line);
    }
  }
});

Deno.test("the options section of every help lists the option table, each option once", async () => {
  for (const command of COMMANDS) {
    const help = (await runCdfs([...command.name.split(" "), "--help"])).out;
    const section = /\nOptions:\n((?:.+\n)+)/.exec(help);
    assert.ok(section, command.name);
    const shown = [...section[1]!.matchAll(/^ {2}(?:-(\S), | {4})--([a-z0-9-]+)(?: (\S+))?/gm)];
    const table: OptionSpec = { ...command.options, help: HELP_OPTION };
    assert.deepEqual(
      shown.map((m) => m[2]),
      Object.keys(table),
      `${command.name}: options in table order, each once`,
    );
    for (const [, short, name, value] of shown) {
      const def = table[name!]!;
      assert.equal(short, def.short, `${command.name} --${name}: short form`);
      assert.equal(
        value,
        def.type === "string" ? def.value : undefined,
        `${command.name} --${name}`,
      );
    }
  }
});

Deno.test("cdfs completions bash: a script bash accepts, with every command and option", async () => {
  const run = await runCdfs(["completions", "bash"]);
  assert.equal(run.code, 0, run.err);
  assert.equal(run.out, completionScript("bash", COMMANDS, GROUPS));
  await assertShellAccepts("bash", run.out);
  for (const command of LISTED) {
    const words = command.name.split(" ");
    assert.ok(
      run.out.includes(`'${command.name}') _cdfs__${words.join("_").replaceAll("-", "_")} `),
      command.name,
    );
    for (const word of words) assert.match(run.out, new RegExp(`[' ]${escape(word)}[' ]`), word);
    for (const name of Object.keys(command.options)) {
      assert.ok(run.out.includes(`--${name}`), `${command.name} --${name}`);
    }
  }
  assert.doesNotMatch(run.out, /relay/);
});

Deno.test("the bash completions complete commands, groups, options and values", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/cdfs.bash`;
    await Deno.writeTextFile(script, completionScript("bash", COMMANDS, GROUPS));
    await Deno.writeTextFile(`${dir}/photo.jpg`, "");
    const complete = async (line: string): Promise<string[]> => {
      const words = line.split(" ");
      const program = [
        `source ${script}`,
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})`,
        `COMP_CWORD=${words.length - 1}`,
        "_cdfs",
        `printf '%s\\n' "\${COMPREPLY[@]}"`,
      ].join("\n");
      const output = await new Deno.Command("bash", { args: ["-c", program], cwd: dir }).output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      return new TextDecoder().decode(output.stdout).split("\n").filter((l) => l !== "");
    };
    assert.deepEqual(await complete("cdfs cluster st"), [
      "status",
      "stats",
      "stop-node",
      "start-node",
    ]);
    assert.deepEqual(await complete("cdfs block retr"), ["retrieve"]);
    assert.deepEqual(await complete("cdfs block ls --no"), ["--node"]);
    assert.deepEqual(await complete("cdfs ls --na"), ["--namenode"]);
    assert.deepEqual(await complete("cdfs ar"), ["archive"]);
    assert.deepEqual(await complete("cdfs completions "), ["bash", "zsh", "fish"]);
    assert.deepEqual(await complete("cdfs block retrieve -o pho"), ["photo.jpg"]);
    assert.deepEqual(await complete("cdfs block store --node h:1 block pho"), ["photo.jpg"]);
    assert.deepEqual(await complete("cdfs block store --node pho"), []);
    assert.deepEqual(await complete("cdfs put pho"), ["photo.jpg"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cdfs completions zsh and fish: scripts their shells accept (where installed)", async () => {
  for (const shell of ["zsh", "fish"]) {
    const run = await runCdfs(["completions", shell]);
    assert.equal(run.code, 0, run.err);
    for (const command of LISTED) {
      assert.ok(run.out.includes(command.name), `${shell}: ${command.name}`);
    }
    if (await hasShell(shell)) await assertShellAccepts(shell, run.out);
  }
  assert.ok(completionScript("zsh", COMMANDS, GROUPS).startsWith("#compdef cdfs\n"));
  assert.deepEqual([...SHELLS], ["bash", "zsh", "fish"]);
  assertUsageLine(
    await runCdfs(["completions", "tcsh"]),
    "no completions for shell 'tcsh': expected bash, zsh, fish",
  );
  assertUsageLine(
    await runCdfs(["completions"]),
    "completions: missing argument: expected SHELL; see 'cdfs completions --help'",
  );
});

/** Checks a script's syntax with the shell's -n (read, do not run). */
async function assertShellAccepts(shell: string, script: string): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/cdfs.${shell}`;
    await Deno.writeTextFile(path, script);
    const output = await new Deno.Command(shell, { args: ["-n", path] }).output();
    assert.equal(output.code, 0, `${shell} -n: ${new TextDecoder().decode(output.stderr)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function hasShell(shell: string): Promise<boolean> {
  try {
    await new Deno.Command(shell, { args: ["-c", "exit 0"], stdout: "null", stderr: "null" })
      .output();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The words of the first command of a shell line, as the shell would pass them: quotes
 * removed, stopping at a pipe, `;`, `&` or a comment, redirections (`< f`, `> f`) left out.
 */
function exampleArgv(line: string): string[] {
  const tokens: { text: string; operator: boolean }[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      assert.ok(end > i, `unbalanced quote in ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === " ") {
      if (inWord) tokens.push({ text: word, operator: false });
      word = "";
      inWord = false;
    } else if (!inWord && "|;&<>#".includes(ch)) {
      tokens.push({ text: ch, operator: true });
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) tokens.push({ text: word, operator: false });
  const argv: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.operator) argv.push(token.text);
    else if (token.text === "<" || token.text === ">") i++;
    else break;
  }
  return argv;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
