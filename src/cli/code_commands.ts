/**
 * `cdfs code list` and `cdfs code inspect`: the coding modules (built-in and `--coding-dir`),
 * and one module's code as symbolic execution sees it.
 *
 * @module
 */
import { listCodingModules, loadCodingModule } from "../coding/lang/loader.ts";
import { analyze } from "../coding/analysis/symbolic.ts";
import { type RepairTraffic, repairTraffic } from "../coding/analysis/repair.ts";
import { formatColumns } from "../format/columns.ts";
import { asUsageWhenMissingDir, codingDirs, loadModule } from "./coding_args.ts";
import { type CliContext, type Command, type ParsedArgs, positionals } from "./command.ts";
import { printJson } from "./json_line.ts";
import { CODING_DIR_OPTION, jsonOption } from "./options.ts";

/**
 * `cdfs code list`: the coding modules available.
 */
export const codeListCommand: Command = {
  name: "code list",
  summary: "List the coding modules: built-in ones and those of --coding-dir",
  usage: "cdfs code list [--coding-dir DIR] [--json]",
  description: [
    "One line per module: name, (n,k), field and description; a module that does not load is",
    "listed with the reason. A module in a --coding-dir hides a built-in one of the same name.",
    "Then the code families, with their parameters and ranges: --code FAMILY:KEY=VALUE,...",
    "(e.g. rs:k=6,m=3, lrc:k=10,l=2,r=2, rapidraid:n=12,k=8, replication:n=3) names a code of",
    "the family anywhere a module name is taken; the module is named by the canonical spec.",
  ].join("\n"),
  options: { ...CODING_DIR_OPTION, ...jsonOption("print a JSON array") },
  arguments: [],
  examples: ["cdfs code list", "cdfs code list --coding-dir ./coding --json"],
  run: runCodeList,
};

/**
 * `cdfs code inspect`: a module's code, as symbolic execution sees it.
 */
export const codeInspectCommand: Command = {
  name: "code inspect",
  summary: "Show a coding module's generator matrix, whether it is MDS, what cannot decode",
  usage: "cdfs code inspect [--coding-dir DIR] [--json] NAME",
  description: [
    "Runs the module's encode over coefficient vectors to get its generator matrix G (row i =",
    "coded block i as a combination of the k parts), then checks every k-subset of the n coded",
    "blocks: the code is MDS when all of them decode. Prints n, k, the field, G, and every",
    "undecodable k-subset (coded block indices).",
    "Repair traffic: for every coded block, the cheapest repair when it alone is lost (the",
    "fewest blocks read that span it: blocks read = bytes read per byte repaired), the average",
    "over all blocks and over the data blocks, and with two blocks lost the worst case.",
    "NAME may be a family spec (rs:k=10,m=4, rapidraid:n=12,k=8). The analysis checks every",
    "k-subset: a code with more than 2,000,000 of them (e.g. rapidraid:n=24,k=12) is refused.",
  ].join("\n"),
  options: {
    ...CODING_DIR_OPTION,
    ...jsonOption("print as JSON (generator as an array of rows)"),
  },
  arguments: [{ name: "NAME", description: "the module (see 'cdfs code list')" }],
  examples: [
    "cdfs code inspect rapidraid",
    "cdfs code inspect rs --json",
    "cdfs code inspect lrc:k=10,l=2,r=2",
    "cdfs code inspect rapidraid:n=12,k=8",
  ],
  run: runCodeInspect,
};

async function runCodeList(ctx: CliContext, args: ParsedArgs): Promise<number> {
  positionals(args, 0, 0, "");
  const search = { codingDirs: codingDirs(args) };
  const listing = await asUsageWhenMissingDir(listCodingModules(search));
  const rows = await Promise.all(listing.map(async (entry) => {
    if (entry.error !== undefined) return { ...entry };
    const module = await loadCodingModule(entry.name, search);
    return { ...entry, n: module.n, k: module.k, field: module.field };
  }));
  if (args.values.json === true) {
    printJson(ctx, rows);
    return 0;
  }
  // A module that does not load has a short row: its error spans the other columns.
  const table = rows.map((r) => {
    const where = r.builtin ? "" : `  [${r.path}]`;
    if (!("n" in r)) return [r.name, `does not load: ${r.error}${where}`];
    return [r.name, `(${r.n},${r.k})`, `GF(2^${r.field})`, `${r.description}${where}`];
  });
  ctx.out(formatColumns(table, 4).map((line) => `${line}\n`).join(""));
  const families = rows.flatMap((r) =>
    r.family === undefined ? [] : [[`  ${r.family}`, r.familyDescription ?? ""]]
  );
  if (families.length > 0) {
    ctx.out(`\nfamilies (--code FAMILY:KEY=VALUE,...):\n`);
    ctx.out(formatColumns(families, 4).map((line) => `${line}\n`).join(""));
  }
  return 0;
}

