/**
 * Layouts (src/namenode/layout.ts): the relation of a code's placement, parsed strictly, and
 * recovered from a file's blocks without any stored index.
 */
import assert from "node:assert/strict";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import {
  type CodeLayout,
  layoutNeeds,
  layoutOfModule,
  layoutPlacements,
  layoutToJson,
  logicalNodeOfCopy,
  parseLayout,
  resolveLayout,
  roleKey,
  sharedDatanodes,
} from "../../src/namenode/layout.ts";
import type { BlockPlacement } from "../../src/namenode/meta/model.ts";
import { cdfsError } from "../helpers/assert_error.ts";

const rapidraid = await loadCodingModule("rapidraid");

Deno.test("a module's layout: RapidRAID part j on logical nodes j and j+5, coded i on i", () => {
  const layout = layoutOfModule(rapidraid);
  assert.equal(layout.n, 16);
  assert.deepEqual(layout.roles[3], { role: { kind: "part", index: 3 }, nodes: [3, 8] });
  assert.deepEqual(layout.roles[11 + 7], { role: { kind: "coded", index: 7 }, nodes: [7] });
  assert.deepEqual(parseLayout(layoutToJson(layout), "layout"), layout);
  const parts = layoutOfModule(rapidraid, "parts");
  const needs = layoutNeeds(parts, new Set(parts.roles.map((r) => roleKey(r.role))), 100);
  assert.deepEqual(needs, [
    100,
    100,
    100,
    100,
    100,
    200,
    200,
    200,
    200,
    200,
    200,
    100,
    100,
    100,
    100,
    100,
  ]);
});

Deno.test("layouts are validated: node range, duplicates, size", () => {
  const bad: [unknown, RegExp][] = [
    [
      { n: 2, roles: [{ kind: "part", index: 0, nodes: [2] }] },
      /must hold integers in 0\.\.1, got 2/,
    ],
    [{ n: 2, roles: [{ kind: "part", index: 0, nodes: [0, 0] }] }, /lists a node twice/],
    [{
      n: 2,
      roles: [{ kind: "part", index: 0, nodes: [0] }, { kind: "part", index: 0, nodes: [1] }],
    }, /lists part0 twice/],
    [{ n: 2, roles: [] }, /"roles" is empty/],
    [{ n: 0, roles: [] }, /"n" must be an integer in 1\.\.256/],
    [{ n: 2, roles: [{ kind: "parity", index: 0, nodes: [0] }] }, /kind must be "part" or "coded"/],
    [{ n: 2, roles: [{ kind: "part", index: 0, nodes: [0], extra: 1 }] }, /unknown field "extra"/],
    [{
      n: 256,
      roles: Array.from(
        { length: 51 },
        (_, j) => ({ kind: "part", index: j, nodes: [j, j + 100] }),
      ),
    }, /102 block copies, the limit is 100/],
  ];
  for (const [value, pattern] of bad) {
    assert.throws(() => parseLayout(value, "layout"), cdfsError("BAD_REQUEST", pattern));
  }
});

Deno.test("the datanode of each logical node is recovered from the blocks, whatever their ids", () => {
  const parts = layoutOfModule(rapidraid, "parts");
  const nodes = Array.from({ length: 16 }, (_, i) => `node-${(i * 7) % 16}`);
  const adding = new Set(parts.roles.map((r) => roleKey(r.role)));
  const blocks = layoutPlacements(parts, nodes, adding);
  assert.equal(blocks.length, 22);
  // Shuffled: order carries no meaning.
  const shuffled = [...blocks].reverse();
  assert.deepEqual(resolveLayout(layoutOfModule(rapidraid), shuffled, "f"), nodes);
  // After the encode and the archive: only coded blocks left, same answer.
  const coded = layoutPlacements(
    layoutOfModule(rapidraid),
    nodes,
    new Set(Array.from({ length: 16 }, (_, i) => `coded${i}`)),
  );
  assert.deepEqual(resolveLayout(layoutOfModule(rapidraid), coded, "f"), nodes);
  // A repair moved coded block 3 elsewhere: logical node 3 is the new node.
  const moved = coded.map((b) => b.role.index === 3 ? { ...b, node: "spare" } : b);
  assert.equal(resolveLayout(layoutOfModule(rapidraid), moved, "f")[3], "spare");
});

