/**
 * The coding SDK (`src/coding/mod.ts`, specifier `cdfs/coding`): typed instruction builders,
 * coefficient tables as text, `linearModule`, and loading a module that imports the SDK by its
 * specifier from a directory outside the repository.
 */
import assert from "node:assert/strict";
import { referenceKernels } from "../../src/gf/region_ref.ts";
import {
  analyze,
  cauchy,
  coefficientTable,
  defineProgram,
  deriveRepairProgram,
  fieldRank,
  generatorMatrix,
  linearModule,
  loadCodingModule,
  pipelinedModule,
  type Program,
  programOutputs,
  pull,
  rapidRaidModule,
  rapidRaidPlacement,
  readBlock,
  systematicCauchyGenerator,
  writeBlock,
} from "cdfs/coding";
import { rsModule } from "../../coding/rs.ts";
import { replicationModule } from "../../coding/replication.ts";
import { codingModule as rapidraid, RAPIDRAID_COEFFICIENTS } from "../../coding/rapidraid.ts";
import { combinations, decodeLocal, encodeLocal, randomBytes, rng } from "./code_harness.ts";

/** LRC (6,2,2): 6 data parts, one XOR parity per group of 3 (local), 2 Cauchy rows (global). */
const LRC_GENERATOR: number[][] = [
  ...Array.from({ length: 6 }, (_, j) => Array.from({ length: 6 }, (_, t) => t === j ? 1 : 0)),
  [1, 1, 1, 0, 0, 0],
  [0, 0, 0, 1, 1, 1],
  ...cauchy(2, 6).map((row) => Array.from(row)),
];

Deno.test("defineProgram: the same data as a literal program", () => {
  const built = defineProgram({
    node: 1,
    streams: [pull("enc_node0"), readBlock("part1", "{id}.part1"), writeBlock("c1", "{id}.c1")],
    buffers: ["prev", "local", "stream"],
    queues: ["q"],
    output: "stream",
  }, (op) => [
    op.load("local", "part1"),
    op.load("prev", "enc_node0"),
    op.copy("stream", "prev"),
    op.iadd("stream", "local"),
    op.mult("local", 3, "local"),
    op.muladd("prev", 7, "local"),
    op.push("q", "prev"),
    op.pop("q", "prev"),
    op.write("prev", "c1"),
  ]);
  const literal: Program = {
    node: 1,
    streams: [
      { name: "enc_node0", read: { program: "enc_node0" } },
      { name: "part1", read: { block: "{id}.part1" } },
      { name: "c1", write: "{id}.c1" },
    ],
    output: "stream",
    instructions: [
      ["LOAD", "local", "part1"],
      ["LOAD", "prev", "enc_node0"],
      ["COPY", "stream", "prev"],
      ["IADD", "stream", "local"],
      ["MULT", "local", 3, "local"],
      ["MULADD", "prev", 7, "local"],
      ["PUSH", "q", "prev"],
      ["POP", "q", "prev"],
      ["WRITE", "prev", "c1"],
    ],
  };
  assert.deepEqual(built, literal);
  // A local program has no `output` key at all.
  const local = defineProgram(
    { node: 0, streams: [readBlock("a", "{id}.a"), writeBlock("b", "{id}.b")] },
    (op) => [op.load("x", "a"), op.write("x", "b")],
  );
  assert.equal(Object.hasOwn(local, "output"), false);
});

