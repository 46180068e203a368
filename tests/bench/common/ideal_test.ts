import assert from "node:assert/strict";
import { idealEncode, type IdealLink } from "../../../bench/common/ideal.ts";

const PIPELINE = { kind: "pipeline", nodes: 16 } as const;
const RS = { kind: "coordinator", k: 11, m: 5 } as const;
const MB = 1e6;

function uniform(rateBitsPerSecond: number, delayMs: number): IdealLink[] {
  return Array.from({ length: 16 }, () => ({ rateBitsPerSecond, delayMs }));
}

function near(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined, "an estimate");
  assert.ok(Math.abs(actual - expected) < 1e-9 * Math.max(1, expected), `${actual} != ${expected}`);
}

Deno.test("pipeline: one part through every link, plus 16 × (chunk / rate + delay) of fill", () => {
  // 8 Mbit/s = 1 MB/s: a 2 MB part takes 2 s; each node adds 0.1 s of chunk and 5 ms of delay.
  const e = idealEncode({
    shape: PIPELINE,
    partBytes: 2 * MB,
    chunkBytes: 0.1 * MB,
    links: uniform(8e6, 5),
  });
  near(e?.transferSeconds, 2);
  near(e?.fillSeconds, 16 * (0.1 + 0.005));
  near(e?.seconds, 2 + 16 * 0.105);
});

Deno.test("coordinator: k parts through the coordinator's link, ~k times the pipeline's transfer", () => {
  const links = uniform(8e6, 0);
  const rs = idealEncode({ shape: RS, partBytes: 2 * MB, chunkBytes: 0.1 * MB, links })!;
  const rapidraid = idealEncode({
    shape: PIPELINE,
    partBytes: 2 * MB,
    chunkBytes: 0.1 * MB,
    links,
  })!;
  near(rs.transferSeconds, 11 * 2);
  assert.equal(rs.bottleneckNode, 11);
  near(rs.transferSeconds / rapidraid.transferSeconds, 11);
  // One chunk from the slowest source, one on to a parity node.
  near(rs.fillSeconds, 0.2);
});

Deno.test("a part shorter than a step fills the pipeline with the part, not the step", () => {
  const e = idealEncode({
    shape: PIPELINE,
    partBytes: 0.5 * MB,
    chunkBytes: 4 * MB,
    links: uniform(8e6, 0),
  });
  near(e?.transferSeconds, 0.5);
  near(e?.fillSeconds, 16 * 0.5);
});

Deno.test("a slow node bounds the pipeline, and its delay is in the fill", () => {
  const links = uniform(8e6, 1);
  links[3] = { rateBitsPerSecond: 4e6, delayMs: 100 };
  const e = idealEncode({ shape: PIPELINE, partBytes: 2 * MB, chunkBytes: 0.1 * MB, links })!;
  near(e.transferSeconds, 4);
  assert.equal(e.bottleneckNode, 3);
  near(e.fillSeconds, 15 * (0.1 + 0.001) + (0.2 + 0.1));
});

Deno.test("16 concurrent encodes on rotated node lists: every node moves 15 parts in both codes", () => {
  // Pipeline: each node forwards in 15 of the 16 chains. RS: each node coordinates once (11 in,
  // 4 out), is a source for 11 objects and a parity receiver for 4: 15 in, 15 out.
  const links = uniform(8e6, 0);
  const options = { partBytes: MB, chunkBytes: 0.01 * MB, links, objects: 16 };
  near(idealEncode({ ...options, shape: PIPELINE })?.transferSeconds, 15);
  near(idealEncode({ ...options, shape: RS })?.transferSeconds, 15);
  // Without rotation RS would pull 16 × 11 parts through node 11; with it, two objects already
  // share the coordinators' load.
  near(idealEncode({ ...options, shape: RS, objects: 2 })?.transferSeconds, 12);
});

Deno.test("no estimate when a node the encode uses has no known rate", () => {
  const links: IdealLink[] = uniform(8e6, 0);
  links[7] = { delayMs: 0 };
  assert.equal(idealEncode({ shape: PIPELINE, partBytes: MB, chunkBytes: MB, links }), undefined);
});

Deno.test("too few links for the shape is an error", () => {
  assert.throws(
    () =>
      idealEncode({
        shape: PIPELINE,
        partBytes: MB,
        chunkBytes: MB,
        links: uniform(8e6, 0).slice(0, 15),
      }),
    RangeError,
  );
});
