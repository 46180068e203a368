/**
 * Request authentication with a cluster secret: the one module that signs and verifies.
 *
 * A client with a secret sends an AUTH frame right before every REQUEST frame. Its payload is
 * `{"key":"full"|"read","time":MS,"nonce":HEX32,"mac":HEX64}`, where `mac` is HMAC-SHA256 under
 * the secret of `key` over `cdfs-auth-v1\n{key}\n{time}\n{nonce}\n` followed by the exact bytes
 * of the REQUEST payload. A server with secrets ({@linkcode RequestVerifier}) refuses a REQUEST
 * without one with `UNAUTHENTICATED` before reading its payload, and one whose key it does not
 * hold, whose time is outside ±window of its clock, whose mac is wrong or whose nonce it has
 * seen within the window, before any data of the request is read. A `read` key may only use
 * the ops of a server's read-only set ({@linkcode authorize}: `FORBIDDEN` otherwise).
 * `docs/protocol.md` §6 and `docs/security.md` describe the scheme and what it protects.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { CdfsError } from "../core/errors.ts";
import type { FrameConnection } from "./connection.ts";
import { FRAME_TYPE, type FrameHeader, frameTypeName } from "./frame.ts";
import { decodeJsonObject } from "./json_payload.ts";

/**
 * What a credential may do: everything, or the read-only ops.
 *
 * @example
 * ```ts
 * import type { Access } from "./auth.ts";
 * const access: Access = "read";
 * ```
 */
export type Access = "full" | "read";

/**
 * The secrets a node holds: the full-access one, and optionally one for read-only clients.
 *
 * @example
 * ```ts
 * import type { NodeSecrets } from "./auth.ts";
 * const secrets: NodeSecrets = { full: "f".repeat(64), read: "r".repeat(64) };
 * ```
 */
export interface NodeSecrets {
  /** The cluster secret: full access (nodes among themselves use it). */
  readonly full: string;
  /** A second secret for clients that may only read (optional). */
  readonly read?: string | undefined;
}

/** The shortest secret accepted, in characters (64 hex digits are 32 random bytes). */
export const MIN_SECRET_LENGTH = 32;

/** How far a request's time may be from the server's clock, ms (default ±60 s). */
export const DEFAULT_AUTH_WINDOW_MS = 60_000;

/** How many nonces a server remembers at most (default 100,000: a few MiB). */
export const DEFAULT_MAX_NONCES = 100_000;

const TAG = "cdfs-auth-v1";
const NONCE = /^[0-9a-f]{32}$/;
const MAC = /^[0-9a-f]{64}$/;
const encoder = new TextEncoder();

/**
 * Checks a secret: at least {@linkcode MIN_SECRET_LENGTH} characters, printable ASCII, no
 * spaces (a file's trailing newline is for the caller to trim).
 *
 * @example
 * ```ts
 * import { checkSecret } from "./auth.ts";
 * console.log(checkSecret("ab".repeat(32), "--secret-file s").length); // 64
 * ```
 *
 * @param secret The secret.
 * @param source Where it came from, for the message.
 * @returns The secret.
 * @throws {CdfsError} `USAGE` naming the source when it is too short or has other characters.
 */
export function checkSecret(secret: string, source: string): string {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new CdfsError(
      "USAGE",
      `${source}: the secret is ${secret.length} characters, at least ${MIN_SECRET_LENGTH} are ` +
        "needed (e.g. 'openssl rand -hex 32')",
    );
  }
  if (!/^[\x21-\x7e]+$/.test(secret)) {
    throw new CdfsError("USAGE", `${source}: the secret must be printable ASCII without spaces`);
  }
  return secret;
}

/**
 * Signs requests with one secret: makes the AUTH payload sent before each REQUEST.
 *
 * @example
 * ```ts
 * import { RequestSigner } from "./auth.ts";
 * const signer = new RequestSigner("s".repeat(64), "read");
 * const auth = signer.sign(new TextEncoder().encode('{"op":"PING"}'));
 * console.log(JSON.parse(new TextDecoder().decode(auth)).key); // "read"
 * ```
 */
export class RequestSigner {
  readonly #secret: string;

