import assert from "node:assert/strict";
import { isCdfsError } from "../../../src/core/errors.ts";
import * as gf256 from "../../../src/gf/gf256.ts";
import * as gf65536 from "../../../src/gf/gf65536.ts";
import { Executor } from "../../../src/coding/runtime/interpreter.ts";
import type { RunContext } from "../../../src/coding/runtime/program_run.ts";
import { RunRegistry } from "../../../src/coding/runtime/run_registry.ts";
import type { Instruction, Program } from "../../../src/coding/lang/program.ts";
import { bytes, MemoryResolver, moduleOf, smallPool } from "./interpreter_support.ts";

const C = 4096;

function context(pool = smallPool(), extra: Partial<RunContext> = {}): RunContext {
  return { objectId: "obj", runId: crypto.randomUUID(), pool, chunkSize: C, ...extra };
}

/** A local program over input `in` that writes the named buffers to streams `w_<buffer>`. */
function programOf(instructions: Instruction[], writes: string[], output?: string): Program {
  return {
    node: 0,
    streams: [
      { name: "in", read: { block: "{id}.in" } },
      ...writes.map((b) => ({ name: `w_${b}`, write: `{id}.${b}` })),
    ],
    ...(output === undefined ? {} : { output }),
    instructions: [
      ...instructions,
      ...writes.map((b): Instruction => ["WRITE", b, `w_${b}`]),
    ],
  };
}

