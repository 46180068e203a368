/**
 * What the coding benchmark's encoders share: the object id, the k parts every process builds
 * from the same seed, where `runLocal` finds them, and the check of the bytes computed.
 *
 * @module
 */
import type { FieldMatrix } from "../../src/coding/analysis/field_matrix.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { referenceKernels } from "../../src/gf/region_ref.ts";

/** The object id the encodes run on. */
export const OBJECT_ID = "bench";

/**
 * Extra bytes between consecutive regions of the bare encode, as in `bench/gf/gf_worker.ts`: no two
 * regions start at the same offset within a 4 KiB page (aliasing costs the WASM kernel ~16%).
 */
export const REGION_STAGGER = 320;

/** Bytes per verified window; three windows (start, middle, end) per coded block. */
const VERIFY_WINDOW = 4096;

/**
 * The k parts of the benchmark: pseudo-random bytes from `seed` (xorshift32), the same in every
 * process. Written into `alloc`ated regions so the bare encode can place them in WebAssembly
 * memory.
 *
 * @example
 * ```ts
 * import { makeParts } from "./coding_parts.ts";
 * const [a] = makeParts(1, 1024, 7, (n) => new Uint8Array(n));
 * const [b] = makeParts(1, 1024, 7, (n) => new Uint8Array(n));
 * console.log(a![5] === b![5]); // true
 * ```
 *
 * @param k How many parts.
 * @param partSize Bytes per part (a multiple of 4).
 * @param seed Any integer; 0 is replaced by a fixed non-zero state.
 * @param alloc Returns a region of the given length, 4-byte aligned.
 * @returns The parts.
 */
export function makeParts(
  k: number,
  partSize: number,
  seed: number,
  alloc: (bytes: number) => Uint8Array,
): Uint8Array[] {
  let x = (seed >>> 0) || 0x9e3779b9;
  return Array.from({ length: k }, () => {
    const part = alloc(partSize);
    const words = new Uint32Array(part.buffer, part.byteOffset, partSize >>> 2);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    return part;
  });
}

/**
 * The block map of `runLocal`: every part on every node its module places it on.
 *
 * @example
 * ```ts
 * import { codingModule as rs } from "../../coding/rs.ts";
 * import { makeParts, placedParts } from "./coding_parts.ts";
 * const parts = makeParts(rs.k, 64, 1, (n) => new Uint8Array(n));
 * console.log(placedParts(rs, parts).size); // 11
 * ```
 *
 * @param module The coding module.
 * @param parts Its k parts.
 * @returns The blocks by `node/block`.
 */
export function placedParts(
  module: CodingModule,
  parts: readonly Uint8Array[],
): Map<string, Uint8Array> {
  const blocks = new Map<string, Uint8Array>();
  module.parts.forEach((part, j) => {
    for (const node of part.nodes) {
      blocks.set(`${node}/${expandBlockName(part.block, OBJECT_ID)}`, parts[j]!);
    }
  });
  return blocks;
}

/** Start offsets of the verified windows of a block of `length` bytes. */
function windows(length: number): number[] {
  const size = Math.min(VERIFY_WINDOW, length);
  const last = length - size;
  return [...new Set([0, Math.floor(last / 2 / 64) * 64, last])];
}

/**
 * Checks sampled windows (start, middle, end) of blocks against rows of a matrix times the
 * parts, computed by the TypeScript reference kernels: row `rows[i]` of `matrix` must give
 * `blocks[i]`. A benchmark of wrong bytes is worthless: any difference throws.
 *
 * @example
 * ```ts
 * import { makeParts, verifyBlocks } from "./coding_parts.ts";
 * const [part] = makeParts(1, 64, 3, (n) => new Uint8Array(n));
 * console.log(verifyBlocks("copy", [[1]], [0], [part!.slice()], [part!])); // 64
 * ```
 *
 * @param what What is checked, for the error.
 * @param matrix Rows of coefficients over the parts.
 * @param rows Which row each block must be.
 * @param blocks The blocks (undefined: missing).
 * @param parts The parts.
 * @returns The bytes compared.
 * @throws {Error} At the first wrong byte, or a block missing or of the wrong length.
 */
export function verifyBlocks(
  what: string,
  matrix: FieldMatrix | readonly (readonly number[])[],
  rows: readonly number[],
  coded: readonly (Uint8Array | undefined)[],
  parts: readonly Uint8Array[],
): number {
  let compared = 0;
  const length = parts[0]!.length;
  for (const at of windows(length)) {
    const end = Math.min(length, at + VERIFY_WINDOW);
    const ins = parts.map((p) => p.slice(at, end));
    const outs = rows.map(() => new Uint8Array(end - at));
    referenceKernels.dotProduct(outs, rows.map((r) => Uint8Array.from(matrix[r]!)), ins);
    rows.forEach((row, i) => {
      const block = coded[i];
      if (block === undefined || block.length !== length) {
        throw new Error(`${what}: coded block ${row} is missing or has the wrong length`);
      }
      const got = block.subarray(at, end);
      const want = outs[i]!;
      for (let b = 0; b < want.length; b++) {
        if (got[b] !== want[b]) {
          throw new Error(
            `wrong bytes, refusing to report: ${what} coded block ${row} differs at byte ` +
              `${at + b} (${got[b]} instead of ${want[b]})`,
          );
        }
      }
      compared += want.length;
    });
  }
  return compared;
}

/**
 * One timed encode (or decode, or repair) and the check of its output.
 *
 * @example
 * ```ts
 * import type { Encoder } from "./coding_parts.ts";
 * const idle: Encoder = { encode: () => Promise.resolve(), verify: () => 0 };
 * ```
 */
export interface Encoder {
  /** Runs it once. */
  encode(): Promise<void>;
  /** Checks the last run's output; returns the bytes compared. */
  verify(): number;
  /** Seconds of the last encode that count, when not its whole wall time. */
  timedSeconds?(): number;
}
