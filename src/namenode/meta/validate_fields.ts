/**
 * Validators of the fields of the metadata model (file names, node ids, addresses, byte
 * counts, digests, code names, roles): the bounds every backend and both ends of the namenode
 * protocol enforce.
 *
 * @module
 */
import { formatNodeAddress, parseNodeAddress } from "../../core/address.ts";
import { validateBlockId } from "../../core/block_id.ts";
import { quoteForMessage, typeName } from "../../core/quote.ts";
import { CdfsError } from "../../core/errors.ts";
import { CODING_MODULE_SPEC_PATTERN } from "../../core/names.ts";
import {
  type BlockRole,
  type FileState,
  MAX_CODE_NAME_LENGTH,
  MAX_FILE_NAME_BYTES,
  MAX_ROLE_INDEX,
} from "./model.ts";

// C0 and C1 control characters and DEL: they would break log lines and listings.
// deno-lint-ignore no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const DIGEST = /^[0-9a-f]{16,128}$/;
const encoder = new TextEncoder();

/**
 * Validates a file name: a string of 1 to {@linkcode MAX_FILE_NAME_BYTES} UTF-8 bytes, well
 * formed (no lone surrogate), without control characters.
 *
 * @example
 * ```ts
 * import { validateFileName } from "./validate_fields.ts";
 * console.log(validateFileName("photos/cat.jpg")); // "photos/cat.jpg"
 * ```
 *
 * @param name The candidate.
 * @param what How to call it in messages.
 * @returns `name`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateFileName(name: unknown, what = "file name"): string {
  if (typeof name !== "string") {
    throw new CdfsError("BAD_REQUEST", `${what} must be a string, got ${typeName(name)}`);
  }
  if (name.length === 0) throw new CdfsError("BAD_REQUEST", `${what} is empty`);
  return validateNameText(name, what);
}

/**
 * Validates a name prefix or listing cursor: like {@linkcode validateFileName} but may be empty.
 *
 * @example
 * ```ts
 * import { validateNamePrefix } from "./validate_fields.ts";
 * console.log(validateNamePrefix("")); // ""
 * ```
 *
 * @param prefix The candidate.
 * @param what How to call it in messages.
 * @returns `prefix`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateNamePrefix(prefix: unknown, what = "name prefix"): string {
  if (typeof prefix !== "string") {
    throw new CdfsError("BAD_REQUEST", `${what} must be a string, got ${typeName(prefix)}`);
  }
  return validateNameText(prefix, what);
}

function validateNameText(name: string, what: string): string {
  const bytes = encoder.encode(name).length;
  if (bytes > MAX_FILE_NAME_BYTES) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} is ${bytes} bytes long, the limit is ${MAX_FILE_NAME_BYTES}`,
    );
  }
  if (!name.isWellFormed()) {
    throw new CdfsError("BAD_REQUEST", `${what} ${quoteForMessage(name)} is not valid Unicode`);
  }
  const control = CONTROL_CHARACTER.exec(name);
  if (control !== null) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} ${quoteForMessage(name)} contains the control character ${
        JSON.stringify(control[0])
      }`,
    );
  }
  return name;
}

/**
 * Validates the state a commit or a drop sets: any {@linkcode FileState} but `pending`.
 *
 * @example
 * ```ts
 * import { validateCommittedState } from "./validate_fields.ts";
 * console.log(validateCommittedState("archived")); // "archived"
 * ```
 *
 * @param value The candidate.
 * @returns `value`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateCommittedState(value: unknown): Exclude<FileState, "pending"> {
  if (value === "replicated" || value === "encoded" || value === "archived") return value;
  throw new CdfsError(
    "BAD_REQUEST",
    `a file's new state must be replicated, encoded or archived, got ${
      typeof value === "string" ? quoteForMessage(value) : typeName(value)
    }`,
  );
}

/**
 * Validates a datanode id (the block-id alphabet: it is part of keys and messages).
 *
 * @example
 * ```ts
 * import { validateNodeId } from "./validate_fields.ts";
 * console.log(validateNodeId("dn-07")); // "dn-07"
 * ```
 *
 * @param id The candidate.
 * @returns `id`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateNodeId(id: unknown): string {
  return validateBlockId(id, "datanode id");
}

/**
 * Validates a datanode address and returns its canonical `HOST:PORT` form.
 *
 * @example
 * ```ts
 * import { canonicalAddress } from "./validate_fields.ts";
 * console.log(canonicalAddress("[::1]:13100")); // "[::1]:13100"
 * ```
 *
 * @param address The candidate.
 * @returns The canonical form.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function canonicalAddress(address: unknown): string {
  if (typeof address !== "string") {
    throw new CdfsError(
      "BAD_REQUEST",
      `datanode address must be a string, got ${typeName(address)}`,
    );
  }
  // Every reply with a file lists the few datanode addresses of a cluster over and over.
  const known = canonicalAddresses.get(address);
  if (known !== undefined) return known;
  const canonical = formatNodeAddress(
    parseNodeAddress(address, { what: "datanode address", code: "BAD_REQUEST" }),
  );
  if (canonicalAddresses.size >= ADDRESS_CACHE_SIZE) canonicalAddresses.clear();
  canonicalAddresses.set(address, canonical);
  return canonical;
}

/** Addresses {@linkcode canonicalAddress} accepted, with their canonical form. */
const canonicalAddresses = new Map<string, string>();
/** The most addresses remembered (the map is emptied when full). */
const ADDRESS_CACHE_SIZE = 4096;

