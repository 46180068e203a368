import assert from "node:assert/strict";
import { isCdfsError } from "../../../src/core/errors.ts";
import { expandBlockName, validateModule } from "../../../src/coding/lang/validate.ts";
import { validateProgram } from "../../../src/coding/lang/validate_program.ts";
import { chainModuleJson } from "../../helpers/chain_module.ts";

/**
 * Loose JSON: the tests reach into a module and break it in every way a hand-written file
 * could, which a precise type would forbid.
 */
// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** A valid module touching every feature: stream sources, remote blocks, PUSH/POP, lists. */
function base(): Json {
  return chainModuleJson();
}

/** Expects `mutate(base())` to be refused with a BAD_REQUEST matching all `patterns`. */
function refused(mutate: (m: Json) => void, ...patterns: RegExp[]): void {
  const m = base();
  mutate(m);
  assert.throws(
    () => validateModule(m, "coding/chain.ts"),
    (e) => {
      assert.ok(isCdfsError(e, "BAD_REQUEST"), String(e));
      for (const p of patterns) assert.match(e.message, p);
      return true;
    },
  );
}

Deno.test("a valid module is returned deep-frozen and unchanged", () => {
  const m = validateModule(base(), "coding/chain.ts");
  assert.deepEqual(JSON.parse(JSON.stringify(m)), base());
  assert.ok(Object.isFrozen(m) && Object.isFrozen(m.programs) && Object.isFrozen(m.parts[0]));
  assert.ok(Object.isFrozen(m.programs.enc1!.instructions[3]));
  assert.ok(Object.isFrozen(m.programs.enc1!.streams[1]));
});

Deno.test("the example message: module, program, instruction index and operand", () => {
  refused(
    (m) => m.programs.enc1.instructions[4] = ["MULADD", "prev", 300, "local"],
    /^coding module 'chain' \(coding\/chain\.ts\): program 'enc1', instruction 4 \(MULADD prev 300 local\): coefficient 300 is outside GF\(2\^8\) \(0\.\.255\)$/,
  );
});

Deno.test("coefficients: integers of the field", () => {
  refused(
    (m) => m.programs.enc0.instructions[1][2] = -1,
    /instruction 1/,
    /coefficient -1 is outside/,
  );
  refused((m) => m.programs.enc0.instructions[1][2] = 1.5, /coefficient 1\.5 is not an integer/);
  refused((m) => m.programs.enc0.instructions[1][2] = "3", /coefficient string is not an integer/);
  refused(
    (m) => {
      m.field = 16;
      m.programs.enc0.instructions[1][2] = 65536;
    },
    /coefficient 65536 is outside GF\(2\^16\) \(0\.\.65535\)/,
  );
  const m16 = base();
  m16.field = 16;
  m16.programs.enc0.instructions[1][2] = 65535;
  assert.equal(validateModule(m16, "x").field, 16);
});

Deno.test("unknown buffer, stream and instruction names", () => {
  refused(
    (m) => m.programs.enc1.instructions[3] = ["MULADD", "stream", 207, "nothing"],
    /program 'enc1', instruction 3 \(MULADD stream 207 nothing\)/,
    /buffer 'nothing' is read before it is defined in the step/,
  );
  refused(
    (m) => m.programs.enc1.instructions[0] = ["LOAD", "local", "part9"],
    /instruction 0 \(LOAD local part9\): stream 'part9' is not declared/,
  );
  refused(
    (m) => m.programs.enc1.instructions[0] = ["load", "local", "part0"],
    /instruction 0 \(load local part0\): unknown instruction "load"/,
  );
  refused(
    (m) => m.programs.enc1.instructions[0] = ["LOAD", "local"],
    /instruction 0 \(LOAD local\): LOAD takes 2 operands, got 1/,
  );
  refused(
    (m) => m.programs.enc1.instructions[0] = ["LOAD", "bad name", "part0"],
    /buffer name "bad name" is not a valid name/,
  );
  refused((m) => m.programs.enc1.instructions[0] = "LOAD", /an instruction must be an array/);
});

