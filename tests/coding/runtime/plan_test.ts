import assert from "node:assert/strict";
import * as gf256 from "../../../src/gf/gf256.ts";
import { Executor } from "../../../src/coding/runtime/interpreter.ts";
import { compile } from "../../../src/coding/runtime/plan.ts";
import { referenceKernels } from "../../../src/gf/region_ref.ts";
import type { RunContext } from "../../../src/coding/runtime/program_run.ts";
import type { Instruction, Program } from "../../../src/coding/lang/program.ts";
import { bytes, evaluate, MemoryResolver, moduleOf, smallPool } from "./interpreter_support.ts";

const C = 4096;

function context(pool = smallPool(), extra: Partial<RunContext> = {}): RunContext {
  return { objectId: "obj", runId: crypto.randomUUID(), pool, chunkSize: C, ...extra };
}

const mulBytes = (c: number, data: Uint8Array): Uint8Array => data.map((x) => gf256.mul(c, x));
const xorBytes = (a: Uint8Array, b: Uint8Array): Uint8Array => a.map((x, i) => x ^ b[i]!);

/**
 * A random valid program over inputs i0..i{k-1}, writing some buffers. With `copies`, COPYs
 * followed by MULADDs into their destination, their source and others come often (the
 * pipelined shape `stream = prev + ...`, `prev += ...` and its variations).
 */
function randomProgram(seed: number, inputs: number, copies = false): Program {
  const random = bytes(4096, seed);
  let r = 0;
  const next = (n: number): number => random[r++ % random.length]! % n;
  const names = ["a", "b", "c", "d", "e", "f", "g"];
  const defined: string[] = [];
  const instructions: Instruction[] = [];
  for (let i = 0; i < inputs; i++) {
    instructions.push(["LOAD", names[i]!, `i${i}`]);
    defined.push(names[i]!);
  }
  const count = 4 + next(20);
  for (let i = 0; i < count; i++) {
    const src = defined[next(defined.length)]!;
    const dst = names[next(names.length)]!;
    const isDefined = defined.includes(dst);
    const c = next(256);
    // Mostly MULT/MULADD (what fusion looks at), some COPY/IADD in between.
    const kind = next(10);
    if (copies && kind < 4 && dst !== src) {
      instructions.push(["COPY", dst, src]);
      if (!isDefined) defined.push(dst);
      // 1..3 MULADDs into the copy, its source or another defined buffer.
      for (let m = 1 + next(3); m > 0; m--) {
        const into = [dst, src, defined[next(defined.length)]!][next(3)]!;
        instructions.push(["MULADD", into, next(256), defined[next(defined.length)]!]);
      }
    } else if (kind < 4 || !isDefined) {
      if (kind === 9 && dst !== src) instructions.push(["COPY", dst, src]);
      else instructions.push(["MULT", dst, c, src]);
      if (!isDefined) defined.push(dst);
    } else if (kind < 8) {
      instructions.push(["MULADD", dst, c, src]);
    } else {
      instructions.push(["IADD", dst, src]);
    }
  }
  const written = defined.slice(0, 3);
  return {
    node: 0,
    streams: [
      ...Array.from(
        { length: inputs },
        (_, i) => ({ name: `i${i}`, read: { block: `{id}.i${i}` } }),
      ),
      ...written.map((b) => ({ name: `w_${b}`, write: `{id}.${b}` })),
    ],
    output: defined[defined.length - 1]!,
    instructions: [
      ...instructions,
      ...written.map((b): Instruction => ["WRITE", b, `w_${b}`]),
    ],
  };
}

