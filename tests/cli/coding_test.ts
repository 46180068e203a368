/**
 * The coding commands without a cluster: `code list`, `code inspect` (checked against
 * `analyze`, the symbolic execution, not against copies of their own output), help texts and
 * the usage errors that need no node. The commands on a real cluster are in
 * tests/e2e/coding_e2e_test.ts.
 */
import assert from "node:assert/strict";
import { EXIT_FAILURE, EXIT_USAGE } from "../../src/cli/app.ts";
import { CODING_COMMANDS } from "../../src/cli/coding.ts";
import { COMMANDS } from "../../src/cli/commands.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { analyze } from "../../src/coding/analysis/symbolic.ts";
import { unusedPort } from "../client/_blocks.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";

function assertOneLineError(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.err}`);
  assert.match(run.err, /^cdfs: error: [^\n]+\n$/);
  assert.match(run.err, pattern);
  assert.equal(run.out, "");
}

const sixteen = Array.from({ length: 16 }, (_, i) => `127.0.0.1:${20000 + i}`).join(",");

Deno.test("the coding commands are registered", () => {
  const names = COMMANDS.map((c) => c.name);
  for (const command of CODING_COMMANDS) assert.ok(names.includes(command.name), command.name);
  assert.deepEqual(CODING_COMMANDS.map((c) => c.name), [
    "object put-parts",
    "object encode",
    "object decode",
    "object repair",
    "code list",
    "code inspect",
    "code tune",
  ]);
});

Deno.test("every coding command has help with an example", async () => {
  for (const command of CODING_COMMANDS) {
    const run = await runCdfs([...command.name.split(" "), "--help"]);
    assert.equal(run.code, 0, run.err);
    assert.ok(run.out.startsWith(`Usage: ${command.usage}\n`), command.name);
    assert.match(run.out, /Examples?:\n {2}cdfs /, command.name);
  }
  // A bare group shows its commands (group help); a wrong command in it is a usage error.
  const group = await runCdfs(["code"]);
  assert.equal(group.code, 0, group.err);
  assert.match(group.out, /^Usage: cdfs code <command>/);
  assert.match(group.out, /\n {2}list +List the coding modules/);
  assert.match(group.out, /\n {2}inspect +Show a coding module's generator matrix/);
  const unknown = await runCdfs(["code", "nonsense"]);
  assertOneLineError(unknown, EXIT_USAGE, /'code' takes one of: list, inspect, tune/);
});

Deno.test("code inspect --json is the symbolic analysis of the module", async () => {
  for (const name of ["rapidraid", "rs", "replication", "rapidraid16"]) {
    const run = await runCdfs(["code", "inspect", "--json", name]);
    assert.equal(run.code, 0, run.err);
    const shown = JSON.parse(run.out);
    const module = await loadCodingModule(name);
    const expected = analyze(module);
    assert.equal(shown.name, name);
    assert.equal(shown.n, module.n);
    assert.equal(shown.k, module.k);
    assert.equal(shown.field, module.field);
    assert.equal(shown.rank, expected.rank);
    assert.equal(shown.isMds, expected.isMds);
    assert.equal(shown.subsetCount, expected.subsetCount);
    assert.equal(shown.undecodableCount, expected.undecodableSubsets.length);
    assert.deepEqual(shown.undecodableSubsets, expected.undecodableSubsets);
    assert.deepEqual(shown.generator, expected.generator.map((row) => Array.from(row)));
    assert.deepEqual(shown.coded, module.coded.map((c) => c.node));
  }
});

Deno.test("code inspect: the published facts of RapidRAID and Reed-Solomon", async () => {
  // coding/README.md (cdfs's own analysis of RapidRAID, coding/rapidraid.ts): 47 of the 4368 11-subsets of RapidRAID (16,11) in GF(2^8) do not
  // decode (21 structural ones remain in GF(2^16)); Reed-Solomon is MDS and systematic.
  const rapidraid = JSON.parse((await runCdfs(["code", "inspect", "--json", "rapidraid"])).out);
  assert.equal(rapidraid.isMds, false);
  assert.equal(rapidraid.subsetCount, 4368);
  assert.equal(rapidraid.undecodableCount, 47);
  const rapidraid16 = JSON.parse((await runCdfs(["code", "inspect", "--json", "rapidraid16"])).out);
  assert.equal(rapidraid16.undecodableCount, 21);
  const rs = JSON.parse((await runCdfs(["code", "inspect", "--json", "rs"])).out);
  assert.equal(rs.isMds, true);
  assert.equal(rs.undecodableCount, 0);
  rs.generator.slice(0, 11).forEach((row: number[], i: number) => {
    assert.deepEqual(row, Array.from({ length: 11 }, (_, j) => (i === j ? 1 : 0)));
  });
});

Deno.test("code inspect prints n, k, field, MDS, the generator and every undecodable subset", async () => {
  const module = await loadCodingModule("rapidraid");
  const expected = analyze(module);
  const run = await runCdfs(["code", "inspect", "rapidraid"]);
  assert.equal(run.code, 0, run.err);
  const lines = run.out.split("\n");
  assert.ok(lines.includes("field        GF(2^8)"));
  assert.ok(lines.includes("n            16 coded blocks"));
  assert.ok(lines.includes("k            11 parts"));
  assert.ok(lines.includes("MDS          no"));
  assert.ok(
    lines.includes(
      `undecodable  ${expected.undecodableSubsets.length} of the ${expected.subsetCount} ` +
        "11-subsets of the coded blocks",
    ),
  );
  // One row per coded block: its name, its node, then the k coefficients of G.
  expected.generator.forEach((row, i) => {
    const line = lines.find((l) => l.trimStart().startsWith(`coded${i} `));
    assert.ok(line !== undefined, `row ${i}`);
    const numbers = line.trim().split(/\s+/).slice(3).map(Number);
    assert.deepEqual(numbers, Array.from(row), `row ${i}`);
    assert.match(line, new RegExp(`node ${module.coded[i]!.node}\\b`));
  });
  const subsets = lines.filter((l) => /^ {2}\{[\d, ]+\}$/.test(l));
  assert.deepEqual(subsets, expected.undecodableSubsets.map((s) => `  {${s.join(", ")}}`));

  const rs = await runCdfs(["code", "inspect", "rs"]);
  assert.ok(rs.out.split("\n").includes("MDS          yes"));
  assert.doesNotMatch(rs.out, /undecodable 11-subsets/);
});

Deno.test("code inspect rapidraid:n=12,k=8 prints the family member's matrix and decodability", async () => {
  const module = await loadCodingModule("rapidraid:n=12,k=8");
  const expected = analyze(module);
  const run = await runCdfs(["code", "inspect", "rapidraid:k=8,n=12"]);
  assert.equal(run.code, 0, run.err);
  const lines = run.out.split("\n");
  assert.match(lines[0]!, /^module +rapidraid:n=12,k=8: RapidRAID \(12,8\) pipelined/);
  assert.ok(lines.includes("n            12 coded blocks"));
  assert.ok(lines.includes("undecodable  1 of the 495 8-subsets of the coded blocks"));
  expected.generator.forEach((row, i) => {
    const line = lines.find((l) => l.trimStart().startsWith(`coded${i} `));
    assert.deepEqual(line?.trim().split(/\s+/).slice(3).map(Number), Array.from(row), `row ${i}`);
  });
  const subsets = lines.filter((l) => /^ {2}\{[\d, ]+\}$/.test(l));
  assert.deepEqual(subsets, expected.undecodableSubsets.map((s) => `  {${s.join(", ")}}`));
  const bad = await runCdfs(["code", "inspect", "rapidraid:n=17,k=8"]);
  assertOneLineError(bad, EXIT_USAGE, /parameter n must be in k\+1\.\.2k = 9\.\.16/);
});

Deno.test("code list shows the built-in modules and those of --coding-dir", async () => {
  const run = await runCdfs(["code", "list"]);
  assert.equal(run.code, 0, run.err);
  for (
    const [name, shape] of [["rapidraid", "(16,11)"], ["rs", "(16,11)"], ["replication", "(3,1)"]]
  ) {
    assert.match(
      run.out,
      new RegExp(`^${name} +${shape!.replace(/[()]/g, "\\$&")} +GF\\(2\\^8\\)`, "m"),
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "cdfs-codes-" });
  try {
    const rs = new URL("../../coding/rs.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/rs_4_2.ts`,
      `import { rsModule } from "${rs}";\nexport const codingModule = rsModule(4, 2);\n`,
    );
    await Deno.writeTextFile(`${dir}/broken.ts`, "export const codingModule = { name: 1 };\n");
    const listed = await runCdfs(["code", "list", "--json", "--coding-dir", dir]);
    assert.equal(listed.code, 0, listed.err);
    const entries = JSON.parse(listed.out) as Record<string, unknown>[];
    const user = entries.find((e) => e.name === "rs_4_2");
    assert.deepEqual({ n: user?.n, k: user?.k, builtin: user?.builtin }, {
      n: 6,
      k: 4,
      builtin: false,
    });
    assert.equal(typeof entries.find((e) => e.name === "broken")?.error, "string");
    assert.ok(entries.some((e) => e.name === "rapidraid" && e.builtin === true));
    const text = await runCdfs(["code", "list", "--coding-dir", dir]);
    assert.match(text.out, /^broken +does not load: /m);

    const inspected = await runCdfs(["code", "inspect", "--json", "--coding-dir", dir, "rs_4_2"]);
    assert.equal(inspected.code, 0, inspected.err);
    const shown = JSON.parse(inspected.out);
    assert.equal(shown.isMds, true);
    assert.equal(shown.generator.length, 6);

    const missing = await runCdfs(["code", "list", "--coding-dir", `${dir}/nope`]);
    assertOneLineError(
      missing,
      EXIT_USAGE,
      /--coding-dir: coding directory '.*nope' does not exist/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown coding module is a one-line usage error naming the known ones", async () => {
  for (
    const args of [
      ["code", "inspect", "nope"],
      ["object", "encode", "--code", "nope", "--nodes", sixteen, "obj"],
      ["object", "put-parts", "--code", "Bad Name", "--nodes", sixteen, "file", "obj"],
    ]
  ) {
    const run = await runCdfs(args);
    assertOneLineError(run, EXIT_USAGE, /unknown coding module '.*' \(known: .*rapidraid.*rs.*\)/);
  }
});