Deno.test("a buffer read before it is defined, or accumulated into before it is defined", () => {
  refused(
    (m) => m.programs.enc1.instructions.splice(2, 1), // drops COPY stream prev
    /program 'enc1', instruction 2 \(MULADD stream 207 local\): buffer 'stream' is read before it is defined/,
  );
  refused(
    (m) => m.programs.enc0.instructions.unshift(["IADD", "temp", "temp"]),
    /program 'enc0', instruction 0 \(IADD temp temp\): buffer 'temp' is read before/,
  );
  refused(
    (m) => m.programs.enc0.instructions.unshift(["PUSH", "queue", "x"]),
    /instruction 0 \(PUSH queue x\): buffer 'x' is read before/,
  );
});

Deno.test("stream directions: no WRITE to an input, no LOAD from an output", () => {
  refused(
    (m) => m.programs.enc1.instructions[5] = ["WRITE", "prev", "prev"],
    /instruction 5 \(WRITE prev prev\): WRITE to input stream 'prev'/,
  );
  refused(
    (m) => m.programs.enc1.instructions[1] = ["LOAD", "prev", "coded1"],
    /instruction 1 \(LOAD prev coded1\): LOAD from output stream 'coded1'/,
  );
});

Deno.test("every stream advances once per step", () => {
  refused(
    (m) => m.programs.enc1.instructions.push(["LOAD", "x", "part0"]),
    /instruction 6 \(LOAD x part0\): stream 'part0' is LOADed twice in one step/,
  );
  refused(
    (m) => m.programs.enc1.instructions.push(["WRITE", "stream", "coded1"]),
    /stream 'coded1' is WRITTEN twice in one step/,
  );
  refused(
    (m) => m.programs.enc1.streams.push({ name: "unused", read: { block: "{id}.x" } }),
    /program 'enc1': input stream 'unused' is never LOADed/,
  );
  refused(
    (m) => m.programs.enc1.streams.push({ name: "o", write: "{id}.x" }),
    /program 'enc1': output stream 'o' is never WRITTEN/,
  );
});

Deno.test("a written or pushed buffer is not modified later in the step", () => {
  refused(
    (m) => m.programs.enc1.instructions.push(["MULADD", "prev", 3, "local"]),
    /instruction 6 \(MULADD prev 3 local\): buffer 'prev' is modified after it was written or pushed/,
  );
  refused(
    (m) => m.programs.enc0.instructions.push(["MULT", "temp", 3, "stream"]),
    /instruction 5 \(MULT temp 3 stream\): buffer 'temp' is overwritten after it was written/,
  );
  refused(
    (m) => m.programs.enc0.instructions.push(["COPY", "temp", "stream"]),
    /buffer 'temp' is overwritten after/,
  );
  // Reading it, or rebinding the name with LOAD/POP, is fine.
  const m = base();
  m.programs.enc0.instructions.push(["MULADD", "stream", 3, "temp"]);
  validateModule(m, "x");
});

Deno.test("a stream program's output buffer must be defined; COPY onto itself is refused", () => {
  refused(
    (m) => m.programs.enc0.output = "nope",
    /program 'enc0': output buffer 'nope' is not defined/,
  );
  refused(
    (m) => m.programs.enc1.instructions[2] = ["COPY", "prev", "prev"],
    /instruction 2 \(COPY prev prev\): COPY of buffer 'prev' onto itself/,
  );
});

Deno.test("program sources: must exist, be stream programs, and form no cycle", () => {
  refused(
    (m) => m.programs.enc2.streams[1].read.program = "enc9",
    /program 'enc2', stream 1 \('prev'\): source program 'enc9' does not exist/,
  );
  refused(
    (m) => m.programs.enc2.streams[1].read.program = "enc2",
    /program 'enc2', stream 1 \('prev'\): the program reads its own output/,
  );
  refused(
    (m) => {
      m.programs.enc2.output = "prev";
      m.programs.enc0.streams.push({ name: "back", read: { program: "enc2" } });
      m.programs.enc0.instructions.unshift(["LOAD", "b", "back"]);
    },
    /program sources form a cycle: enc\d -> enc\d -> enc\d -> enc\d/,
  );
  refused(
    (m) => {
      m.programs.enc3 = structuredClone(m.programs.enc1);
      m.programs.enc3.streams[1].read.program = "enc2"; // enc2 has no output
    },
    /program 'enc3', stream 1 \('prev'\): source program 'enc2' is not a stream program/,
  );
});

