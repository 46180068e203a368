/**
 * `cdfs code tune`: searches the free coefficients of a family member (RapidRAID's xi/psi
 * tables) for the fewest undecodable k-subsets, against the structural floor, and writes a
 * module file with the best tables (`src/coding/analysis/tune.ts` does the work).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { analyze } from "../coding/analysis/symbolic.ts";
import { tuneCoefficients, type TuneResult } from "../coding/analysis/tune.ts";
import { parseModuleSpec, resolveFamilyParams } from "../coding/lang/family.ts";
import { loadCodingFamily } from "../coding/lang/loader.ts";
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { CODING_MODULE_NAME_PATTERN } from "../core/names.ts";
import { codingDirs } from "./coding_args.ts";
import {
  type CliContext,
  type Command,
  type ParsedArgs,
  positionals,
  stringOption,
} from "./command.ts";
import { printJson } from "./json_line.ts";
import { CODING_DIR_OPTION, jsonOption } from "./options.ts";

/**
 * `cdfs code tune`: the best coefficient tables of a family member.
 */
export const codeTuneCommand: Command = {
  name: "code tune",
  summary: "Search a code's free coefficients for the fewest undecodable subsets",
  usage: "cdfs code tune --field 8|16 [--seconds N] [--seed S] [--iterations N] [--out FILE] " +
    "[--coding-dir DIR] [--json] CODE",
  description: [
    "CODE is a member of a family with free coefficients (rapidraid:n=16,k=11: its xi and psi",
    "tables). Counts the structural undecodable k-subsets (rank-deficient with the coefficients",
    "as independent symbols: singular for 4 random GF(2^16) draws; the chance that one of them",
    "is decodable for some coefficients is printed, from Schwartz-Zippel), then searches tables",
    "in GF(2^field): random restarts and one-coefficient moves (the best value of that",
    "coefficient, never worse), deterministic for a --seed and an --iterations cap, stopped by",
    "--seconds or at the structural floor; progress on standard error. Prints the counts with",
    "the family's tables and with the best ones (checked by the analyzer), and those tables.",
    "--out DIR/NAME.ts writes a coding module NAME that builds the code with them (load it",
    "with --coding-dir DIR).",
  ].join("\n"),
  options: {
    field: { type: "string", value: "8|16", description: "the field of the tables searched" },
    seconds: {
      type: "string",
      value: "N",
      default: 10,
      description: "search for at most N seconds (1..3600)",
    },
    seed: { type: "string", value: "S", default: 1, description: "seed of the search" },
    iterations: {
      type: "string",
      value: "N",
      description: "stop after N coefficient moves (a deterministic budget)",
    },
    out: {
      type: "string",
      value: "FILE",
      description: "write a coding module with the best tables to FILE (NAME.ts)",
    },
    ...CODING_DIR_OPTION,
    ...jsonOption("print the result as JSON"),
  },
  arguments: [{ name: "CODE", description: "a family spec, e.g. rapidraid:n=16,k=11" }],
  examples: [
    "cdfs code tune --field 8 --seconds 30 rapidraid:n=16,k=11",
    "cdfs code tune --field 16 --seed 7 --out ./codes/rr16_11.ts rapidraid:n=16,k=11",
  ],
  run: runCodeTune,
};

function integerIn(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new CdfsError("USAGE", `--${name} must be an integer in ${min}..${max}, got '${text}'`);
  }
  return value;
}

/** The module name of `--out FILE`: its base name without `.ts`. */
function outName(file: string): string {
  const base = basename(file);
  const name = base.endsWith(".ts") ? base.slice(0, -3) : "";
  if (!CODING_MODULE_NAME_PATTERN.test(name)) {
    throw new CdfsError(
      "USAGE",
      `--out ${file}: must be NAME.ts, NAME a module name (lowercase letters, digits, _ and -, ` +
        "starting with a letter)",
    );
  }
  return name;
}

async function familyTuning(code: string, args: ParsedArgs) {
  const spec = parseSpec(code);
  let family;
  try {
    family = await loadCodingFamily(spec.family, { codingDirs: codingDirs(args) });
  } catch (error) {
    if (isCdfsError(error, "NOT_FOUND")) {
      // The loader names what it looked for (or the --coding-dir that does not exist).
      throw new CdfsError("USAGE", `unknown code family '${spec.family}': ${error.message}`);
    }
    throw error;
  }
  if (family?.tunable === undefined) {
    throw new CdfsError(
      "USAGE",
      `code ${code}: '${spec.family}' has no free coefficients to tune (rapidraid has)`,
    );
  }
  try {
    const { params, name } = resolveFamilyParams(family, spec.params);
    return { tuning: family.tunable, params, name };
  } catch (error) {
    if (isCdfsError(error, "BAD_REQUEST")) throw new CdfsError("USAGE", error.message);
    throw error;
  }
}

