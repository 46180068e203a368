/**
 * Code families: a module file may export, besides its `codingModule`, a `codingFamily` that
 * builds a module from parameters, so that `--code rs:k=6,m=3` needs no file of its own (like
 * Ceph's erasure-code profiles). A spec is `family:key=value,...`; the family declares its
 * parameters with their ranges and the module it builds is named by the canonical spec (the
 * family's parameters in its order, every one given), so a manifest, a namenode record and a
 * CODING request that carry the name let any node build the same module.
 *
 * @module
 */

import { CdfsError } from "../../core/errors.ts";
import { CODING_MODULE_NAME_PATTERN } from "../../core/names.ts";
import type { CodingModule } from "./program.ts";

/**
 * One integer parameter of a family.
 *
 * @example
 * ```ts
 * import type { FamilyParameter } from "./family.ts";
 * const k: FamilyParameter = { name: "k", description: "data blocks", min: 1, max: 255 };
 * ```
 */
export interface FamilyParameter {
  /** The key in a spec (`k` of `rs:k=6,m=3`). */
  readonly name: string;
  /** What it is, for `cdfs code list`. */
  readonly description: string;
  /** The smallest value allowed. */
  readonly min: number;
  /** The largest value allowed. */
  readonly max: number;
  /** The value when the spec leaves it out (absent: the parameter is required). */
  readonly default?: number;
}

/**
 * A code family: parameters and the function that builds a module from them.
 *
 * @example
 * ```ts
 * import type { CodingFamily } from "./family.ts";
 * function describe(f: CodingFamily): string {
 *   return `${f.name}:${f.parameters.map((p) => `${p.name}=${p.min}..${p.max}`).join(",")}`;
 * }
 * ```
 */
export interface CodingFamily {
  /** The family's name: the file it lives in is `<name>.ts`. */
  readonly name: string;
  /** One line for `cdfs code list`. */
  readonly description: string;
  /** The parameters, in the order of the canonical spec. */
  readonly parameters: readonly FamilyParameter[];
  /**
   * Checks the parameters together (each is already in its range): the one-line reason they do
   * not fit, naming the parameter, or `undefined`.
   */
  readonly check?: (params: Readonly<Record<string, number>>) => string | undefined;
  /** Builds the module; it must be named `name` (the canonical spec). */
  readonly build: (params: Readonly<Record<string, number>>, name: string) => CodingModule;
  /** The family's free coefficients, for `cdfs code tune` (absent: nothing to tune). */
  readonly tunable?: FamilyTuning;
}

/**
 * The free coefficients of a family's members: the shape of their tables, the tables the
 * family uses, and how to build a member (and write a module file) from other tables.
 * `cdfs code tune` (`src/coding/analysis/tune.ts`) searches them.
 *
 * @example
 * ```ts
 * import type { FamilyTuning } from "./family.ts";
 * function coefficientCount(t: FamilyTuning, params: Record<string, number>): number {
 *   return t.shape(params).reduce((sum, table) => sum + table.length, 0);
 * }
 * ```
 */
export interface FamilyTuning {
  /** The tables of a member (params already checked): names and lengths, in order. */
  readonly shape: (
    params: Readonly<Record<string, number>>,
  ) => readonly { readonly name: string; readonly length: number }[];
  /** The tables the family builds the member with (nonzero GF(2^8) elements). */
  readonly initial: (
    params: Readonly<Record<string, number>>,
  ) => Readonly<Record<string, readonly number[]>>;
  /**
   * The largest total degree of a generator entry as a polynomial in the coefficients (1 when
   * every entry is a sum of coefficients): bounds the error of the structural test.
   */
  readonly degree: number;
  /** Builds the member with these tables (nonzero elements of the field) in GF(2^field). */
  readonly build: (
    params: Readonly<Record<string, number>>,
    tables: Readonly<Record<string, readonly number[]>>,
    field: 8 | 16,
    name: string,
  ) => CodingModule;
  /**
   * The text of a module file `<name>.ts` that builds the same member (importing only the SDK,
   * `cdfs/coding`); `comment` is a line or more of text for its header.
   */
  readonly source: (
    params: Readonly<Record<string, number>>,
    tables: Readonly<Record<string, readonly number[]>>,
    field: 8 | 16,
    name: string,
    comment: string,
  ) => string;
}

/**
 * A parsed module reference: a plain name, or a family and its parameters as written.
 *
 * @example
 * ```ts
 * import { parseModuleSpec } from "./family.ts";
 * console.log(parseModuleSpec("rs:k=6,m=3")); // { family: "rs", params: { k: 6, m: 3 } }
 * ```
 */
export interface ModuleSpec {
  /** The family (or the module's name when `params` is absent). */
  readonly family: string;
  /** The parameters given, when it is a spec. */
  readonly params?: Readonly<Record<string, number>>;
}

function bad(spec: string, message: string): never {
  throw new CdfsError("BAD_REQUEST", `code ${JSON.stringify(spec.slice(0, 80))}: ${message}`);
}

/**
 * Parses `name` or `family:key=value,...`.
 *
 * @example
 * ```ts
 * import { parseModuleSpec } from "./family.ts";
 * console.log(parseModuleSpec("rapidraid").params); // undefined
 * ```
 *
 * @param spec The text.
 * @returns The family (or name) and the parameters.
 * @throws {CdfsError} `BAD_REQUEST` naming what is malformed.
 */
