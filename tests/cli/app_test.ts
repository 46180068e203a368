import assert from "node:assert/strict";
import { EXIT_FAILURE, EXIT_USAGE, resolveCommand, runCli } from "../../src/cli/app.ts";
import { type Command, parseSize } from "../../src/cli/command.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { VERSION } from "../../src/core/version.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    ctx: {
      out: (t: string) => void out.push(t),
      err: (t: string) => void err.push(t),
      isTerminal: false,
      env: () => undefined,
    },
  };
}

const failing: Command = {
  name: "fail now",
  summary: "always fails",
  usage: "cdfs fail now",
  options: { reason: { type: "string" } },
  run(_ctx, args) {
    throw new CdfsError("NOT_FOUND", `no such thing: ${args.values.reason ?? "?"}`);
  },
};
const echo: Command = {
  name: "echo",
  summary: "prints its arguments",
  usage: "cdfs echo [WORDS...]",
  options: { upper: { type: "boolean" } },
  run(ctx, args) {
    const text = args.positionals.join(" ");
    ctx.out((args.values.upper ? text.toUpperCase() : text) + "\n");
    return Promise.resolve(0);
  },
};
const commands = [failing, echo];

Deno.test("--version prints the version", async () => {
  const c = capture();
  assert.equal(await runCli(commands, c.ctx, ["--version"]), 0);
  assert.equal(c.out.join(""), `cdfs ${VERSION}\n`);
});

Deno.test("no arguments and --help list every command", async () => {
  for (const argv of [[], ["--help"]]) {
    const c = capture();
    assert.equal(await runCli(commands, c.ctx, argv), 0);
    const text = c.out.join("");
    assert.match(text, /fail now\s+always fails/);
    assert.match(text, /echo\s+prints its arguments/);
  }
});

Deno.test("a command runs with its options and positionals", async () => {
  const c = capture();
  assert.equal(await runCli(commands, c.ctx, ["echo", "--upper", "a", "b"]), 0);
  assert.equal(c.out.join(""), "A B\n");
});

Deno.test("command --help prints its usage and does not run it", async () => {
  const c = capture();
  assert.equal(await runCli(commands, c.ctx, ["fail", "now", "--help"]), 0);
  assert.match(c.out.join(""), /Usage: cdfs fail now/);
  assert.equal(c.err.length, 0);
});

Deno.test("unknown command and unknown option are usage errors on one line", async () => {
  let c = capture();
  assert.equal(await runCli(commands, c.ctx, ["nope"]), EXIT_USAGE);
  assert.equal(c.err.join(""), "cdfs: error: unknown command 'nope'; see 'cdfs --help'\n");
  c = capture();
  assert.equal(await runCli(commands, c.ctx, ["fail", "later"]), EXIT_USAGE);
  assert.match(
    c.err.join(""),
    /^cdfs: error: unknown command 'fail later'; 'fail' takes one of: now\n$/,
  );
  c = capture();
  assert.equal(await runCli(commands, c.ctx, ["echo", "--loud"]), EXIT_USAGE);
  assert.match(c.err.join(""), /^cdfs: error: .*--loud.*\n$/);
});

Deno.test("a failing command prints one line with its code, the stack only with --debug", async () => {
  let c = capture();
  assert.equal(await runCli(commands, c.ctx, ["fail", "now", "--reason", "x"]), EXIT_FAILURE);
  assert.equal(c.err.join(""), "cdfs: error: no such thing: x (NOT_FOUND)\n");
  c = capture();
  assert.equal(await runCli(commands, c.ctx, ["--debug", "fail", "now"]), EXIT_FAILURE);
  assert.match(c.err.join(""), /\n\s+at /);
});

Deno.test("resolveCommand prefers the longest matching name", () => {
  const serve: Command = { ...echo, name: "datanode serve" };
  const found = resolveCommand([echo, serve], ["datanode", "serve", "--data", "d"]);
  assert.equal(found?.command, serve);
  assert.deepEqual(found?.rest, ["--data", "d"]);
  assert.equal(resolveCommand([serve], ["datanode"]), undefined);
});

Deno.test("parseSize reads binary suffixes and rejects the rest", () => {
  assert.equal(parseSize("0", "x"), 0);
  assert.equal(parseSize("4096", "x"), 4096);
  assert.equal(parseSize("2k", "x"), 2048);
  assert.equal(parseSize("64MiB", "x"), 64 * 1024 * 1024);
  assert.equal(parseSize("1G", "x"), 1024 ** 3);
  for (const bad of ["", "-1", "1.5M", "12x", "M"]) {
    assert.throws(
      () => parseSize(bad, "--size"),
      (e) => e instanceof CdfsError && e.code === "USAGE",
    );
  }
});

Deno.test("main.ts reports errors as one line without a stack trace", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, "no-such-command"],
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, EXIT_USAGE);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.match(stderr, /^cdfs: error: unknown command/);
});

Deno.test("every command starts without loading the etcd client: it is imported only where used", async () => {
  // `deno info --json` lists each module's dependencies, dynamic ones marked `isDynamic`.
  const main = new URL("../../main.ts", import.meta.url);
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", main.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier?: string }; isDynamic?: boolean }[];
    }[];
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  // The modules main.ts loads at start: its static imports, transitively.
  const loaded = new Set<string>();
  const walk = (specifier: string) => {
    if (loaded.has(specifier)) return;
    loaded.add(specifier);
    for (const dep of modules.get(specifier)?.dependencies ?? []) {
      if (dep.isDynamic !== true && dep.code?.specifier !== undefined) walk(dep.code.specifier);
    }
  };
  walk(main.href);
  assert.ok(loaded.size > 100, `${loaded.size} modules: the walk followed main.ts's imports`);
  const etcd = [...loaded].filter((s) => /etcd3|grpc|\/etcd_store\.ts$/.test(s));
  assert.deepEqual(etcd, [], "loaded at every start: " + etcd.join(", "));
  // Still in the program, behind a dynamic import (so `deno compile` includes it).
  assert.ok(modules.has(new URL("../../src/namenode/meta/etcd_store.ts", import.meta.url).href));
});
