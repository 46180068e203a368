import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { isCdfsError } from "../../../src/core/errors.ts";
import {
  builtinCodingDir,
  listCodingModules,
  loadCodingModule,
} from "../../../src/coding/lang/loader.ts";

const fixtures = fromFileUrl(new URL("../fixtures/", import.meta.url));

/** A module file of plain data, with a given name and description. */
function moduleSource(name: string, description: string): string {
  const module = {
    name,
    description,
    field: 8,
    n: 1,
    k: 1,
    parts: [{ block: "{id}.part0", nodes: [0] }],
    coded: [{ block: "{id}.c0", node: 0 }],
    encode: "p",
    programs: {
      p: {
        node: 0,
        streams: [{ name: "i", read: { block: "{id}.part0" } }, { name: "o", write: "{id}.c0" }],
        instructions: [["LOAD", "b", "i"], ["WRITE", "b", "o"]],
      },
    },
  };
  return `export const codingModule = ${JSON.stringify(module)};\n`;
}

/** Temp directories: a fake built-in one and two user ones, with a module `shadowed` in each. */
async function dirs(): Promise<
  { builtin: string; user1: string; user2: string; cleanup(): Promise<void> }
> {
  const root = await Deno.makeTempDir({ prefix: "cdfs-loader-" });
  const builtin = `${root}/builtin`;
  const user1 = `${root}/user1`;
  const user2 = `${root}/user2`;
  for (const dir of [builtin, user1, user2]) await Deno.mkdir(dir);
  await Deno.writeTextFile(`${builtin}/shadowed.ts`, moduleSource("shadowed", "built-in"));
  await Deno.writeTextFile(`${builtin}/only_builtin.ts`, moduleSource("only_builtin", "b"));
  await Deno.writeTextFile(`${user1}/shadowed.ts`, moduleSource("shadowed", "user 1"));
  await Deno.writeTextFile(`${user2}/shadowed.ts`, moduleSource("shadowed", "user 2"));
  await Deno.writeTextFile(`${user2}/Not-A-Module.ts`, "export const x = 1;\n");
  await Deno.writeTextFile(`${user2}/notes.txt`, "not a module\n");
  return { builtin, user1, user2, cleanup: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("loads a valid module from a user directory, once per process", async () => {
  const module = await loadCodingModule("tiny", { codingDirs: [fixtures] });
  assert.equal(module.name, "tiny");
  assert.equal(module.programs.copy1!.node, 1);
  assert.ok(Object.isFrozen(module));
  assert.equal(await loadCodingModule("tiny", { codingDirs: [fixtures] }), module, "cached");
});

Deno.test("user directories are searched in order, before the built-in one", async () => {
  const d = await dirs();
  try {
    const builtinDir = new URL(`file://${d.builtin}/`);
    const load = (codingDirs: string[]) => loadCodingModule("shadowed", { codingDirs, builtinDir });
    assert.equal((await load([])).description, "built-in");
    assert.equal((await load([d.user1, d.user2])).description, "user 1");
    assert.equal((await load([d.user2, d.user1])).description, "user 2");
    assert.equal(
      (await loadCodingModule("only_builtin", { codingDirs: [d.user1], builtinDir })).description,
      "b",
    );
  } finally {
    await d.cleanup();
  }
});

Deno.test("bad module names are refused", async () => {
  for (const name of ["", "Rapid", "1abc", "../tiny", "a/b", "tiny.ts", "a b", "x".repeat(65)]) {
    await assert.rejects(
      loadCodingModule(name, { codingDirs: [fixtures] }),
      (e) => isCdfsError(e, "BAD_REQUEST") && /is not valid/.test(e.message),
      name,
    );
  }
  assert.equal((await loadCodingModule("tiny", { codingDirs: [fixtures] })).name, "tiny");
});

Deno.test("a missing module or user directory is NOT_FOUND", async () => {
  await assert.rejects(
    loadCodingModule("nosuchcode", { codingDirs: [fixtures] }),
    (e) =>
      isCdfsError(e, "NOT_FOUND") &&
      /coding module 'nosuchcode' not found \(looked for nosuchcode\.ts in .*fixtures\/, coding\/\)/
        .test(e.message),
  );
  await assert.rejects(
    loadCodingModule("tiny", { codingDirs: ["/nonexistent/cdfs-codes"] }),
    (e) =>
      isCdfsError(e, "NOT_FOUND") && /'\/nonexistent\/cdfs-codes' does not exist/.test(e.message),
  );
});

Deno.test("malformed modules are refused with messages naming module, program and instruction", async () => {
  const load = (name: string) => loadCodingModule(name, { codingDirs: [fixtures] });
  await assert.rejects(
    load("bad_coefficient"),
    (e) =>
      isCdfsError(e, "BAD_REQUEST") &&
      /^coding module 'bad_coefficient' \(.*fixtures\/bad_coefficient\.ts\): program 'enc1', instruction 1 \(MULADD prev 300 prev\): coefficient 300 is outside GF\(2\^8\) \(0\.\.255\)$/
        .test(e.message),
  );
  await assert.rejects(
    load("undefined_buffer"),
    /program 'enc0', instruction 1 \(MULT y 2 temp\): buffer 'temp' is read before it is defined/,
  );
  await assert.rejects(
    load("no_export"),
    (e) =>
      isCdfsError(e, "BAD_REQUEST") &&
      /'no_export' .*: the file does not export `codingModule` \(it exports: module\)/.test(
        e.message,
      ),
  );
  await assert.rejects(
    load("throws"),
    (e) =>
      isCdfsError(e, "BAD_REQUEST") &&
      /'throws' .*: the file does not import: .*this module cannot be imported/.test(e.message),
  );
  await assert.rejects(
    load("misnamed"),
    /coding module 'misnamed' .*: the module is named 'other' but its file is misnamed\.ts/,
  );
});

Deno.test("listCodingModules: one entry per name, user modules first, errors reported", async () => {
  const d = await dirs();
  try {
    const builtinDir = new URL(`file://${d.builtin}/`);
    const list = await listCodingModules({ codingDirs: [d.user2, fixtures], builtinDir });
    assert.deepEqual(list.map((m) => m.name), [
      "bad_coefficient",
      "misnamed",
      "no_export",
      "only_builtin",
      "shadowed",
      "throws",
      "tiny",
      "undefined_buffer",
    ]);
    const byName = new Map(list.map((m) => [m.name, m]));
    assert.equal(byName.get("shadowed")!.description, "user 2");
    assert.equal(byName.get("shadowed")!.builtin, false);
    assert.equal(byName.get("only_builtin")!.builtin, true);
    assert.equal(byName.get("tiny")!.error, undefined);
    assert.match(byName.get("bad_coefficient")!.error!, /coefficient 300/);
    assert.match(byName.get("throws")!.error!, /does not import/);
    assert.equal(byName.get("bad_coefficient")!.description, undefined);
  } finally {
    await d.cleanup();
  }
});

Deno.test("the built-in directory is the repository's coding/ and its modules load", async () => {
  assert.equal(
    fromFileUrl(builtinCodingDir()),
    fromFileUrl(new URL("../../../coding/", import.meta.url)),
  );
  const module = await loadCodingModule("replication");
  assert.equal(module.name, "replication");
  const listed = await listCodingModules();
  assert.ok(listed.some((m) => m.name === "replication" && m.builtin));
});
