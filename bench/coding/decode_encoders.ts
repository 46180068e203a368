/**
 * The coding benchmark's decodes and repairs (issue 15 item 3), through the same interpreter
 * as the encodes: the derived decode from the worst-conditioned decodable k-subset of coded
 * blocks (the one whose decoding matrix has the most non-zero coefficients, so the most
 * multiply-adds per byte), and the derived repair of the one coded block whose cheapest repair
 * reads the most survivors. The coded blocks they read come from one untimed encode.
 *
 * @module
 */
import type { BufferPool } from "../../src/buffer/pool.ts";
import {
  type DecodePlan,
  deriveDecodePlan,
  deriveRepairProgram,
  withPrograms,
} from "../../src/coding/analysis/decoder.ts";
import { generatorMatrix } from "../../src/coding/analysis/symbolic.ts";
import type { CodingModule, Program } from "../../src/coding/lang/program.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { type LocalRunResult, runLocal } from "../../src/coding/runtime/local_cluster.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { type Encoder, makeParts, OBJECT_ID, placedParts, verifyBlocks } from "./coding_parts.ts";

/**
 * Sizes and seed of a run (a `CodingJob`'s).
 *
 * @example
 * ```ts
 * import type { Sizes } from "./decode_encoders.ts";
 * const sizes: Sizes = { partSize: 1 << 20, chunkSize: 1 << 16, seed: 7 };
 * ```
 */
export interface Sizes {
  /** Bytes per part. */
  readonly partSize: number;
  /** The interpreter's step size. */
  readonly chunkSize: number;
  /** Seeds the parts' bytes. */
  readonly seed: number;
}

/** `runLocal` of `entries` on `blocks`, into the previous run's blocks when there is one. */
function runOn(
  module: CodingModule,
  entries: string | readonly string[],
  blocks: Map<string, Uint8Array>,
  sizes: Sizes,
  pool: BufferPool | undefined,
  last: LocalRunResult | undefined,
): Promise<LocalRunResult> {
  return runLocal(module, entries, {
    objectId: OBJECT_ID,
    blocks,
    chunkSize: sizes.chunkSize,
    ...(pool === undefined ? {} : { pool }),
    ...(last === undefined ? {} : { into: last.blocks }),
  });
}

/** `k`-subsets of `0..n-1`, in lexicographic order. */
function* subsets(n: number, k: number): Generator<number[]> {
  const pick = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield [...pick];
    let i = k - 1;
    while (i >= 0 && pick[i] === n - k + i) i--;
    if (i < 0) return;
    pick[i]!++;
    for (let j = i + 1; j < k; j++) pick[j] = pick[j - 1]! + 1;
  }
}

/**
 * The decode plan of the worst-conditioned decodable k-subset of a module's coded blocks: the
 * most non-zero coefficients in its decoding matrix (the first such subset on a tie).
 *
 * @example
 * ```ts
 * import { codingModule as rs } from "../../coding/rs.ts";
 * import { worstDecodePlan } from "./decode_encoders.ts";
 * console.log(worstDecodePlan(rs).used.filter((i) => i >= rs.k).length); // 5
 * ```
 *
 * @param module The coding module.
 * @returns The plan (its decode writes the k parts on its coordinator).
 */
export function worstDecodePlan(module: CodingModule): DecodePlan {
  let worst: { plan: DecodePlan; weight: number } | undefined;
  for (const survivors of subsets(module.n, module.k)) {
    let plan: DecodePlan;
    try {
      plan = deriveDecodePlan(module, survivors);
    } catch (error) {
      if (isCdfsError(error, "SINGULAR")) continue;
      throw error;
    }
    const weight = plan.decodeMatrix.reduce(
      (sum, row) => sum + row.filter((c) => c !== 0).length,
      0,
    );
    if (worst === undefined || weight > worst.weight) worst = { plan, weight };
  }
  if (worst === undefined) throw new Error(`${module.name}: no decodable k-subset`);
  return worst.plan;
}

/**
 * The repair of the coded block whose cheapest repair (from all the others) reads the most
 * survivors (the first such block on a tie).
 *
 * @example
 * ```ts
 * import { codingModule as rs } from "../../coding/rs.ts";
 * import { worstRepair } from "./decode_encoders.ts";
 * const { lost, program } = worstRepair(rs);
 * console.log(lost, program.streams.length - 1); // 0 11
 * ```
 *
 * @param module The coding module.
 * @returns The block rebuilt, and the repair program.
 */
export function worstRepair(module: CodingModule): { lost: number; program: Program } {
  let worst: { lost: number; program: Program; reads: number } | undefined;
  for (let lost = 0; lost < module.n; lost++) {
    const others = Array.from({ length: module.n }, (_, i) => i).filter((i) => i !== lost);
    const program = deriveRepairProgram(module, lost, others);
    const reads = program.streams.length - 1;
    if (worst === undefined || reads > worst.reads) worst = { lost, program, reads };
  }
  return worst!;
}

