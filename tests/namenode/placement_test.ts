/**
 * The placement policy (src/namenode/placement.ts) as a pure function: distinct datanodes,
 * free space respected, spread over many files, and a one-line refusal naming the numbers.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../../src/emulation/link_spec.ts";
import { type NodeSpace, placeNodes } from "../../src/namenode/placement.ts";
import { cdfsError } from "../helpers/assert_error.ts";

function nodes(count: number, free: number): NodeSpace[] {
  return Array.from({ length: count }, (_, i) => ({ id: `dn${i}`, free }));
}

Deno.test("every logical node that receives blocks gets a distinct datanode", () => {
  const random = seededRandom(1);
  for (let run = 0; run < 200; run++) {
    const chosen = placeNodes({ needs: new Array(16).fill(10), nodes: nodes(16, 100), random });
    assert.equal(new Set(chosen).size, 16);
    assert.ok(chosen.every((id) => id !== null));
  }
  const partial = placeNodes({ needs: [5, 0, 5], nodes: nodes(3, 10), random });
  assert.equal(partial[1], null, "a logical node receiving nothing is not assigned");
  assert.notEqual(partial[0], partial[2]);
});

Deno.test("free space is respected, largest needs first, and assigned nodes keep their place", () => {
  const space = [
    { id: "small", free: 10 },
    { id: "mid", free: 20 },
    { id: "big", free: 35 },
  ];
  // Only this assignment fits: 30 on big, 20 on mid, 10 on small.
  for (let seed = 0; seed < 50; seed++) {
    const chosen = placeNodes({ needs: [10, 30, 20], nodes: space, random: seededRandom(seed) });
    assert.deepEqual(chosen, ["small", "big", "mid"]);
  }
  const more = placeNodes({
    needs: [10, 10, 10],
    nodes: [...space, { id: "x", free: 100 }],
    assigned: ["small", null, null],
    exclude: ["mid"],
    random: seededRandom(3),
  });
  assert.equal(more[0], "small");
  assert.deepEqual(new Set(more.slice(1)), new Set(["big", "x"]));
  assert.throws(
    () => placeNodes({ needs: [50], nodes: space, assigned: ["small"] }),
    cdfsError(
      "UNAVAILABLE",
      /datanode small \(logical node 0 of the layout\) has 10 B free, its new blocks need 50 B/,
    ),
  );
  assert.throws(
    () => placeNodes({ needs: [5], nodes: space, assigned: ["gone"] }),
    cdfsError("UNAVAILABLE", /datanode gone .* is not live/),
  );
  // A datanode that is two logical nodes (a repair doubled up) needs room for both: 12 + 12
  // bytes do not fit in mid's 20, though each alone would.
  assert.deepEqual(
    placeNodes({ needs: [8, 8], nodes: space, assigned: ["mid", "mid"] }),
    ["mid", "mid"],
  );
  assert.throws(
    () => placeNodes({ needs: [12, 12], nodes: space, assigned: ["mid", "mid"] }),
    cdfsError(
      "UNAVAILABLE",
      /^datanode mid \(logical nodes 0, 1 of the layout\) has 20 B free, its new blocks need 24 B$/,
    ),
  );
});

Deno.test("files spread over all datanodes, leaning towards emptier ones", () => {
  const random = seededRandom(42);
  const counts = new Map<string, number>();
  const space = nodes(20, 1 << 30);
  for (let file = 0; file < 2000; file++) {
    for (const id of placeNodes({ needs: [1, 1, 1, 1], nodes: space, random })) {
      counts.set(id!, (counts.get(id!) ?? 0) + 1);
    }
  }
  const mean = (2000 * 4) / 20;
  for (const [id, count] of counts) {
    assert.ok(Math.abs(count - mean) < mean * 0.15, `${id} got ${count} blocks, mean ${mean}`);
  }
  assert.equal(counts.size, 20);
  // Half the nodes nearly full: the emptier half takes clearly more.
  const mixed = space.map((n, i) => ({ id: n.id, free: i < 10 ? 1 << 20 : 1 << 30 }));
  let empty = 0;
  for (let file = 0; file < 2000; file++) {
    for (const id of placeNodes({ needs: [1, 1], nodes: mixed, random })) {
      if (Number(id!.slice(2)) >= 10) empty++;
    }
  }
  assert.ok(empty > 0.65 * 4000, `emptier nodes got ${empty} of 4000 blocks`);
});

Deno.test("too few datanodes: one line naming how many were needed and available", () => {
  assert.throws(
    () => placeNodes({ needs: new Array(16).fill(1), nodes: nodes(12, 100) }),
    (e: unknown) => {
      cdfsError("UNAVAILABLE", /^the layout needs 16 distinct live datanodes, 12 are available$/)(
        e,
      );
      assert.ok(!(e as Error).message.includes("\n"));
      return true;
    },
  );
  assert.throws(
    () => placeNodes({ needs: [1, 1, 1], nodes: nodes(4, 100), exclude: ["dn0", "dn1"] }),
    cdfsError(
      "UNAVAILABLE",
      /needs 3 distinct live datanodes besides the 2 holding the file, 2 are available/,
    ),
  );
  const space = [...nodes(10, 2 << 20), ...nodes(6, 100).map((n) => ({ ...n, id: `s${n.id}` }))];
  assert.throws(
    () => placeNodes({ needs: new Array(16).fill(1 << 20), nodes: space }),
    cdfsError(
      "UNAVAILABLE",
      /needs 16 distinct live datanodes with at least 1\.0 MiB free; 16 are available, 10 of them with that much free/,
    ),
  );
  assert.throws(
    () => placeNodes({ needs: [3 << 20, 1, 1], nodes: space }),
    cdfsError(
      "UNAVAILABLE",
      /, 1 of them with at least 3\.0 MiB free; 16 are available, 0 of them/,
    ),
  );
});