Deno.test("the node list must fit the module and parse strictly", async () => {
  const three = "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3";
  for (
    const command of [["object", "encode"], ["object", "decode", "-o", "x"], [
      "object",
      "repair",
      "--block",
      "0",
    ]]
  ) {
    const run = await runCdfs([...command, "--code", "rapidraid", "--nodes", three, "obj"]);
    assertOneLineError(run, EXIT_USAGE, /: rapidraid needs 16 nodes, got 3\n$/);
  }
  const put = await runCdfs(["object", "put-parts", "--code", "rs", "--nodes", three, "f", "obj"]);
  assertOneLineError(put, EXIT_USAGE, /rs needs 16 nodes, got 3/);
  const env = await runCdfs(["object", "encode", "--code", "replication", "obj"], {
    env: { CDFS_NODES: sixteen },
  });
  assertOneLineError(env, EXIT_USAGE, /replication needs 3 nodes, got 16 in CDFS_NODES/);
  const typo = await runCdfs([
    "object",
    "encode",
    "--code",
    "rs",
    "--nodes",
    "127.0.0.1:1,,x:2",
    "obj",
  ]);
  assertOneLineError(typo, EXIT_USAGE, /--nodes: entry 1 is empty/);
  const none = await runCdfs(["object", "encode", "--code", "rs", "obj"]);
  assertOneLineError(none, EXIT_USAGE, /--nodes HOST:PORT,\.\.\. or --cluster FILE is required/);
});

