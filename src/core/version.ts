/**
 * The version of cdfs, printed by `cdfs --version` and sent in PING replies.
 */
export const VERSION = "0.1.0";