Deno.test("defineProgram: typos are type errors, and run-time errors for computed names", () => {
  const streams = [readBlock("part0", "{id}.part0"), writeBlock("coded0", "{id}.coded0")] as const;
  const spec = { node: 0, streams, buffers: ["temp"] } as const;
  // Each of these is rejected by the type checker (this file is type-checked by `deno test`)
  // and, for callers without types, when the program is built.
  assert.throws(
    // @ts-expect-error: "part1" is not a declared stream
    () => defineProgram(spec, (op) => [op.load("temp", "part1")]),
    /instruction 0 \(LOAD temp part1\): 'part1' is not a declared input stream/,
  );
  assert.throws(
    // @ts-expect-error: WRITE to an input stream
    () => defineProgram(spec, (op) => [op.load("temp", "part0"), op.write("temp", "part0")]),
    /instruction 1 \(WRITE temp part0\): 'part0' is not a declared output stream/,
  );
  assert.throws(
    // @ts-expect-error: "tmep" is not a declared buffer
    () => defineProgram(spec, (op) => [op.load("tmep", "part0")]),
    /'tmep' is not a declared buffer/,
  );
  assert.throws(
    // @ts-expect-error: the output is not a declared buffer
    () => defineProgram({ ...spec, output: "stream" }, (op) => [op.load("temp", "part0")]),
    /output 'stream' is not a declared buffer/,
  );
  assert.throws(
    // @ts-expect-error: "queue" is not a declared queue
    () => defineProgram({ ...spec, queues: ["q"] }, (op) => [op.push("queue", "temp")]),
    /'queue' is not a declared queue/,
  );
  assert.throws(
    // @ts-expect-error: an instruction name that does not exist
    () => defineProgram(spec, (op) => [op.muladdd("temp", 1, "temp")]),
    /op.muladdd is not a function/,
  );
  assert.throws(
    // @ts-expect-error: operands in the wrong order (the coefficient is the second operand)
    () => defineProgram(spec, (op) => [op.mult("temp", "temp", 3)]),
    /'3' is not a declared buffer/,
  );
});

Deno.test("coefficientTable: a table as white-space-separated text", () => {
  assert.deepEqual(coefficientTable(8, "t", " 1  2\n 255 "), [1, 2, 255]);
  assert.deepEqual(coefficientTable(16, "t", "65535 0", true), [65535, 0]);
  assert.throws(() => coefficientTable(8, "t", "1 256"), /t\[1\] = 256 is not a nonzero element/);
  assert.throws(() => coefficientTable(8, "t", "1 0x2"), /t\[1\] = "0x2" is not a decimal number/);
});

Deno.test("linearModule: the rs module is linearModule of [I; Cauchy]", () => {
  const rs = rsModule(11, 5, "rs");
  const built = linearModule(systematicCauchyGenerator(11, 5), {
    coded: Array.from({ length: 16 }, (_, i) => i),
  }, { name: "rs", description: rs.description });
  assert.deepEqual(built, rs);
  assert.deepEqual(generatorMatrix(built), systematicCauchyGenerator(11, 5));
});

Deno.test("linearModule: an LRC (6,2,2) encodes to G · parts and tolerates any 3 losses", async () => {
  const lrc = linearModule(LRC_GENERATOR, { coded: Array.from({ length: 10 }, (_, i) => i) }, {
    name: "lrc_6_2_2",
  });
  assert.equal(lrc.description, "linear (10,6) code in GF(2^8)");
  assert.deepEqual(generatorMatrix(lrc).map((r) => Array.from(r)), LRC_GENERATOR);
  assert.deepEqual(lrc.encode, [
    "encode_parity",
    "store_parity1",
    "store_parity2",
    "store_parity3",
    ...Array.from({ length: 6 }, (_, j) => `copy_data${j}`),
  ]);
  // Not MDS, but every loss of 3 blocks decodes and some losses of 4 do not.
  const { isMds, generator } = analyze(lrc);
  assert.equal(isMds, false);
  const rankOf = (s: number[]) => fieldRank(8, s.map((i) => generator[i]!));
  assert.ok([...combinations(10, 7)].every((s) => rankOf(s) === 6));
  assert.ok([...combinations(10, 6)].some((s) => rankOf(s) < 6));

  const next = rng(21);
  const parts = Array.from({ length: 6 }, () => randomBytes(next, 333));
  const coded = await encodeLocal(lrc, "obj", parts, 64);
  const parity = LRC_GENERATOR.slice(6).map(() => new Uint8Array(333));
  referenceKernels.dotProduct(parity, LRC_GENERATOR.slice(6).map((r) => Uint8Array.from(r)), parts);
  assert.deepEqual(coded, [...parts, ...parity]);
  for (const [index, survivors] of [...combinations(10, 7)].entries()) {
    if (index % 7 !== 0) continue; // 18 of the 120 losses of 3, on bytes
    const output = index % 2 === 0 ? "parts" : "stream";
    assert.deepEqual(await decodeLocal(lrc, "obj", coded, survivors, output, 64), parts);
  }
  // A lost data block is a combination of its local group: repair reads 3 blocks, not 6.
  const repair = deriveRepairProgram(lrc, 1, [0, 2, 6]);
  assert.equal(repair.streams.length, 4);
  assert.deepEqual(programOutputs(lrc, repair).written.get("{id}.coded1"), generator[1]);
});

