import config from "../../deno.json" with { type: "json" };

/**
 * The version of cdfs, printed by `cdfs --version` and sent in PING replies. It is read from
 * `deno.json`, the one place the version is written (`deno compile` embeds that file too).
 */
export const VERSION: string = config.version;