/** Every coded block of `module` computed by one encode, by `node/block`. */
async function codedBlocks(
  module: CodingModule,
  entry: string | readonly string[],
  parts: readonly Uint8Array[],
  sizes: Sizes,
  pool: BufferPool | undefined,
): Promise<Map<string, Uint8Array>> {
  const encoded = await runOn(module, entry, placedParts(module, parts), sizes, pool, undefined);
  const coded = new Map<string, Uint8Array>();
  for (const c of module.coded) {
    const key = `${c.node}/${expandBlockName(c.block, OBJECT_ID)}`;
    coded.set(key, encoded.blocks.get(key)!);
  }
  return coded;
}

/**
 * A decode of the worst-conditioned decodable k-subset through the interpreter
 * (`runLocal` of the derived decode program), checked against the parts. Its bytes per run
 * are the k parts' (as an encode's).
 *
 * @example
 * ```ts
 * import { codingModule as rs } from "../../coding/rs.ts";
 * import { decodeEncoder } from "./decode_encoders.ts";
 * const decode = decodeEncoder(rs, rs.encode, { partSize: 1 << 14, chunkSize: 1 << 12, seed: 1 });
 * await decode.encode();
 * console.log(decode.verify() > 0); // true
 * ```
 *
 * @param module The coding module.
 * @param entry Its encode's programs (run once, untimed, for the coded blocks).
 * @param sizes Part and step sizes, the parts' seed.
 * @param pool The interpreter's pool (default: `runLocal`'s).
 * @returns The decoder, as an {@linkcode Encoder}.
 */
export function decodeEncoder(
  module: CodingModule,
  entry: string | readonly string[],
  sizes: Sizes,
  pool?: BufferPool,
): Encoder {
  const parts = makeParts(module.k, sizes.partSize, sizes.seed, (n) => new Uint8Array(n));
  const plan = worstDecodePlan(module);
  const decoding = withPrograms(module, plan.programs);
  let coded: Map<string, Uint8Array> | undefined;
  let last: LocalRunResult | undefined;
  return {
    async encode() {
      coded ??= await codedBlocks(module, entry, parts, sizes, pool);
      last = await runOn(decoding, plan.entries, coded, sizes, pool, last);
    },
    verify() {
      const outputs = plan.partOutputs.map((template) =>
        last!.blocks.get(`${plan.coordinator}/${expandBlockName(template, OBJECT_ID)}`)
      );
      const identity = parts.map((_, j) => parts.map((_, t) => (t === j ? 1 : 0)));
      return verifyBlocks(
        `${module.name} decode from ${plan.used.join(",")}`,
        identity,
        parts.map((_, j) => j),
        outputs,
        parts,
      );
    },
  };
}

/**
 * The repair of the coded block whose cheapest repair reads the most survivors, through the
 * interpreter (`runLocal` of the derived repair program), checked against the encode's block.
 * Its bytes per run are the survivors' it reads (`bytesPerRun`).
 *
 * @example
 * ```ts
 * import { codingModule as rs } from "../../coding/rs.ts";
 * import { repairEncoder } from "./decode_encoders.ts";
 * const repair = repairEncoder(rs, rs.encode, { partSize: 1 << 14, chunkSize: 1 << 12, seed: 1 });
 * await repair.encode();
 * console.log(repair.verify() > 0, repair.bytesPerRun); // true 180224
 * ```
 *
 * @param module The coding module.
 * @param entry Its encode's programs (run once, untimed, for the coded blocks).
 * @param sizes Part and step sizes, the parts' seed.
 * @param pool The interpreter's pool (default: `runLocal`'s).
 * @returns The repairer, as an {@linkcode Encoder}, with the bytes it reads per run.
 */
export function repairEncoder(
  module: CodingModule,
  entry: string | readonly string[],
  sizes: Sizes,
  pool?: BufferPool,
): Encoder & { bytesPerRun: number } {
  const parts = makeParts(module.k, sizes.partSize, sizes.seed, (n) => new Uint8Array(n));
  const { lost, program } = worstRepair(module);
  const repairing = withPrograms(module, { repair: program });
  let coded: Map<string, Uint8Array> | undefined;
  let last: LocalRunResult | undefined;
  const target = module.coded[lost]!;
  const key = `${program.node}/${expandBlockName(target.block, OBJECT_ID)}`;
  return {
    bytesPerRun: (program.streams.length - 1) * sizes.partSize,
    async encode() {
      if (coded === undefined) {
        coded = await codedBlocks(module, entry, parts, sizes, pool);
        coded.delete(key); // lost: the repair writes it anew
      }
      last = await runOn(repairing, "repair", coded, sizes, pool, last);
    },
    verify() {
      return verifyBlocks(
        `${module.name} repair of coded block ${lost}`,
        generatorMatrix(module),
        [lost],
        [last!.blocks.get(key)],
        parts,
      );
    },
  };
}
