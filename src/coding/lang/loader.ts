/**
 * Loads coding modules by name: `<dir>/<name>.ts` from the user's coding directories first,
 * then the built-in `coding/` directory shipped with cdfs. A module file exports
 * `codingModule` (plain data), which is validated before use. Loaded modules are cached per
 * process.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import { CODING_MODULE_NAME_PATTERN } from "../../core/names.ts";
import {
  checkFamily,
  type CodingFamily,
  familyUsage,
  parseModuleSpec,
  resolveFamilyParams,
} from "./family.ts";
import type { CodingModule } from "./program.ts";
import { validateModule } from "./validate.ts";

/**
 * Options of {@linkcode loadCodingModule} and {@linkcode listCodingModules}.
 *
 * @example
 * ```ts
 * import type { CodingModuleSearch } from "./loader.ts";
 * const search: CodingModuleSearch = { codingDirs: ["./my-codes"] };
 * ```
 */
export interface CodingModuleSearch {
  /** User directories, searched in order before the built-in one. */
  readonly codingDirs?: readonly string[];
  /** The built-in directory (default {@linkcode builtinCodingDir}; tests replace it). */
  readonly builtinDir?: URL;
}

/**
 * A module found by {@linkcode listCodingModules}.
 *
 * @example
 * ```ts
 * import type { CodingModuleListing } from "./loader.ts";
 * function describe(entry: CodingModuleListing): string {
 *   return `${entry.name}: ${entry.error ?? entry.description}`;
 * }
 * ```
 */
export interface CodingModuleListing {
  /** The module's name. */
  readonly name: string;
  /** The file it was found in. */
  readonly path: string;
  /** Whether it comes from the built-in directory. */
  readonly builtin: boolean;
  /** The module's description, when it loads. */
  readonly description?: string;
  /** Why it does not load, when it does not. */
  readonly error?: string;
  /** The code family the file exports too, if any: its spec template (`rs:k=1..255,m=1..255`). */
  readonly family?: string;
  /** The family's description, with `family`. */
  readonly familyDescription?: string;
}

/**
 * The built-in coding module directory (`coding/` next to `src/`), as a file URL.
 *
 * @example
 * ```ts
 * import { builtinCodingDir } from "./loader.ts";
 * console.log(builtinCodingDir().href.endsWith("/coding/")); // true
 * ```
 *
 * @returns The directory's URL.
 */
export function builtinCodingDir(): URL {
  return new URL("../../../coding/", import.meta.url);
}

/** A candidate file of a module. */
interface ModuleFile {
  readonly url: URL;
  /** The path shown in messages. */
  readonly shown: string;
  readonly builtin: boolean;
}

/** Loaded modules by file URL: a module is imported and validated once per process. */
const cache = new Map<string, Promise<CodingModule>>();

function checkName(name: string): void {
  if (typeof name !== "string" || !CODING_MODULE_NAME_PATTERN.test(name)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `coding module name ${
        JSON.stringify(String(name).slice(0, 70))
      } is not valid (lowercase letters, digits, _ and -, starting with a letter, at most 64)`,
    );
  }
}