for (const copies of [false, true]) {
  const what = copies ? "random programs with COPY + MULADD runs" : "random programs";
  Deno.test(`fusion: ${what} give the same bytes fused, unfused and by reference`, async () => {
    let fusedSomething = 0;
    // COPYs joined to their run, and among them ones whose source the run adds to as well.
    let joinedCopies = 0;
    let sourceAlsoAddedTo = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const k = 1 + seed % 4;
      const program = randomProgram(seed, k, copies);
      for (const op of compile("p", program, { p: program }, true).ops) {
        if (!("froms" in op) || op.froms === undefined) continue;
        joinedCopies++;
        if (op.froms.some((from, i) => from !== op.outs[i] && op.outs.includes(from))) {
          sourceAlsoAddedTo++;
        }
      }
      const module = moduleOf({ p: program });
      const data: Record<string, Uint8Array> = {};
      for (let i = 0; i < k; i++) data[`i${i}`] = bytes(2 * C + 77, seed * 31 + i);
      const expected = evaluate(module.programs.p!, 8, data);
      // Fused with the arena's kernels (dotProductAdd reads its from regions in one pass), with
      // kernels that copy them (ISA-L's way: the run does the COPY and adds in place), unfused.
      const variants = [
        { fuse: true, kernels: undefined },
        { fuse: true, kernels: { ...referenceKernels } },
        { fuse: false, kernels: undefined },
      ];
      for (const { fuse, kernels } of variants) {
        const pool = smallPool();
        const resolver = new MemoryResolver(pool, data);
        const executor = new Executor(module, "p", { fuse });
        if (fuse) fusedSomething += executor.fusedInstructions;
        else assert.equal(executor.fusedInstructions, 0);
        const parts: Uint8Array[] = [];
        const extra = kernels === undefined ? {} : { kernels };
        await executor.run(resolver, context(pool, extra), (b, n) => {
          parts.push(b.bytes.slice(0, n));
          b.release();
        });
        const streamed = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        parts.forEach((p, i) => streamed.set(p, i * C));
        for (const s of program.streams) {
          if (!("write" in s)) continue;
          const block = s.write.replace("{id}", "obj");
          assert.deepEqual(
            resolver.committed.get(block),
            expected.get(s.name),
            `seed ${seed} ${s.name}`,
          );
        }
        assert.deepEqual(streamed, expected.get("@output"), `seed ${seed} output fuse=${fuse}`);
        assert.equal(pool.inUse, 0);
      }
    }
    assert.ok(fusedSomething > 20, `fusion applied to ${fusedSomething} instructions`);
    if (copies) {
      assert.ok(
        joinedCopies > 10 && sourceAlsoAddedTo > 3,
        `${joinedCopies}, ${sourceAlsoAddedTo}`,
      );
    }
  });
}

Deno.test("fusion: a Reed-Solomon style encode becomes one dotProduct", async () => {
  const k = 4;
  const m = 3;
  const instructions: Instruction[] = [];
  for (let j = 0; j < k; j++) instructions.push(["LOAD", `d${j}`, `i${j}`]);
  const coefficient = (p: number, j: number): number => gf256.inv(p ^ (m + j)); // Cauchy
  for (let p = 0; p < m; p++) {
    for (let j = 0; j < k; j++) {
      instructions.push([j === 0 ? "MULT" : "MULADD", `p${p}`, coefficient(p, j), `d${j}`]);
    }
  }
  // A repeated pair adds up: c·d0 + c·d0 = 0, so p0 is unchanged by these two.
  instructions.push(["MULADD", "p0", 77, "d1"], ["MULADD", "p0", 77, "d1"]);
  for (let p = 0; p < m; p++) instructions.push(["WRITE", `p${p}`, `o${p}`]);
  const program: Program = {
    node: 0,
    streams: [
      ...Array.from({ length: k }, (_, j) => ({ name: `i${j}`, read: { block: `{id}.d${j}` } })),
      ...Array.from({ length: m }, (_, p) => ({ name: `o${p}`, write: `{id}.p${p}` })),
    ],
    instructions,
  };
  const module = moduleOf({ p: program });
  const executor = new Executor(module, "p");
  assert.equal(executor.fusedInstructions, k * m + 2);
  const data: Record<string, Uint8Array> = {};
  for (let j = 0; j < k; j++) data[`i${j}`] = bytes(3 * C + 1, 40 + j);
  const pool = smallPool();
  const resolver = new MemoryResolver(pool, data);
  await executor.run(resolver, context(pool));
  for (let p = 0; p < m; p++) {
    let parity: Uint8Array = new Uint8Array(3 * C + 1);
    for (let j = 0; j < k; j++) {
      parity = xorBytes(parity, mulBytes(coefficient(p, j), data[`i${j}`]!));
    }
    assert.deepEqual(resolver.committed.get(`obj.p${p}`), parity);
  }
  assert.equal(pool.inUse, 0);
});