async function runCodeInspect(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name] = positionals(args, 1, 1, "NAME");
  const module = await loadModule(name!, args);
  const analysis = analyze(module);
  const repair = repairTraffic(module);
  const generator = analysis.generator.map((row) => Array.from(row));
  if (args.values.json === true) {
    printJson(ctx, {
      name: module.name,
      description: module.description,
      field: module.field,
      n: analysis.n,
      k: analysis.k,
      rank: analysis.rank,
      isMds: analysis.isMds,
      subsetCount: analysis.subsetCount,
      decodableCount: analysis.decodableCount,
      undecodableCount: analysis.undecodableSubsets.length,
      undecodableSubsets: analysis.undecodableSubsets,
      generator,
      coded: module.coded.map((c) => c.node),
      repair: repairJson(repair),
    });
    return 0;
  }
  const undecodable = analysis.undecodableSubsets.length;
  const lines = [
    `module       ${module.name}: ${module.description}`,
    `field        GF(2^${module.field})`,
    `n            ${analysis.n} coded blocks`,
    `k            ${analysis.k} parts`,
    `rank         ${analysis.rank}`,
    `MDS          ${analysis.isMds ? "yes" : "no"}`,
    `undecodable  ${undecodable} of the ${analysis.subsetCount} ${analysis.k}-subsets of the ` +
    `coded blocks`,
    "",
    "generator matrix (row i = coded block i and its node; column j = part j):",
  ];
  const cell = Math.max(1, ...generator.flat().map((v) => String(v).length));
  const label = `coded${module.n - 1}`.length;
  generator.forEach((row, i) => {
    const head = `coded${i}`.padEnd(label) + ` node ${String(module.coded[i]!.node).padEnd(3)}`;
    lines.push(`  ${head} ${row.map((v) => String(v).padStart(cell)).join(" ")}`);
  });
  if (undecodable > 0) {
    lines.push(
      "",
      `undecodable ${analysis.k}-subsets (coded block indices: if only these survive, the ` +
        "object is lost):",
    );
    for (const subset of analysis.undecodableSubsets) lines.push(`  {${subset.join(", ")}}`);
  }
  lines.push("", ...repairLines(repair, label));
  ctx.out(`${lines.join("\n")}\n`);
  return 0;
}

function figure(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

/** The repair figures as `code inspect --json` prints them. */
function repairJson(t: RepairTraffic): Record<string, unknown> {
  return {
    single: t.single.map((p, block) =>
      p === undefined ? { block, read: null } : { block, read: p.read, blocksRead: p.read.length }
    ),
    average: t.average,
    ...(t.averageData === undefined ? {} : { averageData: t.averageData }),
    ...(t.double === undefined ? {} : {
      double: {
        ...(t.double.worst === undefined ? {} : {
          worst: {
            block: t.double.worst.lost,
            alsoLost: t.double.worst.other,
            read: t.double.worst.read,
            blocksRead: t.double.worst.read.length,
          },
        }),
        average: t.double.average,
        unrepairable: t.double.unrepairable,
      },
    }),
  };
}

/** The repair figures as `code inspect` prints them. */
function repairLines(t: RepairTraffic, label: number): string[] {
  const lines = [
    "repair traffic, one lost block (blocks read = bytes read per byte repaired):",
  ];
  t.single.forEach((p, i) => {
    const head = `coded${i}`.padEnd(label);
    lines.push(
      p === undefined
        ? `  ${head} cannot be repaired from the others`
        : `  ${head} reads ${String(p.read.length).padStart(3)}: {${p.read.join(", ")}}`,
    );
  });
  lines.push(
    `  average ${figure(t.average)} blocks read per block repaired` +
      (t.averageData === undefined ? "" : `, ${figure(t.averageData)} over the data blocks`),
  );
  const d = t.double;
  if (d !== undefined) {
    const worst = d.worst === undefined
      ? "none can be repaired"
      : `worst: coded${d.worst.lost} with coded${d.worst.other} also lost reads ` +
        `${d.worst.read.length} ({${d.worst.read.join(", ")}})`;
    lines.push(
      `two lost blocks: ${worst}; average ${figure(d.average)}` +
        (d.unrepairable === 0 ? "" : `; ${d.unrepairable} (block, other lost) pairs unrepairable`),
    );
  }
  return lines;
}
