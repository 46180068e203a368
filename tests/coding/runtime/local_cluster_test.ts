import assert from "node:assert/strict";
import { isCdfsError } from "../../../src/core/errors.ts";
import * as gf256 from "../../../src/gf/gf256.ts";
import { runLocal } from "../../../src/coding/runtime/local_cluster.ts";
import type { CodingModule, Instruction, Program } from "../../../src/coding/lang/program.ts";
import { bytes, evaluate, moduleOf, smallPool } from "./interpreter_support.ts";

const C = 4096;

/**
 * A RapidRAID-shaped pipeline of `nodes` programs: node i holds part (i mod parts), writes
 * coded block i and streams to node i+1; the last node only writes.
 */
function chainModule(
  nodes: number,
  parts: number,
): { module: CodingModule; xis: number[]; psis: number[] } {
  const xis = Array.from({ length: nodes }, (_, i) => 1 + (i * 37 + 11) % 255);
  const psis = Array.from({ length: nodes }, (_, i) => 1 + (i * 53 + 29) % 255);
  const programs: Record<string, Program> = {};
  for (let i = 0; i < nodes; i++) {
    const part = { name: "local", read: { block: `{id}.part${i % parts}` } };
    const coded = { name: "coded", write: `{id}.coded${i}` };
    let instructions: Instruction[];
    if (i === 0) {
      instructions = [
        ["LOAD", "temp", "local"],
        ["MULT", "stream", psis[0]!, "temp"],
        ["MULT", "temp", xis[0]!, "temp"],
        ["WRITE", "temp", "coded"],
      ];
    } else {
      instructions = [
        ["LOAD", "local", "local"],
        ["LOAD", "prev", "prev"],
        ...(i < nodes - 1
          ? [["COPY", "stream", "prev"], ["MULADD", "stream", psis[i]!, "local"]] as Instruction[]
          : []),
        ["MULADD", "prev", xis[i]!, "local"],
        ["WRITE", "prev", "coded"],
      ];
    }
    programs[`enc${i}`] = {
      node: i,
      streams: i === 0
        ? [part, coded]
        : [part, { name: "prev", read: { program: `enc${i - 1}` } }, coded],
      ...(i < nodes - 1 ? { output: "stream" } : {}),
      instructions,
    };
  }
  const module = moduleOf({ [`enc${nodes - 1}`]: programs[`enc${nodes - 1}`], ...programs }, {
    n: nodes,
    name: "chain",
  });
  return { module, xis, psis };
}

/** The chain's coded blocks by scalar arithmetic: c_i = s_{i-1} + xi_i·p_i, s_i = s_{i-1} + psi_i·p_i. */
function expectedChain(
  parts: Uint8Array[],
  nodes: number,
  xis: number[],
  psis: number[],
): Uint8Array[] {
  const length = parts[0]!.length;
  const stream = new Uint8Array(length);
  const coded: Uint8Array[] = [];
  for (let i = 0; i < nodes; i++) {
    const p = parts[i % parts.length]!;
    const xRow = xis[i]! * 256;
    const pRow = psis[i]! * 256;
    const c = new Uint8Array(length);
    for (let b = 0; b < length; b++) {
      c[b] = stream[b]! ^ gf256.MUL_TABLE[xRow + p[b]!]!;
      stream[b]! ^= gf256.MUL_TABLE[pRow + p[b]!]!;
    }
    coded.push(c);
  }
  return coded;
}

function placeParts(parts: Uint8Array[], nodes: number): Map<string, Uint8Array> {
  const blocks = new Map<string, Uint8Array>();
  for (let i = 0; i < nodes; i++) {
    blocks.set(`${i}/obj.part${i % parts.length}`, parts[i % parts.length]!);
  }
  return blocks;
}

Deno.test("a pipelined chain of 16 programs over 11 MiB gives the expected coded blocks", async () => {
  const nodes = 16;
  const { module, xis, psis } = chainModule(nodes, 11);
  const parts = Array.from({ length: 11 }, (_, j) => bytes(1 << 20, 100 + j));
  const pool = smallPool(64 * 1024, 256);
  const result = await runLocal(module, `enc${nodes - 1}`, {
    objectId: "obj",
    blocks: placeParts(parts, nodes),
    pool,
  });
  const expected = expectedChain(parts, nodes, xis, psis);
  assert.equal(result.blocks.size, nodes);
  for (let i = 0; i < nodes; i++) {
    assert.ok(
      result.blocks.get(`${i}/obj.coded${i}`)!.every((x, b) => x === expected[i]![b]),
      `coded${i}`,
    );
  }
  assert.equal(result.length, 1 << 20);
  assert.equal(pool.inUse, 0);
});

Deno.test("block lengths around the chunk size, including 0, through a chain", async () => {
  const nodes = 4;
  const { module, xis, psis } = chainModule(nodes, 3);
  for (const length of [0, 1, C - 1, C, C + 1, 3 * C + 5]) {
    const parts = Array.from({ length: 3 }, (_, j) => bytes(length, length + j));
    const pool = smallPool();
    const result = await runLocal(module, "enc3", {
      objectId: "obj",
      blocks: placeParts(parts, nodes),
      pool,
      chunkSize: C,
    });
    const expected = expectedChain(parts, nodes, xis, psis);
    for (let i = 0; i < nodes; i++) {
      assert.deepEqual(
        result.blocks.get(`${i}/obj.coded${i}`),
        expected[i],
        `L=${length} coded${i}`,
      );
    }
    assert.equal(pool.inUse, 0);
  }
});