Deno.test("logical nodes without blocks stay unassigned; blocks off the layout are refused", () => {
  const rs: CodeLayout = {
    n: 4,
    roles: [
      { role: { kind: "part", index: 0 }, nodes: [0] },
      { role: { kind: "part", index: 1 }, nodes: [1] },
      ...[0, 1, 2, 3].map((i) => ({ role: { kind: "coded" as const, index: i }, nodes: [i] })),
    ],
  };
  const blocks: BlockPlacement[] = [
    { role: { kind: "part", index: 0 }, node: "a" },
    { role: { kind: "part", index: 1 }, node: "b" },
  ];
  assert.deepEqual(resolveLayout(rs, blocks, "f"), ["a", "b", null, null]);
  // b could be logical nodes 0 and 1 together, but part0 would then have two copies.
  assert.throws(
    () => resolveLayout(rs, [...blocks, { role: { kind: "part", index: 0 }, node: "b" }], "f"),
    cdfsError("CONFLICT", /1 of its logical nodes should each hold part0, but 2 datanodes do/),
  );
  // Logical node 0 holds part0 and coded0: a datanode with part0 alone is no logical node.
  assert.throws(
    () => resolveLayout(rs, [...blocks, { role: { kind: "coded", index: 0 }, node: "b" }], "f"),
    cdfsError(
      "CONFLICT",
      /datanode a holds part0, which no logical node of the layout holds, nor any set of them/,
    ),
  );
  assert.throws(
    () =>
      resolveLayout(rs, [{ role: { kind: "part", index: 0 }, node: "a" }, {
        role: { kind: "part", index: 0 },
        node: "c",
      }], "f"),
    cdfsError("CONFLICT", /1 of its logical nodes should each hold part0, but 2 datanodes do/),
  );
  assert.throws(
    () => resolveLayout(rs, [{ role: { kind: "coded", index: 9 }, node: "a" }], "f"),
    cdfsError("BAD_REQUEST", /has coded9, which the layout does not place/),
  );
});

Deno.test("a datanode that is two logical nodes (a repair doubled up) is mapped to both", () => {
  const all = layoutOfModule(rapidraid);
  const nodes = Array.from({ length: 16 }, (_, i) => `dn${i}`);
  const codedOnly = new Set(Array.from({ length: 16 }, (_, i) => `coded${i}`));
  // Archived; coded blocks 0-4 rebuilt on the datanodes of 11-15 (no empty datanode was left).
  const doubled = layoutPlacements(all, nodes, codedOnly).map((b) =>
    b.role.index < 5 ? { ...b, node: `dn${b.role.index + 11}` } : b
  );
  const resolved = resolveLayout(all, doubled, "f");
  assert.deepEqual(resolved, [...nodes.slice(11), ...nodes.slice(5)]);
  assert.deepEqual(
    [...sharedDatanodes(resolved)],
    [11, 12, 13, 14, 15].map((i) => [`dn${i}`, [i - 11, i]]),
  );
  assert.equal(logicalNodeOfCopy(all, resolved, { kind: "coded", index: 3 }, "dn14"), 3);
  assert.equal(logicalNodeOfCopy(all, resolved, { kind: "coded", index: 14 }, "dn14"), 14);
  assert.equal(logicalNodeOfCopy(all, resolved, { kind: "coded", index: 3 }, "dn3"), -1);

  // Replicated: logical node 0 (part0) re-replicated onto logical node 8 (parts 3 and 8).
  const parts = layoutOfModule(rapidraid, "parts");
  const partKeys = new Set(parts.roles.map((r) => roleKey(r.role)));
  const moved = layoutPlacements(parts, nodes, partKeys).map((b) =>
    b.node === "dn0" ? { ...b, node: "dn8" } : b
  );
  const replicated = resolveLayout(all, moved, "f");
  assert.equal(replicated[0], "dn8");
  assert.equal(replicated[8], "dn8");
  assert.deepEqual([...sharedDatanodes(replicated).keys()], ["dn8"]);
  // The other copy of part0 is logical node 5's, on dn5: the one on dn8 is logical node 0's.
  assert.equal(logicalNodeOfCopy(all, replicated, { kind: "part", index: 0 }, "dn8"), 0);
  assert.equal(logicalNodeOfCopy(all, replicated, { kind: "part", index: 0 }, "dn5"), 5);
  // Encoded too (parts and coded blocks): logical node 0's part0 and coded0 both moved.
  const encoded = layoutPlacements(all, nodes, new Set([...partKeys, ...codedOnly])).map((b) =>
    b.node === "dn0" ? { ...b, node: "dn8" } : b
  );
  assert.deepEqual(resolveLayout(all, encoded, "f"), ["dn8", ...nodes.slice(1)]);
});

