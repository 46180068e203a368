import assert from "node:assert/strict";
import { cdfsError } from "../../helpers/assert_error.ts";
import { codingModule as rapidraid } from "../../../coding/rapidraid.ts";
import { codingModule as rs } from "../../../coding/rs.ts";
import {
  checkPushChain,
  programInputs,
  pushChain,
} from "../../../src/coding/runtime/push_chain.ts";
import type { Program } from "../../../src/coding/lang/program.ts";

function badRequest(pattern: RegExp): (e: unknown) => boolean {
  return cdfsError("BAD_REQUEST", pattern);
}

/** A stream program on node `node` reading the given programs' streams. */
function reader(node: number, upstream: string[], stream = true): Program {
  return {
    node,
    streams: upstream.map((program, i) => ({ name: `in${i}`, read: { program } })),
    ...(stream ? { output: "b" } : {}),
    instructions: [
      ...upstream.map((_, i) => ["LOAD", i === 0 ? "b" : `t${i}`, `in${i}`] as const),
      ...upstream.slice(1).map((_, i) => ["IADD", "b", `t${i + 1}`] as const),
    ],
  };
}

const source: Program = {
  node: 0,
  streams: [{ name: "part", read: { block: "{id}.part0" } }],
  output: "b",
  instructions: [["LOAD", "b", "part"]],
};

Deno.test("pushChain follows RapidRAID's encode back to node 0", () => {
  const chain = pushChain(rapidraid.programs, "enc_node15");
  assert.deepEqual(chain, Array.from({ length: 16 }, (_, i) => `enc_node${i}`));
  // Each program reads exactly the one before it: what the nodes check again.
  for (let i = 1; i < 16; i++) {
    assert.deepEqual(programInputs(rapidraid.programs, chain[i]!), [chain[i - 1]]);
  }
  checkPushChain(rapidraid.programs, chain);
});

Deno.test("pushChain refuses what is not a chain, naming the program", () => {
  const rsEntry = (rs.encode as readonly string[])[0]!;
  assert.throws(() => pushChain(rs.programs, rsEntry), badRequest(/needs a pipeline/));
  const fanIn = { a: source, b: { ...source, node: 1 }, end: reader(2, ["a", "b"], false) };
  assert.throws(() => pushChain(fanIn, "end"), badRequest(/'end' reads 2 programs \(a, b\)/));
  assert.throws(() => pushChain(fanIn, "nosuch"), badRequest(/no program 'nosuch'/));
  // The end of a push chain writes blocks; a stream program at the end has nowhere to go.
  const streamEnd = { a: source, end: reader(1, ["a"]) };
  assert.throws(() => pushChain(streamEnd, "end"), badRequest(/last program 'end' is a stream/));
});

Deno.test("checkPushChain: order, length, duplicates, stream programs inside", () => {
  const programs = {
    a: source,
    b: reader(1, ["a"]),
    c: reader(2, ["b"], false),
    bLocal: reader(1, ["a"], false),
  };
  checkPushChain(programs, ["a", "b", "c"]);
  const cases: [string[], RegExp][] = [
    [["a"], /2\.\.256 programs, got 1/],
    [["a", "b", "b"], /names a program twice/],
    [["b", "a", "c"], /program 'b' reads 'a', its place in the chain needs no program/],
    [["a", "c"], /program 'c' reads 'b', its place in the chain needs 'a'/],
    [["a", "bLocal", "c"], /program 'bLocal' streams nothing to 'c'/],
  ];
  for (const [chain, pattern] of cases) {
    assert.throws(() => checkPushChain(programs, chain), badRequest(pattern), chain.join(","));
  }
});
