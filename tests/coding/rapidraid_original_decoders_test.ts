/**
 * The derived RapidRAID decoders against the original's hand-written ones (the fixture
 * `fixtures/decoders/rapidraid_original_decoders.ts`): same bytes on random data for every
 * survivor set the originals decode from.
 */
import assert from "node:assert/strict";
import { programOutputs } from "../../src/coding/analysis/symbolic.ts";
import type { CodingModule, FieldWidth } from "../../src/coding/lang/program.ts";
import { validateModule } from "../../src/coding/lang/validate.ts";
import { runLocal } from "../../src/coding/runtime/local_cluster.ts";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { codingModule as rapidraid16 } from "../../coding/rapidraid16.ts";
import {
  originalDecoderPrograms,
  withOriginalDecoders,
} from "./fixtures/decoders/rapidraid_original_decoders.ts";
import { decodeLocal, encodeLocal, randomBytes, rng, survivorBlocks } from "./code_harness.ts";

const MODULES: Record<FieldWidth, CodingModule> = { 8: rapidraid, 16: rapidraid16 };
const K = 11;

/** Random parts of an even length with a partial last chunk. */
function dataParts(seed: number): Uint8Array[] {
  const next = rng(seed);
  return Array.from({ length: K }, () => randomBytes(next, 1000));
}

/** Every subset of `extra`, each added to `base` (sorted). */
function withSubsets(base: readonly number[], extra: readonly number[]): number[][] {
  return Array.from({ length: 1 << extra.length }, (_, mask) => [
    ...base,
    ...extra.filter((_, t) => mask & (1 << t)),
  ]);
}

Deno.test("rapidraid original decoders: 11 decoders and 6 aux tees, valid with the module", () => {
  for (const field of [8, 16] as const) {
    const programs = originalDecoderPrograms(field);
    assert.deepEqual(Object.keys(programs), [
      ...Array.from({ length: K }, (_, i) => `dec_node${i}`),
      ...Array.from({ length: 6 }, (_, j) => `dec_node${j}_aux`),
    ]);
    validateModule(withOriginalDecoders(MODULES[field]), "test");
    // The module itself carries encoders only: decoders are derived.
    assert.ok(Object.keys(MODULES[field].programs).every((name) => name.startsWith("enc_node")));
  }
});

for (const field of [8, 16] as const) {
  Deno.test(`rapidraid GF(2^${field}): the hand-written decoders output e_j symbolically`, () => {
    const { written, output } = programOutputs(withOriginalDecoders(MODULES[field]), "dec_node10");
    assert.equal(output, undefined);
    assert.equal(written.size, K);
    for (let j = 0; j < K; j++) {
      const e = new Array(K).fill(0);
      e[j] = 1;
      assert.deepEqual(Array.from(written.get(`{id}.orig${j}`)!), e);
    }
  });

  Deno.test(`rapidraid GF(2^${field}): encode, then the original decoder (dec_node10)`, async () => {
    const m = MODULES[field];
    const parts = dataParts(field);
    const coded = await encodeLocal(m, "obj", parts, 256);
    const survivors = Array.from({ length: K }, (_, i) => i);
    const result = await runLocal(validateModule(withOriginalDecoders(m), "test"), "dec_node10", {
      objectId: "obj",
      blocks: survivorBlocks(m, "obj", coded, survivors),
      chunkSize: 256,
    });
    for (let j = 0; j < K; j++) assert.deepEqual(result.blocks.get(`${j}/obj.orig${j}`), parts[j]);
    // The derived decoder of the same survivors gives the same parts.
    const derived = await decodeLocal(m, "obj", coded, survivors, "parts", 256);
    assert.deepEqual(derived, parts);
  });

  // dec_node10 decodes whenever coded blocks 0..10 survive, whatever else does: the 32 sets
  // {0..10} ∪ S, S ⊆ {11..15}. The derived decoder gets them with the extra blocks listed first,
  // so that it decodes from other blocks than the original whenever it can.
  Deno.test(
    `rapidraid GF(2^${field}): derived and original decoders agree on every survivor set they share`,
    async () => {
      const m = MODULES[field];
      const extended = validateModule(withOriginalDecoders(m), "test");
      const parts = dataParts(300 + field);
      const coded = await encodeLocal(m, "obj", parts, 128);
      const prefix = Array.from({ length: K }, (_, i) => i);
      const sets = withSubsets(prefix, [11, 12, 13, 14, 15]);
      assert.equal(sets.length, 32);
      for (const [index, survivors] of sets.entries()) {
        const { blocks } = await runLocal(extended, "dec_node10", {
          objectId: "obj",
          blocks: survivorBlocks(m, "obj", coded, survivors),
          chunkSize: 128,
        });
        const original = Array.from({ length: K }, (_, j) => blocks.get(`${j}/obj.orig${j}`));
        const preferred = [...survivors.slice(K), ...prefix];
        const output = index % 2 === 0 ? "parts" : "stream";
        const derived = await decodeLocal(m, "obj", coded, preferred, output, 96);
        assert.deepEqual(derived, original, `survivors ${survivors.join(",")} (${output})`);
        assert.deepEqual(original, parts);
      }
    },
  );

  // dec_node<i> (i < 10) decodes parts 0..i from coded blocks 0..i alone (the generator is lower
  // triangular there): the same parts as the derived decoder's from any decodable superset.
  Deno.test(
    `rapidraid GF(2^${field}): each dec_node<i> gives the derived decoder's parts 0..i`,
    async () => {
      const m = MODULES[field];
      const extended = validateModule(withOriginalDecoders(m), "test");
      const parts = dataParts(400 + field);
      const coded = await encodeLocal(m, "obj", parts, 128);
      const derived = await decodeLocal(
        m,
        "obj",
        coded,
        [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
        "parts",
        128,
      );
      assert.deepEqual(derived, parts);
      for (let i = 0; i < K; i++) {
        const survivors = Array.from({ length: i + 1 }, (_, t) => t);
        const { blocks } = await runLocal(extended, `dec_node${i}`, {
          objectId: "obj",
          blocks: survivorBlocks(m, "obj", coded, survivors),
          chunkSize: 128,
        });
        for (let j = 0; j <= i; j++) {
          assert.deepEqual(blocks.get(`${j}/obj.orig${j}`), derived[j], `dec_node${i}, part ${j}`);
        }
      }
    },
  );
}