Deno.test("node indices are in 0..n-1", () => {
  refused((m) => m.programs.enc1.node = 3, /program 'enc1': node 3 is outside 0\.\.2 \(n = 3\)/);
  refused(
    (m) => m.programs.enc2.streams[3].read.node = -1,
    /program 'enc2', stream 3 \('remote'\): node -1 is outside 0\.\.2/,
  );
  refused((m) => m.parts[1].nodes = [5], /parts\[1\]: node 5 is outside/);
  refused((m) => m.coded[2].node = 3, /coded\[2\]: node 3 is outside/);
  refused((m) => m.parts[0].nodes = [], /parts\[0\]: nodes is empty/);
  refused((m) => m.parts[0].nodes = [1, 1], /parts\[0\]: nodes lists a node twice/);
});

Deno.test("block templates contain {id} and make valid block ids", () => {
  refused(
    (m) => m.programs.enc1.streams[2].write = "coded1",
    /program 'enc1', stream 2 \('coded1'\): write "coded1" does not contain \{id\}/,
  );
  refused(
    (m) => m.programs.enc1.streams[0].read.block = "../{id}.part0",
    /block "..\/\{id\}.part0" does not make a valid block id/,
  );
  refused(
    (m) => m.parts[0].block = "{id}/x",
    /parts\[0\]: block "\{id\}\/x" does not make a valid/,
  );
  refused((m) => m.coded[1].block = "c1", /coded\[1\]: block "c1" does not contain \{id\}/);
  assert.equal(expandBlockName("{id}.part3", "movie"), "movie.part3");
  assert.throws(
    () => expandBlockName("{id}.x", "a/b"),
    (e) => isCdfsError(e, "BAD_REQUEST") && /contains "\/"/.test(e.message),
  );
});

Deno.test("stream declarations: unique names, exactly one of read and write", () => {
  refused(
    (m) => m.programs.enc1.streams[1].name = "part0",
    /program 'enc1', stream 1 \('part0'\): stream name 'part0' is declared twice/,
  );
  refused(
    (m) => m.programs.enc1.streams[0].write = "{id}.x",
    /stream 0 \('part0'\): a stream has exactly one of "read" and "write"/,
  );
  refused(
    (m) => m.programs.enc1.streams[0].read = { block: "{id}.part0", program: "enc0" },
    /a \{ program \} source has an unknown property "block"/,
  );
  refused((m) => m.programs.enc1.streams[0].read = {}, /read must have "block" or "program"/);
});

Deno.test("module shape: fields, counts, encode, unknown properties", () => {
  refused((m) => m.field = 4, /field must be 8 or 16/);
  refused((m) => m.k = 4, /k 4 is outside 1\.\.3/);
  refused((m) => m.n = 4, /coded has 3 entries, n is 4/);
  refused((m) => m.parts.pop(), /parts has 1 entries, k is 2/);
  refused((m) => m.encode = "nope", /encode program 'nope' does not exist/);
  refused((m) => m.encode = [], /encode is an empty list/);
  refused((m) => m.encode = ["enc2", "enc2"], /encode lists a program twice/);
  refused((m) => m.programs = {}, /programs is empty/);
  refused((m) => m.name = "Chain", /name "Chain" is not a valid name/);
  refused((m) => m.description = "two\nlines", /description must be one line/);
  refused((m) => m.extra = 1, /the module has an unknown property "extra"/);
  refused(
    (m) => m.programs.enc0.ouput = "stream",
    /program 'enc0': a program has an unknown property "ouput"/,
  );
  refused(
    (m) => m.programs["bad name"] = m.programs.enc0,
    /program name "bad name" is not a valid name/,
  );
  refused(
    (m) => m.programs.enc0.instructions = [],
    /program 'enc0': the program has no instructions/,
  );
  assert.throws(
    () => validateModule(null, "coding/x.ts"),
    /^CdfsError: coding module \? \(coding\/x\.ts\): the module must be an object, got null$/,
  );
});

Deno.test("a POPped queue must be pushed by a program of the same node", () => {
  refused(
    (m) => m.programs.aux0.node = 1,
    /program 'aux0', instruction 0 \(POP queue temp\): queue 'queue' is never PUSHed by a program of node 1/,
  );
});