async function runOne(
  program: Program,
  input: Uint8Array,
  options: { field?: 8 | 16; fuse?: boolean; chunkSize?: number } = {},
): Promise<{ resolver: MemoryResolver; outputs: Uint8Array[]; inUse: number }> {
  const module = moduleOf(
    { p: program },
    options.field === undefined ? {} : { field: options.field },
  );
  const pool = smallPool();
  const resolver = new MemoryResolver(pool, { in: input });
  const outputs: Uint8Array[] = [];
  await new Executor(module, "p", options.fuse === undefined ? {} : { fuse: options.fuse }).run(
    resolver,
    context(pool, options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    (buffer, length) => {
      outputs.push(buffer.bytes.slice(0, length));
      buffer.release();
    },
  );
  return { resolver, outputs, inUse: pool.inUse };
}

const mulBytes = (c: number, data: Uint8Array): Uint8Array => data.map((x) => gf256.mul(c, x));
const xorBytes = (a: Uint8Array, b: Uint8Array): Uint8Array => a.map((x, i) => x ^ b[i]!);

Deno.test("instruction semantics: COPY before modify, MULT, IADD, MULADD", async () => {
  const input = bytes(3 * C + 5, 1);
  const program = programOf([
    ["LOAD", "x", "in"],
    ["COPY", "y", "x"], // y = in, a copy: the MULT below must not reach it
    ["MULT", "x", 2, "x"], // x = 2·in
    ["IADD", "y", "x"], // y = in + 2·in
    ["MULADD", "y", 5, "x"], // y += 5·(2·in)
    ["MULT", "z", 9, "y"], // z = 9·y, into an undefined buffer
  ], ["x", "y", "z"]);
  const { resolver, inUse } = await runOne(program, input);
  const x = mulBytes(2, input);
  const y = xorBytes(xorBytes(input, x), mulBytes(5, x));
  assert.deepEqual(resolver.committed.get("obj.x"), x);
  assert.deepEqual(resolver.committed.get("obj.y"), y);
  assert.deepEqual(resolver.committed.get("obj.z"), mulBytes(9, y));
  assert.equal(inUse, 0);
});

Deno.test("MULADD with dst === src gives (1 + c)·src; IADD x x gives zero", async () => {
  const input = bytes(2 * C + 17, 2);
  const program = programOf([
    ["LOAD", "x", "in"],
    ["COPY", "z", "x"],
    ["MULADD", "x", 7, "x"],
    ["IADD", "z", "z"],
  ], ["x", "z"]);
  const { resolver, inUse } = await runOne(program, input);
  assert.deepEqual(resolver.committed.get("obj.x"), mulBytes(1 ^ 7, input));
  assert.deepEqual(resolver.committed.get("obj.z"), new Uint8Array(input.length));
  assert.equal(inUse, 0);
});

Deno.test("a stream program hands every step's output to the caller", async () => {
  const input = bytes(3 * C + 5, 3);
  const program = programOf([["LOAD", "x", "in"], ["MULT", "s", 3, "x"]], ["x"], "s");
  const { outputs, inUse } = await runOne(program, input);
  assert.deepEqual(outputs.map((o) => o.length), [C, C, C, 5]);
  const joined = new Uint8Array(input.length);
  outputs.forEach((o, i) => joined.set(o, i * C));
  assert.deepEqual(joined, mulBytes(3, input));
  assert.equal(inUse, 0);
});

Deno.test("block lengths around the chunk size, including 0", async () => {
  for (const length of [0, 1, C - 1, C, C + 1, 3 * C + 5]) {
    const input = bytes(length, length + 7);
    const program = programOf(
      [["LOAD", "x", "in"], ["MULT", "y", 141, "x"], ["MULADD", "y", 2, "x"]],
      ["y"],
      "x",
    );
    const { resolver, outputs, inUse } = await runOne(program, input);
    assert.deepEqual(resolver.committed.get("obj.y"), mulBytes(141 ^ 2, input), `L=${length}`);
    assert.equal(outputs.length, Math.ceil(length / C), `steps for L=${length}`);
    assert.equal(outputs.reduce((n, o) => n + o.length, 0), length);
    assert.equal(inUse, 0);
  }
});

Deno.test("the step-wise API reports length and steps, and the output buffer is owned", async () => {
  const module = moduleOf({ p: programOf([["LOAD", "x", "in"]], [], "x") });
  const pool = smallPool();
  const input = bytes(2 * C + 1, 4);
  const run = await new Executor(module, "p").open(new MemoryResolver(pool, { in: input }), {
    ...context(pool),
  });
  assert.equal(run.length, 2 * C + 1);
  assert.equal(run.steps, 3);
  const first = await run.step();
  assert.ok(first !== null && first.output !== null);
  assert.equal(first.output.refCount, 1);
  assert.equal(pool.inUse, 1);
  first.output.release();
  for (let s = await run.step(); s !== null; s = await run.step()) s.output?.release();
  assert.deepEqual(await run.finish(), { length: 2 * C + 1, steps: 3 });
  assert.equal(pool.inUse, 0);
});

Deno.test("inputs of different lengths are refused, naming both streams", async () => {
  const module = moduleOf({
    p: {
      node: 0,
      streams: [{ name: "a", read: { block: "{id}.a" } }, { name: "b", read: { block: "{id}.b" } }],
      output: "x",
      instructions: [["LOAD", "x", "a"], ["LOAD", "y", "b"], ["IADD", "x", "y"]],
    },
  });
  const pool = smallPool();
  const resolver = new MemoryResolver(pool, { a: bytes(100, 1), b: bytes(99, 2) });
  await assert.rejects(
    new Executor(module, "p").run(resolver, context(pool)),
    (e) =>
      isCdfsError(e, "BAD_REQUEST") && /program 'p'/.test(e.message) &&
      /'a' has 100 bytes, 'b' has 99/.test(e.message),
  );
  assert.deepEqual([...resolver.closed].sort(), ["a", "b"]);
  assert.equal(pool.inUse, 0);
});

Deno.test("an input that ends early is CORRUPT", async () => {
  const module = moduleOf({ p: programOf([["LOAD", "x", "in"]], ["x"]) });
  const pool = smallPool();
  const resolver = new MemoryResolver(pool, { in: bytes(2 * C, 1) });
  // Claims more bytes than it has.
  const lying = {
    openInput: async (s: string, src: Parameters<MemoryResolver["openInput"]>[1]) => {
      const input = await resolver.openInput(s, src);
      return { ...input, length: 3 * C, next: input.next, close: input.close };
    },
    openOutput: resolver.openOutput.bind(resolver),
  };
  await assert.rejects(
    new Executor(module, "p").run(lying, context(pool)),
    (e) =>
      isCdfsError(e, "CORRUPT") && /program 'p', step 2/.test(e.message) &&
      /input 'in' ended after 8192 of its 12288 bytes/.test(e.message),
  );
  assert.deepEqual([...resolver.aborted], ["obj.x"]);
  assert.equal(resolver.committed.size, 0);
  assert.equal(pool.inUse, 0);
});

Deno.test("a failing input mid-run aborts the outputs and releases every buffer", async () => {
  const module = moduleOf({
    p: {
      node: 0,
      streams: [
        { name: "a", read: { block: "{id}.a" } },
        { name: "b", read: { block: "{id}.b" } },
        { name: "o1", write: "{id}.o1" },
        { name: "o2", write: "{id}.o2" },
      ],
      output: "s",
      instructions: [
        ["LOAD", "x", "a"],
        ["LOAD", "y", "b"],
        ["MULT", "s", 3, "x"],
        ["WRITE", "x", "o1"],
        ["WRITE", "y", "o2"],
      ],
    },
  });
  const pool = smallPool();
  const resolver = new MemoryResolver(pool, { a: bytes(4 * C, 1), b: bytes(4 * C, 2) }, {
    inputFailures: { b: { atStep: 2, error: new Error("connection reset") } },
    holdWrites: true,
  });
  let received = 0;
  await assert.rejects(
    new Executor(module, "p").run(resolver, context(pool), (buffer) => {
      received++;
      buffer.release();
    }),
    (e) =>
      isCdfsError(e) && /program 'p', step 2, instruction 1 \(LOAD y b\)/.test(e.message) &&
      /input 'b': connection reset/.test(e.message),
  );
  assert.equal(received, 2);
  assert.equal(resolver.committed.size, 0);
  assert.deepEqual([...resolver.aborted].sort(), ["obj.o1", "obj.o2"]);
  assert.deepEqual([...resolver.closed].sort(), ["a", "b"]);
  assert.equal(resolver.held, 0);
  assert.equal(pool.inUse, 0);
});

Deno.test("a failing write aborts the run and names the output", async () => {
  const module = moduleOf({ p: programOf([["LOAD", "x", "in"]], ["x"]) });
  const pool = smallPool();
  const resolver = new MemoryResolver(pool, { in: bytes(5 * C, 1) }, {
    writeFailures: { w_x: { atStep: 1, error: new Error("disk full") } },
  });
  await assert.rejects(
    new Executor(module, "p").run(resolver, context(pool)),
    (e) =>
      isCdfsError(e) && /program 'p', step \d/.test(e.message) &&
      /output 'w_x': disk full/.test(e.message),
  );
  assert.equal(resolver.committed.size, 0);
  assert.deepEqual([...resolver.aborted], ["obj.x"]);
  assert.equal(pool.inUse, 0);
});

Deno.test("an output consumer that throws aborts the run", async () => {
  const module = moduleOf({ p: programOf([["LOAD", "x", "in"]], ["x"], "x") });
  const pool = smallPool();
  const resolver = new MemoryResolver(pool, { in: bytes(3 * C, 1) });
  await assert.rejects(
    new Executor(module, "p").run(resolver, context(pool), (buffer) => {
      buffer.release();
      throw new Error("peer went away");
    }),
    /program 'p', output consumer: peer went away/,
  );
  assert.equal(resolver.committed.size, 0);
  assert.equal(pool.inUse, 0);
});

Deno.test("an aborted signal stops the run and releases everything", async () => {
  const module = moduleOf({ p: programOf([["LOAD", "x", "in"]], ["x"], "x") });
  const pool = smallPool();
  const controller = new AbortController();
  const resolver = new MemoryResolver(pool, { in: bytes(10 * C, 1) });
  let steps = 0;
  await assert.rejects(
    new Executor(module, "p").run(
      resolver,
      context(pool, { signal: controller.signal }),
      (buffer) => {
        buffer.release();
        if (++steps === 3) controller.abort(new Error("client cancelled"));
      },
    ),
    /program 'p', step 3: client cancelled/,
  );
  assert.equal(resolver.committed.size, 0);
  assert.equal(pool.inUse, 0);
});

Deno.test("abort() during a step stops it, closes the inputs and releases everything", async () => {
  const module = moduleOf({
    p: {
      node: 0,
      streams: [
        { name: "fast", read: { block: "{id}.a" } },
        { name: "stuck", read: { block: "{id}.b" } },
        { name: "o", write: "{id}.o" },
      ],
      instructions: [["LOAD", "x", "fast"], ["LOAD", "y", "stuck"], ["IADD", "x", "y"], [
        "WRITE",
        "x",
        "o",
      ]],
    },
  });
  const pool = smallPool();
  const memory = new MemoryResolver(pool, { fast: bytes(3 * C, 1) });
  let closed = false;
  let wake: (error: Error) => void = () => {};
  const resolver = {
    openInput: (stream: string, source: Parameters<MemoryResolver["openInput"]>[1]) =>
      stream === "fast" ? memory.openInput(stream, source) : Promise.resolve({
        length: 3 * C,
        // A remote stream that never delivers until it is closed.
        next: () => new Promise<null>((_, reject) => wake = reject),
        close: () => {
          closed = true;
          wake(new Error("closed"));
          return Promise.resolve();
        },
      }),
    openOutput: memory.openOutput.bind(memory),
  };
  const run = await new Executor(module, "p").open(resolver, context(pool));
  const stepping = run.step();
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(pool.inUse, 1, "the fast input's buffer is held by the step");
  const reason = new Error("the consumer went away");
  await run.abort(reason);
  await assert.rejects(stepping, (e) => e === reason);
  assert.ok(closed);
  assert.deepEqual([...memory.aborted], ["obj.o"]);
  assert.equal(pool.inUse, 0);
  await assert.rejects(run.step(), (e) => e === reason);
  await run.abort(); // idempotent
});

Deno.test("PUSH and POP across two programs of one run on one node; WRITE-then-PUSH works", async () => {
  const module = moduleOf({
    pusher: {
      node: 2,
      streams: [{ name: "in", read: { block: "{id}.in" } }, { name: "o", write: "{id}.o" }],
      instructions: [
        ["LOAD", "x", "in"],
        ["MULT", "y", 3, "x"],
        ["WRITE", "y", "o"],
        ["PUSH", "queue", "y"], // the same buffer, written and pushed (the original crashed)
      ],
    },
    aux: {
      node: 2,
      streams: [],
      output: "t",
      instructions: [["POP", "queue", "t"], ["MULT", "t", 2, "t"]], // modifies what it popped
    },
  });
  const pool = smallPool();
  const runs = new RunRegistry({ queueCapacity: 2 });
  const ctx = context(pool, { runs });
  const input = bytes(5 * C + 3, 9);
  // The writer keeps every written buffer until commit: the aux program's in-place MULT must
  // not change the bytes the pusher wrote.
  const resolver = new MemoryResolver(pool, { in: input }, { holdWrites: true });
  const streamed: Uint8Array[] = [];
  await Promise.all([
    new Executor(module, "pusher").run(resolver, ctx),
    new Executor(module, "aux").run(new MemoryResolver(pool, {}), ctx, (buffer, length) => {
      streamed.push(buffer.bytes.slice(0, length));
      buffer.release();
    }),
  ]);
  assert.deepEqual(resolver.committed.get("obj.o"), mulBytes(3, input));
  const joined = new Uint8Array(input.length);
  streamed.forEach((s, i) => joined.set(s, i * C));
  assert.deepEqual(joined, mulBytes(gf256.mul(2, 3), input));
  assert.equal(pool.inUse, 0);
  assert.equal(runs.size, 0, "the run state is removed when the run ends");
  runs.close();
});

Deno.test("an aux program without inputs takes an explicit length", async () => {
  const module = moduleOf({
    pusher: {
      node: 0,
      streams: [{ name: "in", read: { block: "{id}.in" } }],
      instructions: [["LOAD", "x", "in"], ["PUSH", "q", "x"]],
    },
    aux: { node: 0, streams: [], output: "t", instructions: [["POP", "q", "t"]] },
  });
  const pool = smallPool();
  const runs = new RunRegistry();
  const ctx = context(pool, { runs });
  const input = bytes(2 * C + 9, 3);
  let total = 0;
  const [, summary] = await Promise.all([
    new Executor(module, "pusher").run(new MemoryResolver(pool, { in: input }), ctx),
    new Executor(module, "aux").run(
      new MemoryResolver(pool, {}),
      { ...ctx, length: input.length },
      (b, n) => {
        total += n;
        b.release();
      },
    ),
  ]);
  assert.deepEqual(summary, { length: input.length, steps: 3 });
  assert.equal(total, input.length);
  assert.equal(pool.inUse, 0);
  runs.close();
});

Deno.test("a program with PUSH/POP needs a run registry", async () => {
  const module = moduleOf({
    p: {
      node: 0,
      streams: [{ name: "in", read: { block: "{id}.in" } }],
      instructions: [["LOAD", "x", "in"], ["PUSH", "q", "x"]],
    },
    a: { node: 0, streams: [], output: "t", instructions: [["POP", "q", "t"]] },
  });
  const pool = smallPool();
  await assert.rejects(
    new Executor(module, "p").run(new MemoryResolver(pool, { in: bytes(10, 1) }), context(pool)),
    (e) => isCdfsError(e, "BAD_REQUEST") && /no run registry/.test(e.message),
  );
  assert.equal(pool.inUse, 0);
});

Deno.test("a failing pusher fails the aux program waiting on its queue", async () => {
  const module = moduleOf({
    pusher: {
      node: 1,
      streams: [{ name: "in", read: { block: "{id}.in" } }],
      instructions: [["LOAD", "x", "in"], ["PUSH", "q", "x"]],
    },
    aux: { node: 1, streams: [], output: "t", instructions: [["POP", "q", "t"]] },
  });
  const pool = smallPool();
  const runs = new RunRegistry();
  const ctx = context(pool, { runs });
  const resolver = new MemoryResolver(pool, { in: bytes(6 * C, 1) }, {
    inputFailures: { in: { atStep: 3, error: new Error("boom") } },
  });
  const results = await Promise.allSettled([
    new Executor(module, "pusher").run(resolver, ctx),
    new Executor(module, "aux").run(new MemoryResolver(pool, {}), ctx, (b) => b.release()),
  ]);
  assert.equal(results[0].status, "rejected");
  assert.equal(results[1].status, "rejected");
  assert.match(String((results[1] as PromiseRejectedResult).reason), /program 'pusher', step 3/);
  assert.equal(pool.inUse, 0);
  assert.equal(runs.size, 0);
  runs.close();
});

Deno.test("GF(2^16): word-wise arithmetic on even lengths", async () => {
  const input = bytes(3 * C + 6, 5);
  const program = programOf([
    ["LOAD", "x", "in"],
    ["MULT", "y", 0x1234, "x"],
    ["MULADD", "y", 48386, "x"],
    ["COPY", "z", "y"],
    ["MULADD", "z", 7, "z"],
  ], ["y", "z"]);
  const { resolver, inUse } = await runOne(program, input, { field: 16 });
  const word = (c: number, data: Uint8Array): Uint8Array => {
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i += 2) {
      const p = gf65536.mul(c, data[i]! | data[i + 1]! << 8);
      out[i] = p & 255;
      out[i + 1] = p >> 8;
    }
    return out;
  };
  const y = word(0x1234 ^ 48386, input);
  assert.deepEqual(resolver.committed.get("obj.y"), y);
  assert.deepEqual(resolver.committed.get("obj.z"), word(1 ^ 7, y));
  assert.equal(inUse, 0);
});