export function parseModuleSpec(spec: string): ModuleSpec {
  if (typeof spec !== "string") bad(String(spec), "must be a string");
  const colon = spec.indexOf(":");
  const family = colon < 0 ? spec : spec.slice(0, colon);
  if (!CODING_MODULE_NAME_PATTERN.test(family)) {
    bad(
      spec,
      `${JSON.stringify(family)} is not a module or family name (lowercase letters, digits, ` +
        "_ and -, starting with a letter, at most 64)",
    );
  }
  if (colon < 0) return { family };
  if (spec.length > 64) bad(spec, `is ${spec.length} characters long, the limit is 64`);
  const params: Record<string, number> = {};
  for (const item of spec.slice(colon + 1).split(",")) {
    const match = /^([a-z][a-z0-9_]*)=([0-9]{1,9})$/.exec(item);
    if (match === null) {
      bad(spec, `parameter ${JSON.stringify(item)} is not key=value (a non-negative integer)`);
    }
    if (Object.hasOwn(params, match[1]!)) bad(spec, `parameter ${match[1]} is given twice`);
    params[match[1]!] = Number(match[2]);
  }
  return { family, params };
}

/**
 * Checks the parameters of a spec against its family (known keys, ranges, defaults, the
 * family's own check) and returns them complete, with the canonical spec.
 *
 * @example
 * ```ts
 * import { resolveFamilyParams } from "./family.ts";
 * import { codingFamily } from "../../../coding/rs.ts";
 * console.log(resolveFamilyParams(codingFamily, { m: 3, k: 6 }).name); // "rs:k=6,m=3"
 * ```
 *
 * @param family The family.
 * @param given The parameters as written.
 * @returns Every parameter's value and the canonical spec string.
 * @throws {CdfsError} `BAD_REQUEST`, one line naming the parameter and its allowed range.
 */
export function resolveFamilyParams(
  family: CodingFamily,
  given: Readonly<Record<string, number>>,
): { params: Record<string, number>; name: string } {
  const spec = `${family.name}:${Object.entries(given).map(([k, v]) => `${k}=${v}`).join(",")}`;
  const known = family.parameters.map((p) => p.name);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      bad(spec, `unknown parameter ${key} (${family.name} takes ${known.join(", ")})`);
    }
  }
  const params: Record<string, number> = {};
  for (const p of family.parameters) {
    const value = Object.hasOwn(given, p.name) ? given[p.name]! : p.default;
    if (value === undefined) {
      bad(spec, `parameter ${p.name} (${p.description}, ${p.min}..${p.max}) is missing`);
    }
    if (!Number.isSafeInteger(value) || value < p.min || value > p.max) {
      bad(
        spec,
        `parameter ${p.name} must be in ${p.min}..${p.max} (${p.description}), got ${value}`,
      );
    }
    params[p.name] = value;
  }
  const problem = family.check?.(params);
  if (problem !== undefined) bad(spec, problem);
  const name = `${family.name}:${
    family.parameters.map((p) => `${p.name}=${params[p.name]}`).join(",")
  }`;
  if (name.length > 64) bad(spec, `the spec ${name} is longer than 64 characters`);
  return { params, name };
}

/**
 * Checks a family's declaration (used by the loader on what a file exports).
 *
 * @example
 * ```ts
 * import { checkFamily } from "./family.ts";
 * import { codingFamily } from "../../../coding/rs.ts";
 * console.log(checkFamily(codingFamily, "rs").parameters.length); // 2
 * ```
 *
 * @param value What the file exports as `codingFamily`.
 * @param file The family's name (its file's).
 * @returns The family.
 * @throws {CdfsError} `BAD_REQUEST` when it is not a family named like its file.
 */
export function checkFamily(value: unknown, file: string): CodingFamily {
  const f = value as CodingFamily;
  const ok = typeof f === "object" && f !== null && typeof f.build === "function" &&
    typeof f.name === "string" && typeof f.description === "string" &&
    Array.isArray(f.parameters) &&
    f.parameters.every((p) =>
      typeof p === "object" && p !== null && /^[a-z][a-z0-9_]*$/.test(p.name) &&
      Number.isSafeInteger(p.min) && Number.isSafeInteger(p.max) && p.min <= p.max
    );
  if (!ok) {
    throw new CdfsError(
      "BAD_REQUEST",
      `code family '${file}': \`codingFamily\` is not a family (name, description, parameters ` +
        "with name/min/max, build)",
    );
  }
  if (f.name !== file) {
    throw new CdfsError(
      "BAD_REQUEST",
      `code family '${file}': the family is named '${f.name}' but its file is ${file}.ts`,
    );
  }
  return f;
}

/**
 * The family's spec template for listings: `rs:k=1..255,m=1..255`.
 *
 * @example
 * ```ts
 * import { familyUsage } from "./family.ts";
 * import { codingFamily } from "../../../coding/replication.ts";
 * console.log(familyUsage(codingFamily)); // "replication:n=1..64"
 * ```
 *
 * @param family The family.
 * @returns One line.
 */
export function familyUsage(family: CodingFamily): string {
  return `${family.name}:${
    family.parameters.map((p) =>
      `${p.name}=${p.min}..${p.max}${p.default === undefined ? "" : ` (default ${p.default})`}`
    ).join(",")
  }`;
}