Deno.test("linearModule: placement of parts, coordinator, copies and local parities", async () => {
  // (3,2) on 3 nodes: part 0 on node 2, part 1 on nodes 1 and 2; the coordinator (node 2)
  // holds both parts and stores two of the coded blocks itself.
  const g = [[3, 5], [0, 1], [1, 1], [0, 1]];
  const m = linearModule(g, { coded: [2, 1, 2, 0], parts: [[2], [1, 2]], coordinator: 2 }, {
    name: "odd",
    description: "a test code",
  });
  assert.deepEqual(m.parts.map((p) => p.nodes), [[2], [1, 2]]);
  const encode = m.programs.encode_parity!;
  assert.equal(encode.node, 2);
  // Parts read locally; rows 0 and 2 written by the coordinator, no queue for them.
  assert.deepEqual(encode.streams.map((s) => "read" in s ? s.read : s.name), [
    { block: "{id}.part0" },
    { block: "{id}.part1" },
    "parity0",
    "parity1",
  ]);
  assert.deepEqual(Object.keys(m.programs), ["encode_parity", "copy_data1", "copy_data1_3"]);
  assert.deepEqual(m.programs.copy_data1!.streams[0], {
    name: "part",
    read: { block: "{id}.part1" },
  });
  assert.deepEqual(m.programs.copy_data1_3!.streams[0], {
    name: "part",
    read: { block: "{id}.part1", node: 1 },
  });
  const parts = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)];
  const coded = await encodeLocal(m, "o", parts, 2);
  assert.deepEqual(generatorMatrix(m).map((r) => Array.from(r)), g);
  assert.deepEqual(coded[1], parts[1]);
  assert.deepEqual(coded[2], Uint8Array.of(1 ^ 4, 2 ^ 5, 3 ^ 6));
  assert.deepEqual(await decodeLocal(m, "o", coded, [0, 2], "parts", 2), parts);
});

Deno.test("linearModule: GF(2^16) and a replication code", async () => {
  const wide = linearModule([[1, 0], [0, 1], [1, 40000]], { coded: [0, 1, 2] }, {
    name: "wide",
    field: 16,
  });
  assert.equal(wide.field, 16);
  const parts = [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(5, 6, 7, 8)];
  const coded = await encodeLocal(wide, "w", parts, 2);
  assert.deepEqual(await decodeLocal(wide, "w", coded, [2, 0], "stream", 2), parts);
  // Three copies: the same generator as replicationModule(3), programs named by part.
  const copies = linearModule([[1], [1], [1]], { coded: [0, 1, 2], parts: [[0]] }, {
    name: "copies",
  });
  assert.deepEqual(generatorMatrix(copies), generatorMatrix(replicationModule(3)));
  assert.deepEqual(copies.encode, ["copy_data0", "copy_data0_1", "copy_data0_2"]);
});

Deno.test("linearModule: a generator or placement that does not fit is a RangeError", () => {
  const id = [[1, 0], [0, 1]];
  const bad: [() => unknown, RegExp][] = [
    [() => linearModule([], { coded: [] }, { name: "x" }), /empty/],
    [() => linearModule([[1, 0], [1]], { coded: [0, 1] }, { name: "x" }), /row 1 has 1 entries/],
    [() => linearModule([[1, 0], [0, 0]], { coded: [0, 1] }, { name: "x" }), /row 1 is zero/],
    [() => linearModule([[1, 1], [2, 2]], { coded: [0, 1] }, { name: "x" }), /rank 1 < k = 2/],
    [() => linearModule([[1, 256], [0, 1]], { coded: [0, 1] }, { name: "x" }), /\[0\]\[1\] = 256/],
    [() => linearModule(id, { coded: [0] }, { name: "x" }), /1 coded blocks, the generator 2/],
    [() => linearModule(id, { coded: [0, 2] }, { name: "x" }), /coded block 1 is 2, not a node/],
    [() => linearModule(id, { coded: [0, 1], parts: [[0]] }, { name: "x" }), /1 parts/],
    [() => linearModule(id, { coded: [0, 1], parts: [[0], []] }, { name: "x" }), /on no node/],
    [() => linearModule(id, { coded: [0, 1], coordinator: 5 }, { name: "x" }), /coordinator/],
  ];
  for (const [build, message] of bad) {
    assert.throws(build, (e) => e instanceof RangeError && message.test(e.message));
  }
  // The validator still checks the rest, e.g. the name.
  assert.throws(() => linearModule(id, { coded: [0, 1] }, { name: "Bad Name" }), /Bad Name/);
});