  /**
   * A signer of one secret.
   *
   * @param secret The secret ({@linkcode checkSecret}).
   * @param access Which of the server's keys it is.
   * @param clock The clock whose time is signed (tests skew it).
   */
  constructor(secret: string, readonly access: Access = "full", readonly clock = Date.now) {
    this.#secret = checkSecret(secret, "the cluster secret");
  }

  /**
   * The AUTH payload for a REQUEST payload.
   *
   * @param request The exact REQUEST payload bytes.
   * @returns The AUTH payload (JSON).
   */
  sign(request: Uint8Array): Uint8Array {
    const time = Math.trunc(this.clock());
    const nonce = randomBytes(16).toString("hex");
    const mac = macOf(this.#secret, this.access, time, nonce, request);
    return encoder.encode(JSON.stringify({ key: this.access, time, nonce, mac }));
  }
}

/**
 * An AUTH frame that passed the checks possible before its REQUEST arrived.
 *
 * @example
 * ```ts
 * import type { AdmittedAuth } from "./auth.ts";
 * const admitted: AdmittedAuth = { key: "full", time: 0, nonce: "0".repeat(32), mac: "0".repeat(64) };
 * ```
 */
export interface AdmittedAuth {
  /** The key named. */
  readonly key: Access;
  /** The signed time, ms since the epoch. */
  readonly time: number;
  /** The nonce, 32 hex digits. */
  readonly nonce: string;
  /** The mac, 64 hex digits. */
  readonly mac: string;
}

/**
 * Options of a {@linkcode RequestVerifier}.
 *
 * @example
 * ```ts
 * import type { VerifierOptions } from "./auth.ts";
 * const options: VerifierOptions = { windowMs: 30_000, maxNonces: 1000 };
 * ```
 */
export interface VerifierOptions {
  /** How far a request's time may be from `clock()` (default {@linkcode DEFAULT_AUTH_WINDOW_MS}). */
  readonly windowMs?: number;
  /** How many nonces are remembered at most (default {@linkcode DEFAULT_MAX_NONCES}). */
  readonly maxNonces?: number;
  /** The server's clock (default `Date.now`). */
  readonly clock?: () => number;
}

/**
 * A server's check of AUTH frames: the keys it holds, the time window, and the nonces seen in
 * it (bounded: when the bound is reached and none has expired, requests are refused with
 * `UNAVAILABLE` until some do).
 *
 * @example
 * ```ts
 * import { RequestSigner, RequestVerifier } from "./auth.ts";
 * const secret = "s".repeat(64);
 * const verifier = new RequestVerifier({ full: secret });
 * const request = new TextEncoder().encode('{"op":"PING"}');
 * const auth = new RequestSigner(secret).sign(request);
 * console.log(verifier.verify(verifier.admit(auth), request)); // "full"
 * ```
 */
export class RequestVerifier {
  readonly #keys: Map<Access, string>;
  readonly #windowMs: number;
  readonly #maxNonces: number;
  readonly #clock: () => number;
  /** Nonce to the time it may be forgotten, in insertion order. */
  readonly #nonces = new Map<string, number>();

  /**
   * A verifier of the secrets a node holds.
   *
   * @param secrets The secrets accepted (the read one must differ from the full one).
   * @param options Window, nonce bound, clock.
   * @throws {CdfsError} `USAGE` when a secret is malformed or both are the same.
   */
  constructor(secrets: NodeSecrets, options: VerifierOptions = {}) {
    this.#keys = new Map([["full", checkSecret(secrets.full, "the cluster secret")]]);
    if (secrets.read !== undefined) {
      if (secrets.read === secrets.full) {
        throw new CdfsError("USAGE", "the read-only secret must differ from the cluster secret");
      }
      this.#keys.set("read", checkSecret(secrets.read, "the read-only secret"));
    }
    this.#windowMs = options.windowMs ?? DEFAULT_AUTH_WINDOW_MS;
    this.#maxNonces = options.maxNonces ?? DEFAULT_MAX_NONCES;
    this.#clock = options.clock ?? Date.now;
  }

  /** The number of nonces remembered now. */
  get nonces(): number {
    return this.#nonces.size;
  }