Deno.test("an entry stream program's output is returned; an entry without inputs takes the length", async () => {
  const { module, psis } = chainModule(3, 3);
  const parts = [bytes(C + 3, 1), bytes(C + 3, 2), bytes(C + 3, 3)];
  const pool = smallPool();
  const result = await runLocal(module, "enc1", {
    objectId: "obj",
    blocks: placeParts(parts, 3),
    pool,
    chunkSize: C,
  });
  const s1 = parts[0]!.map((x, b) => gf256.mul(psis[0]!, x) ^ gf256.mul(psis[1]!, parts[1]![b]!));
  assert.deepEqual(result.streams.get("enc1"), s1);
  assert.deepEqual([...result.blocks.keys()].sort(), ["0/obj.coded0", "1/obj.coded1"]);
  assert.equal(pool.inUse, 0);
});

/** A decode-shaped run: node 0 pushes what it streams; its aux program re-serves it to node 2. */
function teeModule(): CodingModule {
  return moduleOf({
    last: {
      node: 2,
      streams: [
        { name: "chain", read: { program: "mid" } },
        { name: "aux", read: { program: "aux0" } },
        { name: "o", write: "{id}.out" },
      ],
      instructions: [["LOAD", "a", "chain"], ["LOAD", "b", "aux"], ["MULADD", "a", 5, "b"], [
        "WRITE",
        "a",
        "o",
      ]],
    },
    first: {
      node: 0,
      streams: [{ name: "in", read: { block: "{id}.in" } }, { name: "o", write: "{id}.first" }],
      output: "t",
      instructions: [["LOAD", "t", "in"], ["MULT", "t", 3, "t"], ["WRITE", "t", "o"], [
        "PUSH",
        "queue",
        "t",
      ]],
    },
    aux0: {
      node: 0,
      streams: [],
      output: "s",
      instructions: [["POP", "queue", "x"], ["COPY", "s", "x"]],
    },
    mid: {
      node: 1,
      streams: [{ name: "up", read: { program: "first" } }],
      output: "u",
      instructions: [["LOAD", "u", "up"], ["MULT", "u", 7, "u"]],
    },
  });
}

Deno.test("an aux program re-serves what its node pushed (PUSH/POP across a pulled run)", async () => {
  const module = teeModule();
  for (const length of [0, 1, 3 * C + 5]) {
    const input = bytes(length, 7);
    const pool = smallPool();
    const result = await runLocal(module, "last", {
      objectId: "obj",
      blocks: new Map([["0/obj.in", input]]),
      pool,
      chunkSize: C,
      queueCapacity: 2,
    });
    const queues = new Map<string, Uint8Array[]>();
    const first = evaluate(module.programs.first!, 8, { in: input }, queues);
    const aux = evaluate(module.programs.aux0!, 8, {}, queues);
    const mid = evaluate(module.programs.mid!, 8, { up: first.get("@output")! });
    const last = evaluate(module.programs.last!, 8, {
      chain: mid.get("@output")!,
      aux: aux.get("@output")!,
    });
    assert.deepEqual(result.blocks.get("0/obj.first"), first.get("o"), `L=${length}`);
    assert.deepEqual(result.blocks.get("2/obj.out"), last.get("o"), `L=${length}`);
    assert.equal(pool.inUse, 0);
  }
});

Deno.test("several entry programs run concurrently", async () => {
  const module = moduleOf({
    a: {
      node: 1,
      streams: [{ name: "i", read: { block: "{id}.p", node: 0 } }, { name: "o", write: "{id}.a" }],
      instructions: [["LOAD", "b", "i"], ["WRITE", "b", "o"]],
    },
    b: {
      node: 2,
      streams: [{ name: "i", read: { block: "{id}.p", node: 0 } }, { name: "o", write: "{id}.b" }],
      instructions: [["LOAD", "b", "i"], ["MULT", "c", 2, "b"], ["WRITE", "c", "o"]],
    },
  });
  const data = bytes(5 * C, 3);
  const result = await runLocal(module, ["a", "b"], {
    objectId: "obj",
    blocks: new Map([["0/obj.p", data]]),
    pool: smallPool(),
    chunkSize: C,
  });
  assert.deepEqual(result.blocks.get("1/obj.a"), data);
  assert.deepEqual(result.blocks.get("2/obj.b"), data.map((x) => gf256.mul(2, x)));
});