Deno.test("GF(2^16): odd stream lengths and odd chunk sizes are refused", async () => {
  const program = programOf([["LOAD", "x", "in"], ["MULT", "y", 3, "x"]], ["y"]);
  await assert.rejects(
    runOne(program, bytes(2 * C + 1, 1), { field: 16 }),
    (e) => isCdfsError(e, "BAD_REQUEST") && /odd length \(8193 bytes\)/.test(e.message),
  );
  await assert.rejects(
    runOne(program, bytes(100, 1), { field: 16, chunkSize: 99 }),
    (e) => isCdfsError(e, "BAD_REQUEST") && /even chunk size/.test(e.message),
  );
});

Deno.test("chunk sizes beyond the pool's buffers are refused", async () => {
  const program = programOf([["LOAD", "x", "in"]], ["x"]);
  await assert.rejects(
    runOne(program, bytes(10, 1), { chunkSize: C + 1 }),
    (e) => isCdfsError(e, "BAD_REQUEST") && /chunk size 4097/.test(e.message),
  );
});

Deno.test("block templates are expanded with the object id and sources resolved", async () => {
  const module = moduleOf({
    p: {
      node: 2,
      streams: [
        { name: "mine", read: { block: "{id}.part0" } },
        { name: "theirs", read: { block: "x-{id}.part1", node: 3 } },
      ],
      output: "a",
      instructions: [["LOAD", "a", "mine"], ["LOAD", "b", "theirs"], ["IADD", "a", "b"]],
    },
  });
  const pool = smallPool();
  const resolver = new MemoryResolver(pool, { mine: bytes(10, 1), theirs: bytes(10, 2) });
  await new Executor(module, "p").run(resolver, context(pool), (b) => b.release());
  assert.deepEqual(resolver.opened, [
    { kind: "block", block: "obj.part0", node: 2, local: true },
    { kind: "block", block: "x-obj.part1", node: 3, local: false },
  ]);
});
