/**
 * Test helper: whether a code still decodes after losing some of its coded blocks (the
 * derived decode of the rest exists).
 *
 * @module
 */
import { deriveDecodePlan } from "../../src/coding/analysis/decoder.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { isCdfsError } from "../../src/core/errors.ts";

/** Whether `module` decodes from its coded blocks other than `lost`. */
export function decodesWithout(module: CodingModule, lost: readonly number[]): boolean {
  const survivors = module.coded.map((_, i) => i).filter((i) => !lost.includes(i));
  try {
    deriveDecodePlan(module, survivors);
    return true;
  } catch (error) {
    if (isCdfsError(error, "SINGULAR")) return false;
    throw error;
  }
}