Deno.test("a program pulled twice in one run is refused", async () => {
  const module = moduleOf({
    top: {
      node: 2,
      streams: [{ name: "x", read: { program: "src" } }, { name: "y", read: { program: "src" } }],
      output: "a",
      instructions: [["LOAD", "a", "x"], ["LOAD", "b", "y"], ["IADD", "a", "b"]],
    },
    src: {
      node: 0,
      streams: [{ name: "i", read: { block: "{id}.p" } }],
      output: "b",
      instructions: [["LOAD", "b", "i"]],
    },
  });
  const pool = smallPool();
  await assert.rejects(
    runLocal(module, "top", {
      objectId: "obj",
      blocks: new Map([["0/obj.p", bytes(10, 1)]]),
      pool,
      chunkSize: C,
    }),
    (e) =>
      isCdfsError(e, "BAD_REQUEST") &&
      /program 'src' is pulled by 'top' but already runs in this run \(started by 'top'\): each program runs at most once per run/
        .test(e.message),
  );
  await assert.rejects(
    runLocal(module, ["top", "src"], {
      objectId: "obj",
      blocks: new Map([["0/obj.p", bytes(10, 1)]]),
      pool,
      chunkSize: C,
    }),
    /program 'src' is pulled by 'top' but already runs in this run \(started by the caller\)/,
  );
  assert.equal(pool.inUse, 0);
});

Deno.test("a missing block is NOT_FOUND naming block and node; nothing is written", async () => {
  const { module } = chainModule(4, 4);
  const parts = [bytes(100, 1), bytes(100, 2), bytes(100, 3), bytes(100, 4)];
  const blocks = placeParts(parts, 4);
  blocks.delete("2/obj.part2");
  const pool = smallPool();
  await assert.rejects(
    runLocal(module, "enc3", { objectId: "obj", blocks, pool, chunkSize: C }),
    (e) =>
      isCdfsError(e, "NOT_FOUND") && /program 'enc2'/.test(e.message) &&
      /block 'obj.part2' does not exist on node 2/.test(e.message),
  );
  assert.equal(pool.inUse, 0);
});

/** A block that fails when read past `limit` bytes, like a disk error in the middle of a file. */
class FailingBlock extends Uint8Array {
  limit = 0;
  override subarray(begin?: number, end?: number): Uint8Array<ArrayBuffer> {
    if ((end ?? this.length) > this.limit) throw new Error("read error at byte " + this.limit);
    return super.subarray(begin, end) as Uint8Array<ArrayBuffer>;
  }
}

Deno.test("a failure in the middle of a pipeline fails the run: nothing written, buffers released", async () => {
  const nodes = 6;
  const { module } = chainModule(nodes, 6);
  const parts: Uint8Array[] = Array.from({ length: 6 }, (_, j) => bytes(8 * C, j));
  const failing = new FailingBlock(parts[3]!);
  failing.limit = 5 * C;
  parts[3] = failing;
  const pool = smallPool();
  await assert.rejects(
    runLocal(module, `enc${nodes - 1}`, {
      objectId: "obj",
      blocks: placeParts(parts, nodes),
      pool,
      chunkSize: C,
    }),
    (e) =>
      isCdfsError(e) &&
      /^program 'enc3', step 5, instruction 0 \(LOAD local local\): input 'local': read error at byte 20480$/
        .test(e.message),
  );
  assert.equal(pool.inUse, 0);
});

Deno.test("one failing entry aborts the others", async () => {
  const module = moduleOf({
    slow: {
      node: 0,
      streams: [{ name: "i", read: { block: "{id}.p" } }, { name: "o", write: "{id}.a" }],
      instructions: [["LOAD", "b", "i"], ["WRITE", "b", "o"]],
    },
    bad: {
      node: 1,
      streams: [{ name: "i", read: { block: "{id}.q" } }, { name: "o", write: "{id}.b" }],
      instructions: [["LOAD", "b", "i"], ["WRITE", "b", "o"]],
    },
  });
  const failing = new FailingBlock(bytes(4 * C, 2));
  failing.limit = 2 * C;
  const pool = smallPool();
  await assert.rejects(
    runLocal(module, ["slow", "bad"], {
      objectId: "obj",
      blocks: new Map<string, Uint8Array>([["0/obj.p", bytes(400 * C, 1)], ["1/obj.q", failing]]),
      pool,
      chunkSize: C,
    }),
    /^CdfsError: program 'bad', step 2, .*read error/,
  );
  assert.equal(pool.inUse, 0);
});

Deno.test("a block written twice in one run is refused", async () => {
  const module = moduleOf({
    a: {
      node: 1,
      streams: [{ name: "i", read: { block: "{id}.p", node: 0 } }, { name: "o", write: "{id}.x" }],
      instructions: [["LOAD", "b", "i"], ["WRITE", "b", "o"]],
    },
    b: {
      node: 1,
      streams: [{ name: "i", read: { block: "{id}.p", node: 0 } }, { name: "o", write: "{id}.x" }],
      instructions: [["LOAD", "b", "i"], ["WRITE", "b", "o"]],
    },
  });
  const pool = smallPool();
  await assert.rejects(
    runLocal(module, ["a", "b"], {
      objectId: "obj",
      blocks: new Map([["0/obj.p", bytes(10, 1)]]),
      pool,
      chunkSize: C,
    }),
    /block 'obj.x' on node 1 is written twice in one run/,
  );
  assert.equal(pool.inUse, 0);
});