Deno.test("usage errors of the object commands", async () => {
  const nodes = ["--nodes", sixteen];
  const cases: [string[], RegExp][] = [
    [["object", "put-parts", ...nodes, "f", "obj"], /--code NAME is required/],
    [["object", "put-parts", "--code", "rs", ...nodes, "f"], /missing argument: expected FILE ID/],
    [["object", "encode", "--code", "rs", ...nodes, "a/b"], /object id/],
    [["object", "encode", "--code", "rs", ...nodes, "x".repeat(200)], /manifest block id/],
    [["object", "decode", "--code", "rs", ...nodes, "--json", "obj"], /--json needs -o FILE/],
    [["object", "repair", "--code", "rs", ...nodes, "obj"], /--block I is required/],
    [
      ["object", "repair", "--code", "rs", ...nodes, "--block", "16", "obj"],
      /coded blocks 0\.\.15/,
    ],
    [["object", "repair", "--code", "rs", ...nodes, "--block", "x", "obj"], /--block: expected/],
    [
      ["object", "repair", "--code", "rs", ...nodes, "--block", "1", "--to", "16", "obj"],
      /nodes 0\.\.15/,
    ],
    [["object", "encode", "--code", "rs", ...nodes, "--chunk-size", "100", "obj"], /--chunk-size/],
    [
      ["object", "encode", "--code", "rs", ...nodes, "--bogus", "obj"],
      /object encode: unknown option '--bogus'; see 'cdfs object encode --help'/,
    ],
  ];
  for (const [args, pattern] of cases) assertOneLineError(await runCdfs(args), EXIT_USAGE, pattern);
});

Deno.test("a command on unreachable nodes fails in one line naming a node", async () => {
  const port = unusedPort();
  const nodes = ["--nodes", `127.0.0.1:${port},127.0.0.1:${port + 1},127.0.0.1:${port + 2}`];
  const run = await runCdfs(["object", "decode", ...nodes, "-o", "/nonexistent/x", "obj"]);
  assertOneLineError(run, EXIT_FAILURE, /no manifest \(obj\.manifest\) on any of the 3 nodes/);
  const encode = await runCdfs(["object", "encode", "--code", "replication", ...nodes, "obj"]);
  assertOneLineError(encode, EXIT_FAILURE, new RegExp(`cannot reach node 127\\.0\\.0\\.1:${port}`));
});
