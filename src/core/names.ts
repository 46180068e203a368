/**
 * The one rule for each kind of name that crosses the wire or names a file: coding modules and
 * their programs. The protocol validators, the module loader and the program validator all test
 * against these, so a name one accepts is never refused by another.
 *
 * @module
 */

/**
 * A coding module's name: what `--code` takes and the file `coding/NAME.ts` is loaded as.
 * Lower case so that it names the same file on every file system.
 *
 * @example
 * ```ts
 * import { CODING_MODULE_NAME_PATTERN } from "./names.ts";
 * console.log(CODING_MODULE_NAME_PATTERN.test("rapidraid")); // true
 * console.log(CODING_MODULE_NAME_PATTERN.test("RapidRAID")); // false
 * ```
 */
export const CODING_MODULE_NAME_PATTERN: RegExp = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * A coding module as `--code`, a CODING request, a manifest or a namenode record names it: a
 * module name, or a code family's spec `family:key=value,...` (`rs:k=6,m=3`), which is the
 * name of the module the family builds. At most 64 characters.
 *
 * @example
 * ```ts
 * import { CODING_MODULE_SPEC_PATTERN } from "./names.ts";
 * console.log(CODING_MODULE_SPEC_PATTERN.test("rs:k=6,m=3")); // true
 * console.log(CODING_MODULE_SPEC_PATTERN.test("rs")); // true
 * console.log(CODING_MODULE_SPEC_PATTERN.test("rs:k=")); // false
 * ```
 */
export const CODING_MODULE_SPEC_PATTERN: RegExp =
  /^(?=.{1,64}$)[a-z][a-z0-9_-]*(?::[a-z][a-z0-9_]*=[0-9]{1,9}(?:,[a-z][a-z0-9_]*=[0-9]{1,9})*)?$/;

/**
 * A program's name inside a module (`enc_node0`, `dec_node0_aux`).
 *
 * @example
 * ```ts
 * import { PROGRAM_NAME_PATTERN } from "./names.ts";
 * console.log(PROGRAM_NAME_PATTERN.test("dec_node0_aux")); // true
 * console.log(PROGRAM_NAME_PATTERN.test("0bad")); // false
 * ```
 */
export const PROGRAM_NAME_PATTERN: RegExp = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