Deno.test("validateProgram: derived programs get the same checks", () => {
  const module = validateModule(base(), "coding/chain.ts");
  const decode = {
    node: 1,
    streams: [
      { name: "c1", read: { block: "{id}.coded1" } },
      { name: "s0", read: { program: "enc0" } },
      { name: "p0", write: "{id}.part0" },
    ],
    instructions: [["LOAD", "a", "c1"], ["LOAD", "b", "s0"], ["IADD", "a", "b"], [
      "MULT",
      "a",
      7,
      "a",
    ], ["WRITE", "a", "p0"]],
  };
  const checked = validateProgram(module, "decode", decode);
  assert.deepEqual(JSON.parse(JSON.stringify(checked)), decode);
  assert.ok(Object.isFrozen(checked));
  const bad = structuredClone(decode);
  bad.instructions[3] = ["MULT", "a", 256, "a"];
  assert.throws(
    () => validateProgram(module, "decode", bad, { source: "derived" }),
    /^CdfsError: coding module 'chain' \(derived\): program 'decode', instruction 3 \(MULT a 256 a\): coefficient 256 is outside GF\(2\^8\)/,
  );
  // Sources may name other derived programs when they are passed along.
  const helper = { ...module.programs.enc0!, node: 2 };
  const user = structuredClone(decode);
  user.streams[1] = { name: "s0", read: { program: "helper" } };
  assert.throws(
    () => validateProgram(module, "user", user),
    /source program 'helper' does not exist/,
  );
  validateProgram(module, "user", user, { programs: { ...module.programs, helper } });
  assert.throws(
    () =>
      validateProgram(module, "enc0x", {
        ...decode,
        streams: [...decode.streams, { name: "me", read: { program: "enc0x" } }],
      }, {
        programs: { ...module.programs, enc0x: { ...module.programs.enc0! } },
      }),
    /the program reads its own output/,
  );
  assert.throws(
    () => validateProgram(module, "no good", decode),
    /program name "no good" is not a valid name/,
  );
});

Deno.test("validateProgram: a malformed program it may pull from is refused, not a TypeError", () => {
  // A CODING request's inline programs are validated one at a time, each against all the
  // others, still unchecked: following sources into a malformed one threw a TypeError.
  const m = validateModule(base(), "coding/chain.ts");
  const reader = {
    node: 0,
    streams: [{ name: "s", read: { program: "b" } }, { name: "c", write: "{id}.x" }],
    instructions: [["LOAD", "t", "s"], ["WRITE", "t", "c"]],
  };
  for (const malformed of [{ output: "o", streams: 5 }, { output: "o", streams: [null, 1] }]) {
    // deno-lint-ignore no-explicit-any
    const programs = { ...m.programs, a: reader, b: malformed } as any;
    const checked = validateProgram(m, "a", reader, { programs });
    assert.equal(checked.streams.length, 2);
    assert.throws(
      () => validateProgram(m, "b", malformed, { programs }),
      (e) => isCdfsError(e, "BAD_REQUEST"),
    );
  }
});

Deno.test("messages stay one bounded line whatever the module holds", () => {
  let deep: unknown = {};
  for (let i = 0; i < 20_000; i++) deep = { a: deep };
  const cases: [(m: Json) => void, RegExp][] = [
    [(m) => m.programs.enc0.instructions[0] = ["\n", "temp", "part0"], /instruction 0 \("\\n"/],
    [(m) => m.programs.enc0.instructions[0] = ["LOAD", deep, "part0"], /\(LOAD object part0\)/],
    [(m) => m.field = deep, /field must be 8 or 16 .*got object$/],
    [(m) => m.encode = "x".repeat(5000), /encode program "x{40}"\.\.\. does not exist/],
    [(m) => m.name = "\r", /^coding module "\\r" \(coding\/chain\.ts\): name "\\r" is not/],
  ];
  for (const [mutate, pattern] of cases) {
    const m = base();
    mutate(m);
    assert.throws(() => validateModule(m, "coding/chain.ts"), (e) => {
      assert.ok(isCdfsError(e, "BAD_REQUEST"), String(e));
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n") && e.message.length < 300, e.message);
      return true;
    });
  }
});
