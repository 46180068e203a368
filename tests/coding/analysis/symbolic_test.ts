import assert from "node:assert/strict";
import { isCdfsError } from "../../../src/core/errors.ts";
import * as gf256 from "../../../src/gf/gf256.ts";
import type { CodingModule, Program } from "../../../src/coding/lang/program.ts";
import {
  analyze,
  generatorMatrix,
  programOutputs,
  runSymbolic,
} from "../../../src/coding/analysis/symbolic.ts";

/** A (3,2) toy code: c0 = p0, c1 = p1, c2 = 3·p0 + p1 (computed on node 2 from a pull). */
function toy(overrides: Partial<CodingModule> = {}): CodingModule {
  return {
    name: "toy",
    description: "toy",
    field: 8,
    n: 3,
    k: 2,
    parts: [{ block: "{id}.part0", nodes: [0] }, { block: "{id}.part1", nodes: [1] }],
    coded: [
      { block: "{id}.coded0", node: 0 },
      { block: "{id}.coded1", node: 1 },
      { block: "{id}.coded2", node: 2 },
    ],
    encode: "enc2",
    programs: {
      enc0: {
        node: 0,
        streams: [{ name: "p", read: { block: "{id}.part0" } }, {
          name: "c",
          write: "{id}.coded0",
        }],
        output: "s",
        instructions: [["LOAD", "b", "p"], ["WRITE", "b", "c"], ["MULT", "s", 3, "b"]],
      },
      enc1: {
        node: 1,
        streams: [
          { name: "p", read: { block: "{id}.part1" } },
          { name: "c", write: "{id}.coded1" },
          { name: "up", read: { program: "enc0" } },
        ],
        output: "s",
        instructions: [
          ["LOAD", "b", "p"],
          ["LOAD", "s", "up"],
          ["WRITE", "b", "c"],
          ["IADD", "s", "b"],
        ],
      },
      enc2: {
        node: 2,
        streams: [{ name: "up", read: { program: "enc1" } }, { name: "c", write: "{id}.coded2" }],
        instructions: [["LOAD", "b", "up"], ["WRITE", "b", "c"]],
      },
    },
    ...overrides,
  };
}

function withProgram(m: CodingModule, name: string, p: Program): CodingModule {
  return { ...m, programs: { ...m.programs, [name]: p } };
}

