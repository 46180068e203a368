import assert from "node:assert/strict";
import { deriveRepairProgram } from "../../src/coding/analysis/decoder.ts";
import { analyze, generatorMatrix, programOutputs } from "../../src/coding/analysis/symbolic.ts";
import { validateModule } from "../../src/coding/lang/validate.ts";
import { codingModule as replication, replicationModule } from "../../coding/replication.ts";
import { decodeLocal, encodeLocal, randomBytes, rng } from "./code_harness.ts";

Deno.test("replication: three copies of one part, every copy decodes", () => {
  validateModule(replication, "coding/replication.ts");
  assert.equal(replication.n, 3);
  assert.equal(replication.k, 1);
  const a = analyze(replication);
  assert.deepEqual(a.generator, [Uint8Array.of(1), Uint8Array.of(1), Uint8Array.of(1)]);
  assert.equal(a.isMds, true);
  assert.equal(a.decodableCount, 3);
});

Deno.test("replication: the encode writes identical copies, any one decodes", async () => {
  const part = randomBytes(rng(4), 1234);
  const coded = await encodeLocal(replication, "obj", [part], 500);
  assert.deepEqual(coded, [part, part, part]);
  for (const i of [0, 1, 2]) {
    assert.deepEqual(await decodeLocal(replication, "obj", coded, [i], "parts", 500), [part]);
  }
});

Deno.test("replication: a copy is repaired from one other copy", () => {
  const repair = deriveRepairProgram(replication, 2, [1]);
  assert.equal(repair.node, 2);
  assert.deepEqual(repair.instructions.map((i) => i[0]), ["LOAD", "WRITE"]);
  assert.deepEqual(
    programOutputs(replication, repair).written.get("{id}.coded2"),
    Uint8Array.of(1),
  );
});

Deno.test("replicationModule: n copies; at least one", () => {
  const five = replicationModule(5, "replication5");
  validateModule(five, "coding/replication5.ts");
  assert.equal(generatorMatrix(five).length, 5);
  assert.throws(() => replicationModule(0), RangeError);
});
