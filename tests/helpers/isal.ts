/**
 * ISA-L for the tests of the GF backend choice: the library opened once (`libisal.so.2`,
 * src/gf/region_isal.ts), or why it is not here, and the name a test that needs it takes (with
 * the reason it is skipped where the library is absent).
 *
 * @module
 */
import { type IsalLibrary, openIsal } from "../../src/gf/region_isal.ts";

function open(): IsalLibrary | string {
  try {
    return openIsal();
  } catch (e) {
    return (e as Error).message;
  }
}
const opened = open();

/** ISA-L, or null where it cannot be opened. */
export const isal: IsalLibrary | null = typeof opened === "string" ? null : opened;

/** Why ISA-L is not here, or null when it is. */
export const noIsal: string | null = typeof opened === "string" ? opened : null;

/**
 * A test's name, with the reason it is skipped where ISA-L is absent (pair it with
 * `ignore: noIsal !== null`).
 *
 * @param name The test's name.
 * @returns The name, or the name and why it is skipped.
 */
export function isalNamed(name: string): string {
  return noIsal === null ? name : `${name}: skipped: ISA-L is not available: ${noIsal}`;
}