  /**
   * Checks an AUTH payload before the REQUEST's payload is read: present, well-formed, a key
   * this server holds, a time within the window.
   *
   * @param auth The AUTH payload, or null when the REQUEST came without one.
   * @returns What {@linkcode RequestVerifier.verify} needs.
   * @throws {CdfsError} `UNAUTHENTICATED` saying what is wrong.
   */
  admit(auth: Uint8Array | null): AdmittedAuth {
    if (auth === null) {
      throw unauthenticated("the request is not signed: this node requires the cluster secret");
    }
    let raw: Record<string, unknown>;
    try {
      raw = decodeJsonObject(auth, "AUTH");
    } catch (e) {
      throw unauthenticated(e instanceof Error ? e.message : String(e));
    }
    const { key, time, nonce, mac } = raw;
    const fields = Object.keys(raw).sort().join(",");
    if (fields !== "key,mac,nonce,time") {
      throw unauthenticated(
        `AUTH must have exactly key, time, nonce, mac (got ${fields.slice(0, 40)})`,
      );
    }
    if (key !== "full" && key !== "read") throw unauthenticated("AUTH key must be full or read");
    if (!this.#keys.has(key)) throw unauthenticated(`this node has no ${key} key`);
    if (typeof time !== "number" || !Number.isSafeInteger(time)) {
      throw unauthenticated("AUTH time must be an integer (ms since the epoch)");
    }
    if (typeof nonce !== "string" || !NONCE.test(nonce)) {
      throw unauthenticated("AUTH nonce must be 32 lower-case hex digits");
    }
    if (typeof mac !== "string" || !MAC.test(mac)) {
      throw unauthenticated("AUTH mac must be 64 lower-case hex digits");
    }
    const skew = time - this.#clock();
    if (Math.abs(skew) > this.#windowMs) {
      throw unauthenticated(
        `the request's time is ${Math.round(skew / 1000)} s from this node's clock ` +
          `(allowed ±${this.#windowMs / 1000} s)`,
      );
    }
    return { key, time, nonce, mac };
  }

  /**
   * Checks the mac over the REQUEST payload and that the nonce is new, then remembers it.
   *
   * @param admitted The AUTH frame, from {@linkcode RequestVerifier.admit}.
   * @param request The exact REQUEST payload bytes.
   * @returns The access the request was signed with.
   * @throws {CdfsError} `UNAUTHENTICATED` for a wrong mac or a replayed nonce; `UNAVAILABLE`
   * when the nonce memory is full.
   */
  verify(admitted: AdmittedAuth, request: Uint8Array): Access {
    const { key, time, nonce } = admitted;
    const expected = macOf(this.#keys.get(key)!, key, time, nonce, request);
    const given = Buffer.from(admitted.mac, "hex");
    if (!timingSafeEqual(Buffer.from(expected, "hex"), given)) {
      throw unauthenticated("the request's signature does not match (a wrong secret?)");
    }
    const now = this.#clock();
    const seen = this.#nonces.get(nonce);
    if (seen !== undefined && seen >= now) {
      throw unauthenticated("the request was replayed (its nonce was seen already)");
    }
    this.#forgetExpired(now);
    if (this.#nonces.size >= this.#maxNonces) {
      throw new CdfsError(
        "UNAVAILABLE",
        `more than ${this.#maxNonces} requests within the replay window; try again later`,
      );
    }
    this.#nonces.delete(nonce);
    this.#nonces.set(nonce, time + this.#windowMs);
    return key;
  }

  #forgetExpired(now: number): void {
    // Insertion order is nearly expiry order: drop from the front; a full table is swept.
    let budget = this.#nonces.size >= this.#maxNonces ? Infinity : 16;
    for (const [nonce, until] of this.#nonces) {
      if (until < now) this.#nonces.delete(nonce);
      else if (budget !== Infinity) break;
      if (--budget <= 0) break;
    }
  }
}

/**
 * Refuses an op a read-only credential may not use.
 *
 * @example
 * ```ts
 * import { authorize } from "./auth.ts";
 * authorize("read", "RETRIEVE", new Set(["RETRIEVE"])); // allowed
 * try {
 *   authorize("read", "DELETE", new Set(["RETRIEVE"]));
 * } catch (e) {
 *   console.log((e as Error).message); // "DELETE needs the cluster secret; a read-only key may use RETRIEVE"
 * }
 * ```
 *
 * @param access The request's access.
 * @param op The request's op.
 * @param readOnlyOps The ops a read-only credential may use.
 * @throws {CdfsError} `FORBIDDEN` naming the op.
 */
export function authorize(access: Access, op: string, readOnlyOps: ReadonlySet<string>): void {
  if (access === "full" || readOnlyOps.has(op)) return;
  throw new CdfsError(
    "FORBIDDEN",
    `${op.slice(0, 40)} needs the cluster secret; a read-only key may use ${
      [...readOnlyOps].join(", ")
    }`,
  );
}

/**
 * Reads a REQUEST frame whose header (or that of the AUTH frame before it) was just read, with
 * its authentication: without a verifier an AUTH frame is read and ignored; with one, the AUTH
 * frame is checked before the REQUEST payload is read and its mac after.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * const header = await conn.readFrameHeader();
 * const { payload, access } = await readRequestFrame(conn, header!, verifier);
 * ```
 *
 * @param conn The connection.
 * @param first The header just read.
 * @param verifier The server's verifier, or null to accept anything.
 * @param maxBytes A bound on the REQUEST payload below the type's own (64 KiB).
 * @returns The REQUEST payload and the access it was signed with (`full` without a verifier).
 * @throws {CdfsError} `UNAUTHENTICATED`, `BAD_REQUEST` (not a REQUEST), the connection's
 * errors; a {@linkcode PeerError} for an ERROR frame. After any of them the connection must
 * be closed.
 */
export async function readRequestFrame(
  conn: FrameConnection,
  first: FrameHeader,
  verifier: RequestVerifier | null,
  maxBytes = Infinity,
): Promise<{ payload: Uint8Array; access: Access }> {
  let header = first;
  let auth: Uint8Array | null = null;
  if (header.type === FRAME_TYPE.AUTH) {
    auth = new Uint8Array(header.length);
    await conn.readPayloadInto(auth);
    const next = await conn.readFrameHeader();
    if (next === null) throw new CdfsError("BAD_REQUEST", "the connection closed after AUTH");
    header = next;
  }
  if (header.type === FRAME_TYPE.ERROR) throw await conn.readErrorPayload(header);
  if (header.type !== FRAME_TYPE.REQUEST) {
    throw new CdfsError(
      "BAD_REQUEST",
      `expected a REQUEST frame, got ${frameTypeName(header.type)}`,
    );
  }
  const admitted = verifier?.admit(auth);
  if (header.length > maxBytes) {
    throw new CdfsError(
      "BAD_REQUEST",
      `REQUEST payload of ${header.length} bytes exceeds the bound of ${maxBytes}`,
    );
  }
  const payload = new Uint8Array(header.length);
  await conn.readPayloadInto(payload);
  return { payload, access: admitted === undefined ? "full" : verifier!.verify(admitted, payload) };
}

let processSigner: RequestSigner | null = null;

/**
 * Sets the signer of this process's client connections that name none
 * (`FrameConnectionOptions.signer`): the CLI sets it from the secret options, the environment
 * or the cluster file.
 *
 * @example
 * ```ts
 * import { defaultSigner, RequestSigner, setDefaultSigner } from "./auth.ts";
 * const before = setDefaultSigner(new RequestSigner("s".repeat(64)));
 * console.log(defaultSigner()?.access); // "full"
 * setDefaultSigner(before);
 * ```
 *
 * @param signer The signer, or null for unsigned requests.
 * @returns The signer set before.
 */
export function setDefaultSigner(signer: RequestSigner | null): RequestSigner | null {
  const before = processSigner;
  processSigner = signer;
  return before;
}

/**
 * The signer of this process's client connections that name none ({@linkcode setDefaultSigner}).
 *
 * @example
 * ```ts
 * import { defaultSigner } from "./auth.ts";
 * console.log(defaultSigner()); // null
 * ```
 *
 * @returns The signer, or null.
 */
export function defaultSigner(): RequestSigner | null {
  return processSigner;
}

function macOf(
  secret: string,
  key: Access,
  time: number,
  nonce: string,
  request: Uint8Array,
): string {
  return createHmac("sha256", secret)
    .update(`${TAG}\n${key}\n${time}\n${nonce}\n`)
    .update(request)
    .digest("hex");
}

function unauthenticated(message: string): CdfsError {
  return new CdfsError("UNAUTHENTICATED", message);
}