Deno.test("fusion: MULADD runs into earlier buffers, and a COPY before, become one dotProductAdd", () => {
  const program = (tail: Instruction[]): Program => ({
    node: 0,
    streams: [
      { name: "in", read: { block: "{id}.in" } },
      { name: "in2", read: { block: "{id}.in2" } },
    ],
    output: "s",
    instructions: [["LOAD", "x", "in"], ["LOAD", "y", "in2"], ["COPY", "s", "y"], ...tail],
  });
  const fused = (tail: Instruction[]): number =>
    new Executor(moduleOf({ p: program(tail) }), "p").fusedInstructions;
  // Adding into buffers defined before the run: one dotProductAdd, the COPY into s before it
  // joined (s = y + 3·x, y += 5·x).
  assert.equal(fused([["MULADD", "s", 3, "x"], ["MULADD", "y", 5, "x"]]), 3);
  // A COPY into a buffer the run does not add to stays a COPY; the run is fused.
  assert.equal(fused([["MULADD", "y", 5, "x"], ["MULADD", "y", 7, "x"]]), 2);
  // The run ends where a destination is also a source: the COPY joins the one MULADD before.
  assert.equal(fused([["MULADD", "s", 3, "x"], ["MULADD", "x", 5, "y"]]), 2);
  assert.equal(fused([["MULADD", "s", 3, "x"], ["MULADD", "y", 5, "s"]]), 2);
  // A MULT's run stops at a MULADD into a buffer it did not define; a lone MULADD stays one.
  assert.equal(fused([["MULT", "a", 2, "x"], ["MULADD", "s", 3, "x"]]), 0);
  // The second MULT reads the first one's destination.
  assert.equal(fused([["MULT", "a", 2, "x"], ["MULT", "b", 3, "a"]]), 0);
  // Independent MULTs from the same sources fuse.
  assert.equal(fused([["MULT", "a", 2, "x"], ["MULT", "b", 3, "x"], ["MULADD", "b", 4, "y"]]), 3);
  // In-place MULT (dst === src) is never fused.
  assert.equal(fused([["MULT", "x", 2, "x"], ["MULT", "b", 3, "y"]]), 0);
});

Deno.test("fusion: a RapidRAID node's COPY and four MULADDs are one dotProductAdd, same bytes", async () => {
  const { codingModule: rapidraid } = await import("../../../coding/rapidraid.ts");
  // Node 7 holds parts 2 and 7: stream = prev + ψ·local2 + ψ·local7, prev += ξ·local2 + ξ·local7.
  const node7 = rapidraid.programs.enc_node7!;
  assert.equal(
    node7.instructions.map((i) => i[0]).join(" "),
    "LOAD LOAD LOAD COPY MULADD MULADD MULADD MULADD WRITE",
  );
  // The same program reading what it pulls from node 6 from a block instead.
  const program: Program = {
    ...node7,
    node: 0,
    streams: node7.streams.map((s) =>
      "read" in s && "program" in s.read ? { name: s.name, read: { block: "{id}.prev" } } : s
    ),
  };
  const module = moduleOf({ p: program });
  const data: Record<string, Uint8Array> = {};
  program.streams.forEach((s, i) => {
    if ("read" in s) data[s.name] = bytes(2 * C + 5, 70 + i);
  });
  const expected = evaluate(module.programs.p!, 8, data);
  for (const fuse of [true, false]) {
    const executor = new Executor(module, "p", { fuse });
    assert.equal(executor.fusedInstructions, fuse ? 5 : 0);
    const pool = smallPool();
    const resolver = new MemoryResolver(pool, data);
    const parts: Uint8Array[] = [];
    await executor.run(resolver, context(pool), (b, n) => {
      parts.push(b.bytes.slice(0, n));
      b.release();
    });
    const streamed = new Uint8Array(2 * C + 5);
    parts.forEach((p, i) => streamed.set(p, i * C));
    assert.deepEqual(streamed, expected.get("@output"), `stream, fuse=${fuse}`);
    assert.deepEqual(resolver.committed.get("obj.coded7"), expected.get("coded7"), `fuse=${fuse}`);
    assert.equal(pool.inUse, 0);
  }
});
