/**
 * The version of cdfs, printed by `cdfs --version` and sent in PING replies.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(`cdfs ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";
