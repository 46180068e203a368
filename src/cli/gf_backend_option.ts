/**
 * `--gf-backend auto|isal|wasm|ts` (or `$CDFS_GF_BACKEND`): which GF(2^8) kernels a command
 * that codes in this process uses (`src/gf/backend.ts`). `$CDFS_ISAL_LIBRARY` names the ISA-L
 * library when it is not `libisal.so.2` on the loader's path.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import {
  configureGfBackend,
  GF_BACKEND_CHOICES,
  type GfBackendChoice,
  type GfBackendSelection,
  parseGfBackend,
} from "../gf/backend.ts";
import { type CliContext, type OptionDef, type ParsedArgs, stringOption } from "./command.ts";

/**
 * The option table entry.
 *
 * @example
 * ```ts
 * import { GF_BACKEND_OPTION } from "./gf_backend_option.ts";
 * console.log(GF_BACKEND_OPTION["gf-backend"].env); // CDFS_GF_BACKEND
 * ```
 */
export const GF_BACKEND_OPTION: { "gf-backend": OptionDef } = {
  "gf-backend": {
    type: "string",
    value: GF_BACKEND_CHOICES.join("|"),
    description: "the GF(2^8) kernels: auto = ISA-L through FFI (libisal.so.2, needs " +
      "--allow-ffi) when it opens and passes a self-check against WebAssembly, else " +
      "WebAssembly SIMD; isal fails when ISA-L cannot be used; ts is the slow reference. " +
      "$CDFS_ISAL_LIBRARY names another library file. Example: --gf-backend wasm",
    env: "CDFS_GF_BACKEND",
    default: "auto",
  },
};

/**
 * Reads `--gf-backend` (else `$CDFS_GF_BACKEND`, else `auto`) and configures the process's
 * kernels with it.
 *
 * @example
 * ```ts
 * import { applyGfBackendOption } from "./gf_backend_option.ts";
 * const ctx = { env: (_: string) => undefined };
 * const args = { values: { "gf-backend": "wasm" }, positionals: [] };
 * const selected = applyGfBackendOption(args, ctx as never);
 * console.log(selected.backend); // wasm
 * ```
 *
 * @param args The parsed command line.
 * @param ctx The command's context (for the environment).
 * @returns What is used, with one line for the log.
 * @throws {CdfsError} USAGE for a bad value, or `isal` when ISA-L cannot be used.
 */
export function applyGfBackendOption(args: ParsedArgs, ctx: CliContext): GfBackendSelection {
  const flag = stringOption(args, "gf-backend");
  const text = flag ?? ctx.env("CDFS_GF_BACKEND") ?? "auto";
  let choice: GfBackendChoice;
  try {
    choice = parseGfBackend(text, flag === undefined ? "$CDFS_GF_BACKEND" : "--gf-backend");
  } catch (e) {
    throw new CdfsError("USAGE", (e as Error).message);
  }
  const libraryPath = ctx.env("CDFS_ISAL_LIBRARY");
  try {
    return configureGfBackend(choice, libraryPath ? { libraryPath } : {});
  } catch (e) {
    throw new CdfsError("USAGE", (e as Error).message);
  }
}