function assertBadRequest(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isCdfsError(e, "BAD_REQUEST"), String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("generatorMatrix: rows are the coefficients of each coded block", () => {
  const g = generatorMatrix(toy());
  assert.deepEqual(g, [Uint8Array.of(1, 0), Uint8Array.of(0, 1), Uint8Array.of(3, 1)]);
});

Deno.test("generatorMatrix: MULADD onto itself gives (1 + c)·x, COPY is a copy", () => {
  const m = toy();
  const g = generatorMatrix(withProgram(m, "enc2", {
    node: 2,
    streams: [{ name: "up", read: { program: "enc1" } }, { name: "c", write: "{id}.coded2" }],
    instructions: [
      ["LOAD", "b", "up"],
      ["COPY", "x", "b"],
      ["MULADD", "b", 5, "b"], // b = (1 ^ 5)·(3, 1) = 4·(3, 1)
      ["IADD", "b", "x"], // + (3, 1)
      ["WRITE", "b", "c"],
    ],
  }));
  const c = 1 ^ 5;
  assert.deepEqual(g[2], Uint8Array.of(gf256.mul(c, 3) ^ 3, gf256.mul(c, 1) ^ 1));
});

Deno.test("generatorMatrix: a coded block may be a part kept in place", () => {
  const m = toy({
    coded: [
      { block: "{id}.part0", node: 0 },
      { block: "{id}.coded1", node: 1 },
      { block: "{id}.coded2", node: 2 },
    ],
  });
  // enc0 still writes coded0, which is not a coded block now: that is allowed.
  assert.deepEqual(generatorMatrix(m)[0], Uint8Array.of(1, 0));
});

Deno.test("generatorMatrix: GF(2^16) arithmetic (2 · 32768 = 4107)", () => {
  const m: CodingModule = {
    ...toy(),
    field: 16,
    programs: {
      ...toy().programs,
      enc0: {
        node: 0,
        streams: [{ name: "p", read: { block: "{id}.part0" } }, {
          name: "c",
          write: "{id}.coded0",
        }],
        output: "s",
        instructions: [
          ["LOAD", "b", "p"],
          ["MULT", "t", 32768, "b"],
          ["WRITE", "t", "c"],
          ["MULT", "s", 2, "t"],
        ],
      },
    },
  };
  const g = generatorMatrix(m);
  assert.deepEqual(g[0], Uint16Array.of(32768, 0));
  assert.deepEqual(g[2], Uint16Array.of(4107, 1));
});

Deno.test("generatorMatrix: errors name the problem", () => {
  const m = toy();
  assertBadRequest(
    () => generatorMatrix(toy({ coded: [...m.coded.slice(0, 2), { block: "{id}.x", node: 2 }] })),
    /coded block 2 \("\{id\}\.x"\) is never written/,
  );
  assertBadRequest(
    () =>
      generatorMatrix(toy({ coded: [...m.coded.slice(0, 2), { block: "{id}.coded2", node: 1 }] })),
    /written on node 2 .* stores it on node 1/,
  );
  // Two programs write the same block.
  assertBadRequest(
    () =>
      generatorMatrix(withProgram(m, "enc2", {
        node: 2,
        streams: [{ name: "up", read: { program: "enc1" } }, {
          name: "c",
          write: "{id}.coded1",
        }],
        instructions: [["LOAD", "b", "up"], ["WRITE", "b", "c"]],
      })),
    /block "\{id\}\.coded1" is written twice \(also by "enc1"\)/,
  );
  // A part read from a node that does not hold it.
  assertBadRequest(
    () =>
      generatorMatrix(withProgram(m, "enc0", {
        ...m.programs.enc0!,
        streams: [{ name: "p", read: { block: "{id}.part1" } }, {
          name: "c",
          write: "{id}.coded0",
        }],
      })),
    /reads part block "\{id\}\.part1" from node 0, but the module places it on node\(s\) 1/,
  );
  // The encode reading a coded block it produces.
  assertBadRequest(
    () =>
      generatorMatrix(withProgram(m, "enc0", {
        ...m.programs.enc0!,
        streams: [{ name: "p", read: { block: "{id}.coded1", node: 1 } }, {
          name: "c",
          write: "{id}.coded0",
        }],
      })),
    /reads coded block "\{id\}\.coded1", which it produces/,
  );
  assertBadRequest(() => generatorMatrix(toy({ n: 4 })), /n = 4 but 3 coded blocks/);
});

Deno.test("runSymbolic: a pull cycle is refused", () => {
  const m = toy();
  const cyclic = withProgram(m, "enc0", {
    ...m.programs.enc0!,
    streams: [...m.programs.enc0!.streams, { name: "loop", read: { program: "enc1" } }],
    instructions: [...m.programs.enc0!.instructions, ["LOAD", "z", "loop"]],
  });
  assertBadRequest(
    () => runSymbolic(cyclic, "enc2"),
    /pull each other in a cycle: enc1 -> enc0 -> enc1/,
  );
});

Deno.test("runSymbolic: a program with side effects pulled twice is refused", () => {
  const m = withProgram(toy(), "other", {
    node: 2,
    streams: [{ name: "up", read: { program: "enc0" } }, { name: "c", write: "{id}.other" }],
    instructions: [["LOAD", "b", "up"], ["WRITE", "b", "c"]],
  });
  assertBadRequest(() => runSymbolic(m, ["enc2", "other"]), /"enc0" .* would run 2 times/);
});

/** A module whose node-0 programs talk through queues; `pushes`/`pops` vary the counts. */
function queued(pusher: Program["instructions"], popper: Program["instructions"]): CodingModule {
  return {
    name: "q",
    description: "q",
    field: 8,
    n: 2,
    k: 1,
    parts: [{ block: "{id}.part0", nodes: [0] }],
    coded: [{ block: "{id}.coded0", node: 0 }, { block: "{id}.coded1", node: 1 }],
    encode: ["main", "store"],
    programs: {
      main: {
        node: 0,
        streams: [{ name: "p", read: { block: "{id}.part0" } }, {
          name: "c",
          write: "{id}.coded0",
        }],
        instructions: pusher,
      },
      aux: { node: 0, streams: [], output: "o", instructions: popper },
      store: {
        node: 1,
        streams: [{ name: "in", read: { program: "aux" } }, { name: "c", write: "{id}.coded1" }],
        instructions: [["LOAD", "b", "in"], ["WRITE", "b", "c"]],
      },
    },
  };
}

Deno.test("runSymbolic: PUSH/POP move vectors in FIFO order, pushers run first", () => {
  const m = queued(
    [
      ["LOAD", "b", "p"],
      ["MULT", "x", 2, "b"],
      ["MULT", "y", 3, "b"],
      ["PUSH", "q", "x"],
      ["PUSH", "q", "y"],
      ["WRITE", "b", "c"],
    ],
    [["POP", "q", "first"], ["POP", "q", "second"], ["MULT", "o", 1, "second"]],
  );
  // "store" is listed last but "aux" (which pops) must run after "main" (which pushes).
  const run = runSymbolic({ ...m, encode: ["store", "main"] }, ["store", "main"]);
  assert.deepEqual(run.written.get("{id}.coded1")?.vector, Uint8Array.of(3));
  assert.ok(run.order.indexOf("main") < run.order.indexOf("aux"));
});

Deno.test("runSymbolic: unbalanced or unpaired queues are refused", () => {
  assertBadRequest(
    () =>
      generatorMatrix(queued(
        [["LOAD", "b", "p"], ["PUSH", "q", "b"], ["PUSH", "q", "b"], ["WRITE", "b", "c"]],
        [["POP", "q", "o"]],
      )),
    /"main" pushes 1 more buffer\(s\) per step to queue "q" on node 0 than "aux" pops/,
  );
  assertBadRequest(
    () =>
      generatorMatrix(queued(
        [["LOAD", "b", "p"], ["PUSH", "q", "b"], ["WRITE", "b", "c"]],
        [["POP", "q", "o"], ["POP", "q", "o"]],
      )),
    /queue "q" has fewer buffers per step than popped/,
  );
  assertBadRequest(
    () =>
      generatorMatrix(queued(
        [["LOAD", "b", "p"], ["PUSH", "other", "b"], ["WRITE", "b", "c"]],
        [["POP", "q", "o"]],
      )),
    /"aux" pops queue "q" on node 0, but no program of the run pushes/,
  );
});

Deno.test("runSymbolic: a stream loaded twice in one step is refused", () => {
  const m = toy();
  const twice = withProgram(m, "enc2", {
    node: 2,
    streams: [{ name: "up", read: { program: "enc1" } }, { name: "c", write: "{id}.coded2" }],
    instructions: [["LOAD", "b", "up"], ["LOAD", "d", "up"], ["WRITE", "b", "c"]],
  });
  assertBadRequest(() => generatorMatrix(twice), /instruction 1 \(LOAD\).*loaded twice/);
});

Deno.test("programOutputs: output vector and writes of one program, with given inputs", () => {
  const m = toy();
  const decode: Program = {
    node: 2,
    streams: [
      { name: "c0", read: { block: "{id}.coded0", node: 0 } },
      { name: "c2", read: { block: "{id}.coded2" } },
      { name: "o1", write: "{id}.orig1" },
    ],
    output: "p0",
    instructions: [
      ["LOAD", "a", "c0"],
      ["LOAD", "b", "c2"],
      ["COPY", "p0", "a"],
      ["MULADD", "b", 3, "a"], // c2 + 3·c0 = p1
      ["WRITE", "b", "o1"],
    ],
  };
  const out = programOutputs(m, decode);
  assert.deepEqual(out.output, Uint8Array.of(1, 0));
  assert.deepEqual(out.written.get("{id}.orig1"), Uint8Array.of(0, 1));
  // With other vectors for the inputs.
  const given = programOutputs(m, decode, {
    "{id}.coded0": Uint8Array.of(0, 1),
    "{id}.coded2": Uint8Array.of(1, 1),
  });
  assert.deepEqual(given.written.get("{id}.orig1"), Uint8Array.of(1, 1 ^ 3));
  // A program of the module, by name: enc1's output is 3·p0 + p1.
  assert.deepEqual(programOutputs(m, "enc1").output, Uint8Array.of(3, 1));
});

Deno.test("analyze: lists exactly the k-subsets whose rows are dependent", () => {
  // Coded blocks: p0, p0, p1, p0 + p1. Subsets of 2: {0,1} is the only dependent pair.
  const m = toy({
    n: 4,
    coded: [
      { block: "{id}.coded0", node: 0 },
      { block: "{id}.part0", node: 0 },
      { block: "{id}.coded1", node: 1 },
      { block: "{id}.coded2", node: 2 },
    ],
    programs: {
      ...toy().programs,
      enc0: {
        node: 0,
        streams: [{ name: "p", read: { block: "{id}.part0" } }, {
          name: "c",
          write: "{id}.coded0",
        }],
        output: "s",
        instructions: [["LOAD", "b", "p"], ["WRITE", "b", "c"], ["COPY", "s", "b"]],
      },
    },
  });
  const a = analyze(m);
  assert.equal(a.subsetCount, 6);
  assert.deepEqual(a.undecodableSubsets, [[0, 1]]);
  assert.equal(a.decodableCount, 5);
  assert.equal(a.isMds, false);
  assert.equal(a.rank, 2);
  assert.equal(analyze(toy()).isMds, true);
});

Deno.test("runSymbolic: a queue that makes programs wait on each other is refused", () => {
  // main pulls store's stream, store pulls aux, aux pops what main pushes: a deadlock.
  const m = queued(
    [["LOAD", "b", "p"], ["LOAD", "x", "back"], ["PUSH", "q", "b"], ["WRITE", "b", "c"]],
    [["POP", "q", "o"]],
  );
  const looped: CodingModule = {
    ...m,
    encode: "main",
    programs: {
      ...m.programs,
      main: {
        ...m.programs.main!,
        streams: [...m.programs.main!.streams, { name: "back", read: { program: "store" } }],
      },
      store: { ...m.programs.store!, output: "b" },
    },
  };
  assertBadRequest(
    () => generatorMatrix(looped),
    /wait on each other in a cycle: main -> store -> aux -> main/,
  );
});