Deno.test("interchangeable logical nodes go in index order; a wrong first split is undone", () => {
  // Logical nodes 0 and 1 both hold part0, 2 and 3 both part1: x is one of each.
  const twins: CodeLayout = {
    n: 4,
    roles: [
      { role: { kind: "part", index: 0 }, nodes: [0, 1] },
      { role: { kind: "part", index: 1 }, nodes: [2, 3] },
    ],
  };
  const on = (index: number, node: string): BlockPlacement => ({
    role: { kind: "part", index },
    node,
  });
  assert.deepEqual(
    resolveLayout(twins, [on(0, "y"), on(1, "z"), on(0, "x"), on(1, "x")], "f"),
    ["x", "y", "x", "z"],
  );
  // d1 holds part0-2: logical nodes {0, 3} or {2, 1}. The first split in order is {0, 3}, but
  // then d2 (part0, part1: logical node 0 only) has no match: the search takes {2, 1} instead.
  const tangled: CodeLayout = {
    n: 4,
    roles: [
      { role: { kind: "part", index: 0 }, nodes: [0, 2] },
      { role: { kind: "part", index: 1 }, nodes: [0, 1] },
      { role: { kind: "part", index: 2 }, nodes: [1, 3] },
    ],
  };
  const blocks = [on(0, "d1"), on(1, "d1"), on(2, "d1"), on(0, "d2"), on(1, "d2"), on(2, "d3")];
  assert.deepEqual(resolveLayout(tangled, blocks, "f"), ["d2", "d1", "d1", "d3"]);
  // Without d3, part2 has one copy where the layout has two: refused before any matching.
  assert.throws(
    () => resolveLayout(tangled, blocks.slice(0, 5), "f"),
    cdfsError("CONFLICT", /2 of its logical nodes should each hold part2, but 1 datanodes do/),
  );
  // A replication code's copies (every logical node holds part0) never share a datanode.
  const mirror: CodeLayout = {
    n: 3,
    roles: [{ role: { kind: "part", index: 0 }, nodes: [0, 1, 2] }],
  };
  assert.deepEqual(resolveLayout(mirror, [on(0, "c"), on(0, "a"), on(0, "b")], "f"), [
    "a",
    "b",
    "c",
  ]);
});

Deno.test("any doubling up of RapidRAID's logical nodes is recovered exactly", () => {
  const all = layoutOfModule(rapidraid);
  const keys = new Set(all.roles.map((r) => roleKey(r.role)));
  const rolesOf = Array.from(
    { length: 16 },
    (_, i) => new Set(all.roles.filter((r) => r.nodes.includes(i)).map((r) => roleKey(r.role))),
  );
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 200; trial++) {
    // Fold logical nodes onto fewer datanodes, never two copies of one role on one datanode.
    const datanodes = Array.from({ length: 16 }, (_, i) => `n${i}`);
    for (let fold = Math.floor(random() * 8); fold > 0; fold--) {
      const from = Math.floor(random() * 16);
      const to = Math.floor(random() * 16);
      const target = datanodes[to]!;
      const held = new Set(datanodes.flatMap((d, i) => d === target ? [...rolesOf[i]!] : []));
      if (datanodes[from] === target || [...rolesOf[from]!].some((k) => held.has(k))) continue;
      datanodes[from] = target;
    }
    const blocks = layoutPlacements(all, datanodes, keys);
    assert.deepEqual(resolveLayout(all, [...blocks].reverse(), "f"), datanodes, `trial ${trial}`);
  }
});
