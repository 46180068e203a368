/**
 * The arguments the file commands share: a file's NAME, checked here so that a malformed name
 * is a usage error before any connection, and `--code NAME` of the commands that take one.
 *
 * @module
 */
import { CdfsError, isCdfsError } from "../core/errors.ts";
import { validateFileName, validateNamePrefix } from "../namenode/meta/validate_fields.ts";
import type { ArgumentDef, OptionSpec } from "./command.ts";

/**
 * The NAME argument of a command on one file.
 */
export const FILE_NAME_ARGUMENT: ArgumentDef = {
  name: "NAME",
  description: "the file's name: 1..1024 bytes of UTF-8 without control characters " +
    "(slashes are plain characters: photos/cat.jpg)",
};

/**
 * The code `cdfs put` uses without `--code`: RapidRAID, the code cdfs was made for (it needs
 * 16 datanodes; `--code replication` does with 3).
 */
export const DEFAULT_CODE = "rapidraid";

/**
 * `--code NAME` of `cdfs put`.
 */
export const PUT_CODE_OPTION: OptionSpec = {
  code: {
    type: "string",
    value: "NAME",
    description: "the coding module the file is put with and later archived with (see " +
      "'cdfs code list'), or a family spec such as rs:k=6,m=3, lrc:k=10,l=2,r=2 or rapidraid:n=12,k=8; the " +
      "namenode places its parts by the code's layout",
    default: DEFAULT_CODE,
  },
};

/**
 * `--code NAME` of a command on a file that has its code already.
 */
export const FILE_CODE_OPTION: OptionSpec = {
  code: {
    type: "string",
    value: "NAME",
    description: "the coding module; when given, it must be the one the file was put with",
    default: "the file's",
  },
};

/**
 * Checks a file name as a usage error.
 *
 * @example
 * ```ts
 * import { fileNameArgument } from "./file_args.ts";
 * console.log(fileNameArgument("photos/cat.jpg")); // "photos/cat.jpg"
 * ```
 *
 * @param name The name given.
 * @param what How to call it in the message.
 * @returns The name.
 * @throws {CdfsError} USAGE naming the problem.
 */
export function fileNameArgument(name: string, what = "file name"): string {
  try {
    return validateFileName(name, what);
  } catch (error) {
    throw isCdfsError(error) ? new CdfsError("USAGE", error.message, { cause: error }) : error;
  }
}

/**
 * Checks a name prefix (`cdfs ls PREFIX`) as a usage error; it may be empty.
 *
 * @example
 * ```ts
 * import { namePrefixArgument } from "./file_args.ts";
 * console.log(namePrefixArgument("photos/")); // "photos/"
 * ```
 *
 * @param prefix The prefix given.
 * @returns The prefix.
 * @throws {CdfsError} USAGE naming the problem.
 */
export function namePrefixArgument(prefix: string): string {
  try {
    return validateNamePrefix(prefix, "prefix");
  } catch (error) {
    throw isCdfsError(error) ? new CdfsError("USAGE", error.message, { cause: error }) : error;
  }
}
