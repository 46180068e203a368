import assert from "node:assert/strict";
import { isCdfsError } from "../../../src/core/errors.ts";
import * as gf256 from "../../../src/gf/gf256.ts";
import {
  deriveDecodePlan,
  deriveRepairProgram,
  withPrograms,
} from "../../../src/coding/analysis/decoder.ts";
import type { CodingModule } from "../../../src/coding/lang/program.ts";
import {
  generatorMatrix,
  programOutputs,
  runSymbolic,
} from "../../../src/coding/analysis/symbolic.ts";
import { validateModule } from "../../../src/coding/lang/validate.ts";
import { codingModule as rapidraid } from "../../../coding/rapidraid.ts";
import { codingModule as rs, rsModule } from "../../../coding/rs.ts";

function assertCode(fn: () => unknown, code: "SINGULAR" | "BAD_REQUEST", pattern: RegExp) {
  assert.throws(fn, (e) => {
    assert.ok(isCdfsError(e, code), String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

/**
 * A (4,2) code with two coded blocks on node 1: c0 = p0 (node 0), c1 = p1 and c2 = p0 + p1
 * (node 1), c3 = p0 + 2·p1 (node 2).
 */
const twoPerNode: CodingModule = {
  name: "two-per-node",
  description: "test",
  field: 8,
  n: 4,
  k: 2,
  parts: [{ block: "{id}.part0", nodes: [0, 1, 2] }, { block: "{id}.part1", nodes: [1, 2] }],
  coded: [
    { block: "{id}.part0", node: 0 },
    { block: "{id}.part1", node: 1 },
    { block: "{id}.sum", node: 1 },
    { block: "{id}.mix", node: 2 },
  ],
  encode: ["sum", "mix"],
  programs: {
    sum: {
      node: 1,
      streams: [
        { name: "a", read: { block: "{id}.part0" } },
        { name: "b", read: { block: "{id}.part1" } },
        { name: "s", write: "{id}.sum" },
      ],
      instructions: [["LOAD", "x", "a"], ["LOAD", "y", "b"], ["IADD", "x", "y"], [
        "WRITE",
        "x",
        "s",
      ]],
    },
    mix: {
      node: 2,
      streams: [
        { name: "a", read: { block: "{id}.part0" } },
        { name: "b", read: { block: "{id}.part1" } },
        { name: "s", write: "{id}.mix" },
      ],
      instructions: [
        ["LOAD", "x", "a"],
        ["LOAD", "y", "b"],
        ["MULADD", "x", 2, "y"],
        ["WRITE", "x", "s"],
      ],
    },
  },
};

Deno.test("deriveDecodePlan: refuses undecodable and malformed survivor sets", () => {
  assertCode(
    () => deriveDecodePlan(rs, [0, 1, 2]),
    "SINGULAR",
    /coded blocks \{0, 1, 2\} have rank 3 < k = 11: not decodable/,
  );
  assertCode(() => deriveDecodePlan(rs, [0, 0, 1]), "BAD_REQUEST", /listed twice/);
  assertCode(() => deriveDecodePlan(rs, [16]), "BAD_REQUEST", /coded block 16 does not exist/);
  assertCode(
    () => deriveDecodePlan(rs, [...Array(11).keys()], { coordinator: 16 }),
    "BAD_REQUEST",
    /coordinator 16 is not a node/,
  );
});

Deno.test("deriveDecodePlan: uses the first independent survivors, in the given order", () => {
  // c2 and c0 are independent, so k = 2 rows are found before c1 and c3 are looked at.
  const plan = deriveDecodePlan(twoPerNode, [2, 0, 1, 3]);
  assert.deepEqual([...plan.used], [2, 0]);
  // D · [c2; c0] = I: p0 = c0, p1 = c2 + c0.
  assert.deepEqual(plan.decodeMatrix, [Uint8Array.of(0, 1), Uint8Array.of(1, 1)]);
});

Deno.test("deriveDecodePlan: the default coordinator stores the most used survivors", () => {
  const plan = deriveDecodePlan(twoPerNode, [1, 2]);
  assert.equal(plan.coordinator, 1);
  // Both survivors are local to node 1: no network read.
  for (const s of plan.program.streams) {
    if ("read" in s) assert.ok(!("node" in s.read), JSON.stringify(s));
  }
  const elsewhere = deriveDecodePlan(twoPerNode, [1, 2], { coordinator: 3 });
  assert.equal(elsewhere.coordinator, 3);
  for (const s of elsewhere.program.streams) {
    if ("read" in s && "block" in s.read) assert.equal(s.read.node, 1);
  }
  assert.equal(deriveDecodePlan(twoPerNode, [0, 3]).coordinator, 0);
});

Deno.test("deriveDecodePlan: systematic survivors are passed through without arithmetic", () => {
  const plan = deriveDecodePlan(rs, [...Array(11).keys()]);
  const ops = plan.program.instructions.map((i) => i[0]);
  assert.deepEqual(ops, [...Array(11).fill("LOAD"), ...Array(11).fill("WRITE")]);
  // A parity among the survivors: only the missing part is computed, with one MULT.
  const one = deriveDecodePlan(rs, [11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const ins = one.program.instructions;
  assert.equal(ins.filter((i) => i[0] === "MULT").length, 1);
  assert.equal(ins.filter((i) => i[0] === "MULADD").length, 10);
});

Deno.test("deriveDecodePlan: output 'parts' writes {id}.orig<j> on the coordinator", () => {
  const plan = deriveDecodePlan(rapidraid, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15]);
  assert.equal(plan.output, "parts");
  assert.deepEqual(plan.entries, ["decode"]);
  assert.deepEqual(plan.partOutputs, [...Array(11).keys()].map((j) => `{id}.orig${j}`));
  const extended = validateModule(withPrograms(rapidraid, plan.programs), "test");
  const run = runSymbolic(extended, plan.entries);
  for (let j = 0; j < 11; j++) {
    const w = run.written.get(`{id}.orig${j}`)!;
    assert.equal(w.node, plan.coordinator);
    assert.deepEqual(Array.from(w.vector), [...Array(11).keys()].map((t) => t === j ? 1 : 0));
  }
});

Deno.test("deriveDecodePlan: output 'stream' streams part j from <name>_part<j>", () => {
  const plan = deriveDecodePlan(rapidraid, [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], {
    output: "stream",
    name: "dec",
  });
  assert.deepEqual(plan.partOutputs, [...Array(11).keys()].map((j) => `dec_part${j}`));
  assert.deepEqual(plan.entries, ["dec", ...plan.partOutputs]);
  assert.equal(plan.program.output, undefined);
  const extended = validateModule(withPrograms(rapidraid, plan.programs), "test");
  const run = runSymbolic(extended, plan.entries);
  assert.equal(run.written.size, 0);
  plan.partOutputs.forEach((name, j) => {
    assert.equal(extended.programs[name]!.node, plan.coordinator);
    assert.deepEqual(
      Array.from(run.outputs.get(name)!),
      [...Array(11).keys()].map((t) => t === j ? 1 : 0),
    );
  });
});

Deno.test("deriveRepairProgram: rebuilds a block from a rank-deficient but sufficient set", () => {
  // c1 = 5·p0 is rebuilt from c0 = p0 alone, though {c0} (rank 1) cannot decode (k = 2).
  const local: CodingModule = {
    ...twoPerNode,
    n: 3,
    coded: [
      { block: "{id}.part0", node: 0 },
      { block: "{id}.five", node: 1 },
      { block: "{id}.part1", node: 2 },
    ],
    encode: "five",
    programs: {
      five: {
        node: 1,
        streams: [{ name: "a", read: { block: "{id}.part0" } }, { name: "f", write: "{id}.five" }],
        instructions: [["LOAD", "x", "a"], ["MULT", "y", 5, "x"], ["WRITE", "y", "f"]],
      },
    },
  };
  const fromOne = deriveRepairProgram(local, 1, [2, 0]);
  assert.deepEqual(fromOne.streams.map((s) => s.name), ["coded0", "repaired"]);
  assert.deepEqual(programOutputs(local, fromOne).written.get("{id}.five"), Uint8Array.of(5, 0));
  assertCode(() => deriveDecodePlan(local, [0, 1]), "SINGULAR", /rank 1 < k = 2/);
  // c3 = p0 + 2·p1 = c0 + 2·c1, on c3's node.
  const program = deriveRepairProgram(twoPerNode, 3, [0, 1]);
  assert.equal(program.node, 2);
  const w = programOutputs(twoPerNode, program).written.get("{id}.mix");
  assert.deepEqual(w, generatorMatrix(twoPerNode)[3]);
  assert.deepEqual(w, Uint8Array.of(1, gf256.mul(2, 1)));
  // Elsewhere, when asked.
  assert.equal(deriveRepairProgram(twoPerNode, 3, [0, 1], { node: 0 }).node, 0);
});

Deno.test("deriveRepairProgram: refuses what it cannot rebuild", () => {
  assertCode(
    () => deriveRepairProgram(twoPerNode, 3, [0]),
    "SINGULAR",
    /coded block 3 is not a combination of coded blocks \{0\} \(rank 1\)/,
  );
  assertCode(
    () => deriveRepairProgram(twoPerNode, 3, [3, 0]),
    "BAD_REQUEST",
    /among the survivors/,
  );
  assertCode(() => deriveRepairProgram(twoPerNode, 4, [0]), "BAD_REQUEST", /does not exist/);
});

Deno.test("withPrograms: adds programs, refuses a name clash", () => {
  const plan = deriveDecodePlan(rsModule(2, 1), [0, 2]);
  const m = withPrograms(rsModule(2, 1), plan.programs);
  assert.ok(Object.hasOwn(m.programs, "decode"));
  assertCode(() => withPrograms(m, plan.programs), "BAD_REQUEST", /"decode" already exists/);
});
