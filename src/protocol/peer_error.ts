/**
 * {@linkcode PeerError}: an error the peer sent in an ERROR frame, told apart from one found on
 * this side.
 *
 * @module
 */
import { CdfsError, type ErrorCode } from "../core/errors.ts";

/**
 * An error the peer reported in an ERROR frame (as opposed to one found on this side). A
 * server uses the distinction not to answer an ERROR with an ERROR.
 *
 * @example
 * ```ts
 * import { PeerError } from "./peer_error.ts";
 * const e = new PeerError("NOT_FOUND", "block \"x\" does not exist");
 * console.log(e.code, e instanceof Error); // "NOT_FOUND" true
 * ```
 */
export class PeerError extends CdfsError {
  /**
   * Creates the error.
   *
   * @param code The code the peer sent.
   * @param message The message the peer sent.
   */
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "PeerError";
  }
}
