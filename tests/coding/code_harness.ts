/**
 * Shared test harness for the coding module tests: deterministic random data, placement of
 * parts on logical nodes, encode/decode runs on the in-process cluster, and an independent
 * rank computation (plain scalar Gaussian elimination, not the code under test).
 *
 * @module
 */

import * as gf256 from "../../src/gf/gf256.ts";
import * as gf65536 from "../../src/gf/gf65536.ts";
import { deriveDecodePlan, withPrograms } from "../../src/coding/analysis/decoder.ts";
import { runLocal } from "../../src/coding/runtime/local_cluster.ts";
import type { CodingModule, FieldWidth } from "../../src/coding/lang/program.ts";
import { validateModule } from "../../src/coding/lang/validate.ts";

/**
 * A deterministic pseudo-random generator (xorshift32), so failures reproduce.
 *
 * @example
 * ```ts
 * const next = rng(1);
 * next();
 * ```
 */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/**
 * `length` pseudo-random bytes.
 *
 * @example
 * ```ts
 * randomBytes(rng(1), 16);
 * ```
 */
export function randomBytes(next: () => number, length: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, () => next() & 255);
}

/**
 * Every k-subset of 0..n-1 in lexicographic order.
 *
 * @example
 * ```ts
 * [...combinations(4, 2)];
 * ```
 */
export function* combinations(n: number, k: number): Generator<number[]> {
  const s = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield s.slice();
    let t = k - 1;
    while (t >= 0 && s[t] === n - k + t) t--;
    if (t < 0) return;
    s[t]!++;
    for (let u = t + 1; u < k; u++) s[u] = s[u - 1]! + 1;
  }
}

/**
 * The rank of a matrix by textbook elimination over the field's scalar `mul`/`inv`: an
 * independent check of the library's rank and analysis.
 *
 * @example
 * ```ts
 * independentRank(8, [[1, 2], [2, 4]]); // 1
 * ```
 */
export function independentRank(field: FieldWidth, rows: readonly ArrayLike<number>[]): number {
  const mul = field === 8 ? gf256.mul : gf65536.mul;
  const inv = field === 8 ? gf256.inv : gf65536.inv;
  const m = rows.map((r) => Array.from(r));
  const cols = m[0]?.length ?? 0;
  let rank = 0;
  for (let col = 0; col < cols && rank < m.length; col++) {
    const p = m.findIndex((r, i) => i >= rank && r[col] !== 0);
    if (p < 0) continue;
    [m[p], m[rank]] = [m[rank]!, m[p]!];
    const pivot = m[rank]!;
    const s = inv(pivot[col]!);
    for (let j = 0; j < cols; j++) pivot[j] = mul(s, pivot[j]!);
    for (let i = 0; i < m.length; i++) {
      const c = m[i]![col]!;
      if (i === rank || c === 0) continue;
      for (let j = 0; j < cols; j++) m[i]![j]! ^= mul(c, pivot[j]!);
    }
    rank++;
  }
  return rank;
}

function blockId(template: string, objectId: string): string {
  return template.replaceAll("{id}", objectId);
}

/**
 * The part blocks of an object on every node the module places them, keyed like `runLocal`.
 *
 * @example
 * ```ts
 * declare const m: CodingModule;
 * placeParts(m, "obj", []);
 * ```
 */
export function placeParts(
  module: CodingModule,
  objectId: string,
  parts: readonly Uint8Array[],
): Map<string, Uint8Array> {
  const blocks = new Map<string, Uint8Array>();
  module.parts.forEach((p, j) => {
    for (const node of p.nodes) blocks.set(`${node}/${blockId(p.block, objectId)}`, parts[j]!);
  });
  return blocks;
}

/**
 * Encodes an object's parts on the in-process cluster and returns the n coded blocks.
 *
 * @example
 * ```ts
 * declare const m: CodingModule;
 * await encodeLocal(m, "obj", [], 64);
 * ```
 */
export async function encodeLocal(
  module: CodingModule,
  objectId: string,
  parts: readonly Uint8Array[],
  chunkSize: number,
): Promise<Uint8Array[]> {
  const validated = validateModule(module, "test");
  const { blocks } = await runLocal(validated, validated.encode, {
    objectId,
    blocks: placeParts(module, objectId, parts),
    chunkSize,
  });
  return module.coded.map((c, i) => {
    const key = `${c.node}/${blockId(c.block, objectId)}`;
    const bytes = blocks.get(key) ?? placeParts(module, objectId, parts).get(key);
    if (bytes === undefined) throw new Error(`coded block ${i} (${key}) was not written`);
    return bytes;
  });
}

/**
 * The given coded blocks on their nodes, keyed like `runLocal`.
 *
 * @example
 * ```ts
 * declare const m: CodingModule;
 * survivorBlocks(m, "obj", [], []);
 * ```
 */
export function survivorBlocks(
  module: CodingModule,
  objectId: string,
  coded: readonly Uint8Array[],
  survivors: readonly number[],
): Map<string, Uint8Array> {
  return new Map(survivors.map((i) => {
    const c = module.coded[i]!;
    return [`${c.node}/${blockId(c.block, objectId)}`, coded[i]!];
  }));
}

/**
 * Decodes the k parts from surviving coded blocks with a derived plan on the in-process
 * cluster (only the survivors exist on the nodes).
 *
 * @example
 * ```ts
 * declare const m: CodingModule;
 * await decodeLocal(m, "obj", [], [0], "parts", 64);
 * ```
 */
export async function decodeLocal(
  module: CodingModule,
  objectId: string,
  coded: readonly Uint8Array[],
  survivors: readonly number[],
  output: "parts" | "stream",
  chunkSize: number,
): Promise<Uint8Array[]> {
  const plan = deriveDecodePlan(module, survivors, { output });
  const extended = validateModule(withPrograms(module, plan.programs), "test plan");
  const result = await runLocal(extended, plan.entries, {
    objectId,
    blocks: survivorBlocks(module, objectId, coded, survivors),
    chunkSize,
    length: coded[plan.used[0]!]!.length,
  });
  return plan.partOutputs.map((where) => {
    const bytes = output === "parts"
      ? result.blocks.get(`${plan.coordinator}/${blockId(where, objectId)}`)
      : result.streams.get(where);
    if (bytes === undefined) throw new Error(`decoded part ${where} is missing`);
    return bytes;
  });
}
