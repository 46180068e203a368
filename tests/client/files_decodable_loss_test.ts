import assert from "node:assert/strict";
import { decodableLoss } from "../../src/client/files/decodable_loss.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import type { FileView } from "../../src/namenode/responses.ts";
import { decodesWithout } from "../helpers/decodable.ts";

/** An archived RapidRAID file whose coded block `order[j]` lies on datanode `dn<j>`. */
function archived(order: readonly number[], dead: readonly string[] = []): FileView {
  return {
    fileId: 1,
    objectId: "f1",
    name: "big.iso",
    code: "rapidraid",
    length: 1 << 20,
    digest: null,
    state: "archived",
    created: "",
    committed: null,
    version: 3,
    blocks: order.map((index, j) => ({
      block: `f1.coded${index}`,
      kind: "coded" as const,
      index,
      node: `dn${j}`,
      address: null,
      alive: !dead.includes(`dn${j}`),
      state: "stored" as const,
    })),
  };
}

const nodes = Array.from({ length: 16 }, (_, j) => `dn${j}`);
/** Coded blocks 0, 1, 3, 5, 8 on datanodes 0..4: a loss RapidRAID cannot decode. */
const order = [0, 1, 3, 5, 8, 2, 4, 6, 7, 9, 10, 11, 12, 13, 14, 15];

const decodes = (lost: readonly number[]) => decodesWithout(rapidraid, lost);

Deno.test("decodableLoss passes over a loss RapidRAID cannot decode to the next that it can", async () => {
  assert.equal(decodes([0, 1, 3, 5, 8]), false, "the first 5 datanodes are an undecodable loss");
  const lost = await decodableLoss(archived(order), nodes, 5);
  assert.deepEqual(lost, ["dn0", "dn1", "dn2", "dn3", "dn5"]);
  assert.equal(decodes(lost.map((id) => order[nodes.indexOf(id)]!)), true);
});

Deno.test("decodableLoss counts blocks on dead datanodes as lost already", async () => {
  // dn15 is dead: losing 5 more leaves 10 of 16 coded blocks, never enough for k = 11.
  await assert.rejects(
    decodableLoss(archived(order, ["dn15"]), nodes.slice(0, 15), 5),
    (e) => isCdfsError(e, "SINGULAR") && /no 5 of these datanodes can be lost/.test(e.message),
  );
  assert.deepEqual(
    await decodableLoss(archived(order, ["dn15"]), nodes.slice(0, 15), 4),
    ["dn0", "dn1", "dn2", "dn3"],
  );
});

Deno.test("decodableLoss refuses a count it cannot choose", async () => {
  await assert.rejects(
    decodableLoss(archived(order), nodes.slice(0, 3), 4),
    (e) => isCdfsError(e, "USAGE") && /cannot choose 4 of 3 datanodes/.test(e.message),
  );
});