async function isFile(url: URL): Promise<boolean> {
  try {
    return (await Deno.stat(url)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}

/** The directories to search, user ones first; a user directory that does not exist is an error. */
async function searchDirs(
  search: CodingModuleSearch,
): Promise<{ url: URL; shown: string; builtin: boolean }[]> {
  const dirs: { url: URL; shown: string; builtin: boolean }[] = [];
  for (const dir of search.codingDirs ?? []) {
    const url = pathToFileURL(resolve(dir) + "/");
    let isDirectory = false;
    try {
      isDirectory = (await Deno.stat(url)).isDirectory;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (!isDirectory) {
      throw new CdfsError("NOT_FOUND", `coding directory '${dir}' does not exist`);
    }
    dirs.push({ url, shown: dir.endsWith("/") ? dir : `${dir}/`, builtin: false });
  }
  dirs.push({ url: search.builtinDir ?? builtinCodingDir(), shown: "coding/", builtin: true });
  return dirs;
}

async function findModule(name: string, search: CodingModuleSearch): Promise<ModuleFile> {
  const dirs = await searchDirs(search);
  for (const dir of dirs) {
    const url = new URL(`${name}.ts`, dir.url);
    if (await isFile(url)) return { url, shown: `${dir.shown}${name}.ts`, builtin: dir.builtin };
  }
  throw new CdfsError(
    "NOT_FOUND",
    `coding module '${name}' not found (looked for ${name}.ts in ${
      dirs.map((d) => d.shown).join(", ")
    })`,
  );
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n", 1)[0]!.slice(0, 300);
}

/** Imported module files by URL (a failure is not kept: the file may be fixed). */
const namespaces = new Map<string, Promise<Record<string, unknown>>>();

function importFile(name: string, file: ModuleFile): Promise<Record<string, unknown>> {
  let loading = namespaces.get(file.url.href);
  if (loading === undefined) {
    loading = (async () => {
      try {
        return await import(file.url.href);
      } catch (error) {
        throw new CdfsError(
          "BAD_REQUEST",
          `coding module '${name}' (${file.shown}): the file does not import: ${firstLine(error)}`,
          { cause: error },
        );
      }
    })();
    namespaces.set(file.url.href, loading);
    loading.catch(() => namespaces.delete(file.url.href));
  }
  return loading;
}

async function importModule(name: string, file: ModuleFile): Promise<CodingModule> {
  const where = `coding module '${name}' (${file.shown})`;
  const namespace = await importFile(name, file);
  if (!("codingModule" in namespace)) {
    const exported = Object.keys(namespace);
    throw new CdfsError(
      "BAD_REQUEST",
      `${where}: the file does not export \`codingModule\` (it exports: ${
        exported.length === 0 ? "nothing" : exported.join(", ")
      })`,
    );
  }
  const module = validateModule(namespace.codingModule, file.shown);
  if (module.name !== name) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${where}: the module is named '${module.name}' but its file is ${name}.ts`,
    );
  }
  return module;
}

/** The family a module file exports, if any. */
async function familyOf(name: string, file: ModuleFile): Promise<CodingFamily | undefined> {
  const namespace = await importFile(name, file);
  return "codingFamily" in namespace ? checkFamily(namespace.codingFamily, name) : undefined;
}

/** Builds (once per process) the module of a family spec. */
async function buildFromFamily(
  spec: string,
  family: string,
  given: Readonly<Record<string, number>>,
  file: ModuleFile,
): Promise<CodingModule> {
  const factory = await familyOf(family, file);
  if (factory === undefined) {
    throw new CdfsError(
      "BAD_REQUEST",
      `code ${JSON.stringify(spec)}: '${family}' (${file.shown}) is a module, not a family ` +
        "(it exports no `codingFamily`; see 'cdfs code list')",
    );
  }
  const { params, name } = resolveFamilyParams(factory, given);
  const key = `${file.url.href}#${name}`;
  let loading = cache.get(key);
  if (loading === undefined) {
    loading = Promise.resolve().then((): CodingModule => {
      let built: CodingModule;
      try {
        built = factory.build(params, name);
      } catch (error) {
        if (isCdfsError(error)) throw error;
        throw new CdfsError("BAD_REQUEST", `code ${JSON.stringify(name)}: ${firstLine(error)}`, {
          cause: error,
        });
      }
      const module = validateModule(built, `${file.shown} (${name})`);
      if (module.name !== name) {
        throw new CdfsError(
          "BAD_REQUEST",
          `code family '${family}' (${file.shown}) built a module named '${module.name}' for ${name}`,
        );
      }
      return module;
    });
    cache.set(key, loading);
    loading.catch(() => cache.delete(key));
  }
  return await loading;
}

function loadFile(name: string, file: ModuleFile): Promise<CodingModule> {
  let loading = cache.get(file.url.href);
  if (loading === undefined) {
    loading = importModule(name, file);
    cache.set(file.url.href, loading);
    // A failure is not cached: the file may be fixed and tried again.
    loading.catch(() => cache.delete(file.url.href));
  }
  return loading;
}

/**
 * Loads, validates and caches a coding module by name, or builds one from a code family's
 * spec `family:key=value,...` (`rs:k=6,m=3`: the file `rs.ts` exports the family as
 * `codingFamily`; the module is named by the canonical spec, `family.ts`).
 *
 * @example
 * ```ts
 * import { loadCodingModule } from "./loader.ts";
 * const module = await loadCodingModule("rapidraid");
 * console.log(module.n, module.k); // 16 11
 * const rs63 = await loadCodingModule("rs:m=3,k=6");
 * console.log(rs63.name, rs63.n); // "rs:k=6,m=3" 9
 * ```
 *
 * @param name The module's name (`^[a-z][a-z0-9_-]{0,63}$`) or a family spec.
 * @param search User directories searched before the built-in one.
 * @returns The validated module.
 * @throws {CdfsError} `BAD_REQUEST` for a bad name, a module that fails to import, lacks the
 * `codingModule` export, is invalid or is named differently from its file, for a malformed
 * spec or parameters outside their family's ranges; `NOT_FOUND` when
 * no directory has it or a user directory does not exist.
 */
export async function loadCodingModule(
  name: string,
  search: CodingModuleSearch = {},
): Promise<CodingModule> {
  if (typeof name === "string" && name.includes(":")) {
    const { family, params } = parseModuleSpec(name);
    return await buildFromFamily(name, family, params!, await findModule(family, search));
  }
  checkName(name);
  return await loadFile(name, await findModule(name, search));
}

/**
 * The family a module file exports (`codingFamily`), found like a module by its name.
 *
 * @example
 * ```ts
 * import { loadCodingFamily } from "./loader.ts";
 * console.log((await loadCodingFamily("rs"))?.parameters.map((p) => p.name)); // [ "k", "m" ]
 * ```
 *
 * @param name The family's name (its file's).
 * @param search User directories searched before the built-in one.
 * @returns The family, or `undefined` when the file exports none.
 * @throws {CdfsError} like {@linkcode loadCodingModule}.
 */
export async function loadCodingFamily(
  name: string,
  search: CodingModuleSearch = {},
): Promise<CodingFamily | undefined> {
  checkName(name);
  return await familyOf(name, await findModule(name, search));
}

/**
 * Lists the modules of the user directories and the built-in one (a user module hides a
 * built-in one of the same name), sorted by name; each is loaded to report its description
 * or why it does not load. Files whose names are not module names are skipped.
 *
 * @example
 * ```ts
 * import { listCodingModules } from "./loader.ts";
 * for (const m of await listCodingModules()) console.log(m.name, m.description ?? m.error);
 * ```
 *
 * @param search User directories searched before the built-in one.
 * @returns One entry per module name.
 * @throws {CdfsError} `NOT_FOUND` when a user directory does not exist.
 */
export async function listCodingModules(
  search: CodingModuleSearch = {},
): Promise<CodingModuleListing[]> {
  const found = new Map<string, ModuleFile>();
  for (const dir of await searchDirs(search)) {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(dir.url)) {
        if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
        const name = entry.name.slice(0, -3);
        if (CODING_MODULE_NAME_PATTERN.test(name)) names.push(name);
      }
    } catch (error) {
      // A binary built without its coding/ directory simply has no built-in modules.
      if (dir.builtin && error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    for (const name of names) {
      if (found.has(name)) continue;
      found.set(name, {
        url: new URL(`${name}.ts`, dir.url),
        shown: `${dir.shown}${name}.ts`,
        builtin: dir.builtin,
      });
    }
  }
  const listing = await Promise.all(
    [...found].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(
      async ([name, file]): Promise<CodingModuleListing> => {
        const base = { name, path: file.shown, builtin: file.builtin };
        try {
          const module = await loadFile(name, file);
          const family = await familyOf(name, file);
          return {
            ...base,
            description: module.description,
            ...(family === undefined
              ? {}
              : { family: familyUsage(family), familyDescription: family.description }),
          };
        } catch (error) {
          return { ...base, error: isCdfsError(error) ? error.message : firstLine(error) };
        }
      },
    ),
  );
  return listing;
}