/**
 * Validates a count of bytes (length, capacity, free): a non-negative safe integer.
 *
 * @example
 * ```ts
 * import { validateByteCount } from "./validate_fields.ts";
 * console.log(validateByteCount(0, "length")); // 0
 * ```
 *
 * @param value The candidate.
 * @param what How to call it in messages.
 * @returns `value`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateByteCount(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new CdfsError(
      "BAD_REQUEST",
      `${what} must be a non-negative integer, got ${
        typeof value === "number" ? value : typeName(value)
      }`,
    );
  }
  return value;
}

/**
 * Validates a digest: 16 to 128 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { validateDigest } from "./validate_fields.ts";
 * console.log(validateDigest("00112233445566778899aabbccddeeff")); // "0011...eeff"
 * ```
 *
 * @param value The candidate.
 * @returns `value`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateDigest(value: unknown): string {
  if (typeof value !== "string" || !DIGEST.test(value)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `digest must be 16 to 128 lowercase hex digits, got ${
        typeof value === "string" ? quoteForMessage(value) : typeName(value)
      }`,
    );
  }
  return value;
}

/**
 * Validates a coding module name (block-id alphabet, at most 64 characters) or a code
 * family's spec (`rs:k=6,m=3`, `CODING_MODULE_SPEC_PATTERN`).
 *
 * @example
 * ```ts
 * import { validateCodeName } from "./validate_fields.ts";
 * console.log(validateCodeName("rapidraid")); // "rapidraid"
 * console.log(validateCodeName("lrc:k=10,l=2,r=2")); // "lrc:k=10,l=2,r=2"
 * ```
 *
 * @param value The candidate.
 * @returns `value`.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateCodeName(value: unknown): string {
  if (typeof value === "string" && value.includes(":")) {
    if (!CODING_MODULE_SPEC_PATTERN.test(value)) {
      throw new CdfsError(
        "BAD_REQUEST",
        `code name ${quoteForMessage(value)} is not a code family spec (family:key=value,..., ` +
          `at most ${MAX_CODE_NAME_LENGTH} characters)`,
      );
    }
    return value;
  }
  const code = validateBlockId(value, "code name");
  if (code.length > MAX_CODE_NAME_LENGTH) {
    throw new CdfsError(
      "BAD_REQUEST",
      `code name is ${code.length} characters long, the limit is ${MAX_CODE_NAME_LENGTH}`,
    );
  }
  return code;
}

/**
 * Validates a block role.
 *
 * @example
 * ```ts
 * import { validateRole } from "./validate_fields.ts";
 * console.log(validateRole({ kind: "part", index: 2 })); // { kind: "part", index: 2 }
 * ```
 *
 * @param value The candidate.
 * @returns A fresh role object.
 * @throws {CdfsError} `BAD_REQUEST` naming the problem.
 */
export function validateRole(value: unknown): BlockRole {
  if (typeof value !== "object" || value === null) {
    throw new CdfsError("BAD_REQUEST", `block role must be an object, got ${typeName(value)}`);
  }
  const { kind, index } = value as { kind?: unknown; index?: unknown };
  if (kind !== "part" && kind !== "coded") {
    throw new CdfsError(
      "BAD_REQUEST",
      `block role kind must be "part" or "coded", got ${
        typeof kind === "string" ? quoteForMessage(kind) : typeName(kind)
      }`,
    );
  }
  if (
    typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > MAX_ROLE_INDEX
  ) {
    throw new CdfsError(
      "BAD_REQUEST",
      `block role index must be an integer from 0 to ${MAX_ROLE_INDEX}, got ${
        typeof index === "number" ? index : typeName(index)
      }`,
    );
  }
  return { kind, index };
}
