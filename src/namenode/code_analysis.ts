/**
 * Decodability, decided on the namenode. FSCK must tell a degraded file (some copies gone, the
 * rest still decode) from a lost one, and later repairs must choose what to rebuild from; both
 * are namenode decisions (DESIGN.md: "Repairs ... are decisions of the namenode"), and
 * layering lets `src/namenode` use `src/coding` for analysis. So the namenode loads the
 * file's coding module (`src/coding/lang/loader.ts`, the same search as the datanodes: user
 * directories first, then the built-in `coding/`), runs its programs symbolically once to get
 * the generator matrix, and asks whether the available blocks span the data: part j is the
 * unit vector e_j, coded block i is row i of the generator; the file decodes iff their rank is
 * k. Results are cached per code. A code the namenode cannot load (a user module installed on
 * clients and datanodes only) makes the verdict "unknown", never a guess.
 *
 * @module
 */
import { loadCodingModule } from "../coding/lang/loader.ts";
import type { CodingModule, FieldWidth } from "../coding/lang/program.ts";
import { fieldRank, type FieldVector, unitVector } from "../coding/analysis/field_matrix.ts";
import { generatorMatrix } from "../coding/analysis/symbolic.ts";
import { type CodeLayout, layoutOfModule } from "./layout.ts";
import type { BlockRole } from "./meta/model.ts";

/**
 * Loads a coding module by name.
 *
 * @example
 * ```ts
 * import type { ModuleLoader } from "./code_analysis.ts";
 * import { loadCodingModule } from "../coding/lang/loader.ts";
 * const loader: ModuleLoader = (name) => loadCodingModule(name, { codingDirs: ["./my-codes"] });
 * ```
 */
export type ModuleLoader = (name: string) => Promise<CodingModule>;

/**
 * A verdict: whether the roles decode the file, or why it cannot be told.
 *
 * @example
 * ```ts
 * import type { Decodability } from "./code_analysis.ts";
 * const v: Decodability = { decodable: null, note: "code \"mine\" is not available here" };
 * ```
 */
export type Decodability =
  | { readonly decodable: boolean; readonly note: null }
  | { readonly decodable: null; readonly note: string };

interface Analysis {
  readonly k: number;
  readonly field: FieldWidth;
  readonly generator: readonly FieldVector[];
  readonly layout: CodeLayout;
}

/** How long a code that failed to load is not tried again. */
const FAILURE_TTL_MS = 60_000;

/**
 * The codes the namenode knows, analysed on first use.
 *
 * @example
 * ```ts
 * import { CodeCatalog } from "./code_analysis.ts";
 * const catalog = new CodeCatalog();
 * const verdict = await catalog.decodable("rs", [{ kind: "coded", index: 15 }]);
 * console.log(verdict.decodable); // false: one block of an RS(16,11) code
 * ```
 */
export class CodeCatalog {
  readonly #load: ModuleLoader;
  readonly #analyses = new Map<string, Promise<Analysis>>();
  readonly #failures = new Map<string, { message: string; at: number }>();

  /**
   * An empty catalog: each module is loaded and analyzed on its first use.
   *
   * @param load How modules are loaded (default: cdfs's loader, built-in modules only).
   */
  constructor(load: ModuleLoader = (name) => loadCodingModule(name)) {
    this.#load = load;
  }

  /**
   * Whether copies of `roles` (the roles with at least one readable copy) decode a file of
   * code `code`.
   *
   * @example
   * ```ts
   * import { CodeCatalog } from "./code_analysis.ts";
   * const parts = Array.from({ length: 11 }, (_, j) => ({ kind: "part" as const, index: j }));
   * console.log((await new CodeCatalog().decodable("rapidraid", parts)).decodable); // true
   * ```
   *
   * @param code The coding module's name.
   * @param roles The available roles.
   * @returns The verdict.
   */
  async decodable(code: string, roles: readonly BlockRole[]): Promise<Decodability> {
    let analysis: Analysis;
    try {
      analysis = await this.#analysis(code);
    } catch (error) {
      return {
        decodable: null,
        note: `cannot analyse code ${JSON.stringify(code)}: ${
          error instanceof Error ? error.message : String(error)
        }`.slice(0, 1000),
      };
    }
    const rows: FieldVector[] = [];
    for (const role of roles) {
      if (role.kind === "part" && role.index < analysis.k) {
        rows.push(unitVector(analysis.field, analysis.k, role.index));
      } else if (role.kind === "coded" && role.index < analysis.generator.length) {
        rows.push(analysis.generator[role.index]!);
      }
    }
    return { decodable: fieldRank(analysis.field, rows) === analysis.k, note: null };
  }

  /**
   * The layout of code `code` (every role), or null when the code cannot be loaded here: FSCK
   * needs it to tell which datanodes are several logical nodes of a file.
   *
   * @example
   * ```ts
   * import { CodeCatalog } from "./code_analysis.ts";
   * console.log((await new CodeCatalog().layout("rapidraid"))?.n); // 16
   * ```
   *
   * @param code The coding module's name.
   * @returns The layout, or null.
   */
  async layout(code: string): Promise<CodeLayout | null> {
    try {
      return (await this.#analysis(code)).layout;
    } catch {
      // The verdict says why (`decodable` gives the note); the layout is only a remark.
      return null;
    }
  }

  #analysis(code: string): Promise<Analysis> {
    const failure = this.#failures.get(code);
    if (failure !== undefined && performance.now() - failure.at < FAILURE_TTL_MS) {
      return Promise.reject(new Error(failure.message));
    }
    let analysis = this.#analyses.get(code);
    if (analysis === undefined) {
      analysis = this.#load(code).then((module) => ({
        k: module.k,
        field: module.field,
        generator: generatorMatrix(module),
        layout: layoutOfModule(module),
      }));
      this.#analyses.set(code, analysis);
      analysis.catch((error) => {
        // Not cached: the module may be installed later; retried after a pause.
        this.#analyses.delete(code);
        this.#failures.set(code, {
          message: error instanceof Error ? error.message : String(error),
          at: performance.now(),
        });
      });
    }
    return analysis;
  }
}