function parseSpec(code: string): { family: string; params: Record<string, number> } {
  try {
    const spec = parseModuleSpec(code);
    if (spec.params === undefined) {
      throw new CdfsError(
        "USAGE",
        `code ${code}: give a family spec FAMILY:KEY=VALUE,... (e.g. rapidraid:n=16,k=11)`,
      );
    }
    return { family: spec.family, params: { ...spec.params } };
  } catch (error) {
    if (isCdfsError(error, "BAD_REQUEST")) throw new CdfsError("USAGE", error.message);
    throw error;
  }
}

async function runCodeTune(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [code] = positionals(args, 1, 1, "CODE");
  const fieldText = stringOption(args, "field");
  if (fieldText !== "8" && fieldText !== "16") {
    throw new CdfsError(
      "USAGE",
      fieldText === undefined
        ? "--field 8|16 is required"
        : `--field must be 8 or 16, got '${fieldText}'`,
    );
  }
  const field = fieldText === "8" ? 8 : 16;
  const seconds = integerIn(args, "seconds", 1, 3600) ?? 10;
  const seed = integerIn(args, "seed", 0, 0xffffffff) ?? 1;
  const iterations = integerIn(args, "iterations", 1, 1_000_000_000);
  const out = stringOption(args, "out");
  const moduleName = out === undefined ? undefined : outName(out);
  const { tuning, params, name } = await familyTuning(code!, args);
  let result: TuneResult;
  try {
    result = tuneCoefficients(tuning, params, name, {
      field,
      seed,
      seconds,
      ...(iterations === undefined ? {} : { iterations }),
      onProgress: (p) =>
        ctx.err(
          `tune: best ${p.best} undecodable (now ${p.current}), ${p.restarts} restarts, ` +
            `${p.moves} moves, ${(p.elapsedMs / 1000).toFixed(1)} s\n`,
        ),
    });
  } catch (error) {
    if (isCdfsError(error, "BAD_REQUEST")) throw new CdfsError("USAGE", error.message);
    throw error;
  }
  // The analyzer's count for the best tables is the one printed (the search's must agree).
  const best = tuning.build(params, result.tables, field, name);
  const after = analyze(best).undecodableSubsets.length;
  if (after !== result.after) {
    throw new Error(`tune: the search counted ${result.after}, the analyzer ${after}`);
  }
  const structural = result.structural.subsets.length;
  const summary =
    `${result.before} undecodable ${result.k}-subsets of ${result.subsetCount} with ` +
    `the family's tables, ${after} with these (structural floor ${structural}; search seed ` +
    `${seed}, ${result.moves} moves, ${result.restarts} restarts, ${
      (result.elapsedMs / 1000).toFixed(1)
    } s)`;
  if (out !== undefined) {
    const source = tuning.source(
      params,
      result.tables,
      field,
      moduleName!,
      [
        `Tables found by \`cdfs code tune --field ${field} --seed ${seed} ${name}\`:`,
        summary + ".",
      ].join("\n"),
    );
    await writeAtomically(out, source);
  }
  const accidental = (count: number) => count - structural;
  if (args.values.json === true) {
    printJson(ctx, {
      code: name,
      field,
      n: result.n,
      k: result.k,
      subsetCount: result.subsetCount,
      before: result.before,
      after,
      structural,
      structuralSubsets: result.structural.subsets,
      structuralDraws: result.structural.draws,
      structuralErrorBound: result.structural.bound,
      tables: result.tables,
      seed,
      moves: result.moves,
      restarts: result.restarts,
      seconds: result.elapsedMs / 1000,
      stopped: result.stopped,
      ...(out === undefined ? {} : { out, module: moduleName }),
    });
    return 0;
  }
  const lines = [
    `code         ${name}, tables in GF(2^${field})`,
    `subsets      ${result.subsetCount} ${result.k}-subsets of the ${result.n} coded blocks`,
    `structural   ${structural} (singular for every coefficient choice; ${result.structural.draws} ` +
    `random GF(2^16) draws, P(wrong) <= ${result.structural.bound.toExponential(1)})`,
    `before       ${result.before} undecodable (${accidental(result.before)} accidental), the ` +
    "family's tables",
    `after        ${after} undecodable (${accidental(after)} accidental)`,
    `search       seed ${seed}, ${result.moves} moves, ${result.restarts} restarts, ` +
    `${(result.elapsedMs / 1000).toFixed(1)} s, stopped: ${stopReason(result.stopped)}`,
    ...Object.entries(result.tables).map(([t, values]) => `${t.padEnd(12)} ${values.join(" ")}`),
    ...(out === undefined ? [] : [`wrote        ${out} (module ${moduleName})`]),
  ];
  ctx.out(`${lines.join("\n")}\n`);
  return 0;
}

function stopReason(stopped: TuneResult["stopped"]): string {
  return stopped === "floor"
    ? "reached the structural floor"
    : stopped === "iterations"
    ? "--iterations reached"
    : "--seconds reached";
}

/** Writes `text` to a temporary file beside `path` and renames it over `path`. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(temp, text);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new CdfsError("USAGE", `--out ${path}: ${(error as Error).message}`);
  }
}