Deno.test("a module outside the repository imports the SDK as cdfs/coding and loads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-sdk-" });
  try {
    await Deno.writeTextFile(
      `${dir}/lrc_sdk.ts`,
      `import { cauchy, linearModule } from "cdfs/coding";
const identity = [0, 1, 2, 3].map((j) => [0, 1, 2, 3].map((t) => (t === j ? 1 : 0)));
export const codingModule = linearModule(
  [...identity, [1, 1, 0, 0], [0, 0, 1, 1], ...cauchy(1, 4)],
  { coded: [0, 1, 2, 3, 4, 5, 6] },
  { name: "lrc_sdk" },
);
`,
    );
    const module = await loadCodingModule("lrc_sdk", { codingDirs: [dir] });
    assert.equal(module.n, 7);
    assert.deepEqual(Array.from(generatorMatrix(module)[4]!), [1, 1, 0, 0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rapidRaidPlacement: the original's replica indices for (16,11)", () => {
  const original = (i: number): { part: number; r: number }[] => {
    if (i === 0) return [{ part: 0, r: 0 }];
    if (i <= 4) return [{ part: i, r: i }];
    if (i <= 10) return [{ part: i - 5, r: 2 * i - 5 }, { part: i, r: 2 * i - 4 }];
    return [{ part: i - 5, r: i + 6 }];
  };
  assert.deepEqual(rapidRaidPlacement(16, 11), Array.from({ length: 16 }, (_, i) => original(i)));
  assert.deepEqual(
    rapidRaidModule(16, 11, RAPIDRAID_COEFFICIENTS, { name: "rapidraid" }).programs,
    rapidraid.programs,
  );
  assert.throws(() => rapidRaidPlacement(10, 4), /1 ≤ k ≤ n ≤ 2k/);
  assert.throws(() => rapidRaidModule(4, 3, { xis: [1], psis: [1] }, { name: "x" }), /2k = 6/);
});

Deno.test("pipelinedModule: the generator is the pipeline's recurrence", async () => {
  // Node 0 holds two parts, node 1 none, node 2 one.
  const m = pipelinedModule(3, [
    [{ part: 0, psi: 2, xi: 3 }, { part: 1, psi: 4, xi: 5 }],
    [],
    [{ part: 2, psi: 6, xi: 7 }],
  ], { name: "pipe" });
  assert.equal(m.description, "pipelined (3,3) code in GF(2^8)");
  // s0 = 2·o0 + 4·o1; c0 = 3·o0 + 5·o1; c1 = s0 (and s1 = s0); c2 = s1 + 7·o2.
  assert.deepEqual(generatorMatrix(m).map((r) => Array.from(r)), [[3, 5, 0], [2, 4, 0], [2, 4, 7]]);
  const parts = [Uint8Array.of(1, 2), Uint8Array.of(3, 4), Uint8Array.of(5, 6)];
  const coded = await encodeLocal(m, "p", parts, 1);
  assert.deepEqual(await decodeLocal(m, "p", coded, [0, 1, 2], "parts", 1), parts);
  assert.throws(() => pipelinedModule(1, [[]], { name: "x" }), /node 0 must hold a part/);
  assert.throws(
    () => pipelinedModule(2, [[{ part: 0, psi: 1, xi: 1 }]], { name: "x" }),
    /part 1 is held by no node/,
  );
  assert.throws(
    () => pipelinedModule(1, [[{ part: 3, psi: 1, xi: 1 }]], { name: "x" }),
    /holds part 3/,
  );
});
