/**
 * Where the cluster secrets of a command come from (`src/protocol/auth.ts` signs and checks
 * with them). A serving command (`datanode serve`, `namenode serve`) takes `--secret-file` and
 * `--read-secret-file` (or `$CDFS_SECRET_FILE`, `$CDFS_SECRET`, `$CDFS_READ_SECRET_FILE`,
 * `$CDFS_READ_SECRET`) and refuses to listen on a non-loopback address without a secret unless
 * `--insecure` is given. Every other command signs its requests with the secret of
 * `$CDFS_SECRET_FILE`/`$CDFS_SECRET`, else the read-only one of `$CDFS_READ_SECRET_FILE`/
 * `$CDFS_READ_SECRET`, else the secret file the cluster file it names records (`cluster up`
 * writes one).
 *
 * @module
 */
import { readClusterFileSync } from "../cluster/cluster_file_io.ts";
import { CdfsError } from "../core/errors.ts";
import { checkSecret, type NodeSecrets, RequestSigner } from "../protocol/auth.ts";
import { optionalClusterPath } from "./cluster_options.ts";
import { type CliContext, type OptionSpec, type ParsedArgs, stringOption } from "./command.ts";

/**
 * The secret options of the serving commands, with their help.
 */
export const SECRET_OPTIONS: OptionSpec = {
  "secret-file": {
    type: "string",
    value: "FILE",
    description: "the cluster secret (at least 32 characters, e.g. 'openssl rand -hex 32'): " +
      "every request must be signed with it or with the read-only secret, and this node " +
      "signs its own requests with it; $CDFS_SECRET may hold the secret itself. Required " +
      "to listen on an address other than loopback, unless --insecure",
    env: "CDFS_SECRET_FILE",
    default: "none",
  },
  "read-secret-file": {
    type: "string",
    value: "FILE",
    description: "a second secret for clients that may only read (PING, RETRIEVE, STAT, " +
      "LIST, STATS, GET_FILE, LIST_FILES, ...): other requests signed with it are FORBIDDEN; " +
      "$CDFS_READ_SECRET may hold it",
    env: "CDFS_READ_SECRET_FILE",
    default: "none",
  },
  insecure: {
    type: "boolean",
    description: "serve requests without a secret on an address other than loopback: " +
      "anyone who reaches the port can store, delete and list blocks",
  },
};

/**
 * Whether a listen address is loopback only (`127.0.0.0/8`, `::1`, `localhost`).
 *
 * @example
 * ```ts
 * import { isLoopback } from "./secrets.ts";
 * console.log(isLoopback("127.0.0.1"), isLoopback("0.0.0.0")); // true false
 * ```
 *
 * @param hostname The address.
 * @returns True for loopback.
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1" || host === "localhost";
}

/**
 * Reads a secret file: its text without the trailing newline, checked (`checkSecret`).
 *
 * @example
 * ```ts
 * import { readSecretFile } from "./secrets.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "ab".repeat(32) + "\n");
 * console.log((await readSecretFile(path, "--secret-file")).length); // 64
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @param what The option or variable that named it, for the messages.
 * @returns The secret.
 * @throws {CdfsError} `USAGE` naming the file when it cannot be read or holds no valid secret.
 */
export async function readSecretFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new CdfsError("USAGE", `${what} ${path}: ${e instanceof Error ? e.message : e}`);
  }
  return checkSecret(text.replace(/\r?\n$/, ""), `${what} ${path}`);
}

/**
 * The secrets of a serving command, or undefined when it serves without: then its listen
 * address must be loopback, or `--insecure` given.
 *
 * @example
 * ```ts
 * import { serverSecrets } from "./secrets.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * const args = { values: {}, positionals: [] };
 * console.log(await serverSecrets(ctx, args, "127.0.0.1", "datanode serve")); // undefined
 * ```
 *
 * @param ctx The command's context (the environment).
 * @param args The parsed arguments, with {@linkcode SECRET_OPTIONS}.
 * @param hostname The listen address.
 * @param command The command, for the message.
 * @returns The secrets, or undefined.
 * @throws {CdfsError} `USAGE`: no secret on a non-loopback address without `--insecure`, a
 * read-only secret without the cluster secret, a file that cannot be read.
 */
export async function serverSecrets(
  ctx: CliContext,
  args: ParsedArgs,
  hostname: string,
  command: string,
): Promise<NodeSecrets | undefined> {
  const full = await secretFrom(ctx, args, "secret-file", "CDFS_SECRET");
  const read = await secretFrom(ctx, args, "read-secret-file", "CDFS_READ_SECRET");
  if (full === undefined) {
    if (read !== undefined) {
      throw new CdfsError(
        "USAGE",
        `${command}: --read-secret-file needs --secret-file (the nodes sign with the cluster secret)`,
      );
    }
    if (!isLoopback(hostname) && args.values.insecure !== true) {
      throw new CdfsError(
        "USAGE",
        `${command}: listening on ${hostname} needs a cluster secret: give --secret-file FILE ` +
          "(or CDFS_SECRET_FILE), or --insecure to let anyone who reaches it in",
      );
    }
    return undefined;
  }
  return read === undefined ? { full } : { full, read };
}

/**
 * The signer of a client command's requests: from the environment, else from the secret file
 * of the cluster file the command names (`--cluster`, `$CDFS_CLUSTER`); null for none.
 *
 * @example
 * ```ts
 * import { clientSigner } from "./secrets.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * console.log(await clientSigner(ctx, { values: {}, positionals: [] })); // null
 * ```
 *
 * @param ctx The command's context (the environment).
 * @param args The command's parsed arguments.
 * @returns The signer, or null.
 * @throws {CdfsError} `USAGE` for a secret file that cannot be read or a malformed secret.
 */
export async function clientSigner(
  ctx: CliContext,
  args: ParsedArgs,
): Promise<RequestSigner | null> {
  const full = await secretFrom(ctx, args, "secret-file", "CDFS_SECRET");
  if (full !== undefined) return new RequestSigner(full, "full");
  const read = await secretFrom(ctx, args, "read-secret-file", "CDFS_READ_SECRET");
  if (read !== undefined) return new RequestSigner(read, "read");
  let clusterPath: string | undefined;
  let secretFile: string | undefined;
  try {
    clusterPath = optionalClusterPath(ctx, args);
    if (clusterPath !== undefined) secretFile = readClusterFileSync(clusterPath).secretFile;
  } catch {
    return null; // the command itself says what is wrong with its cluster
  }
  if (secretFile === undefined) return null;
  return new RequestSigner(await readSecretFile(secretFile, `cluster ${clusterPath}: secret`));
}

/** A secret from `--OPTION FILE`, else `$CDFS_..._FILE`, else `$VARIABLE` itself. */
async function secretFrom(
  ctx: CliContext,
  args: ParsedArgs,
  option: string,
  variable: string,
): Promise<string | undefined> {
  const file = stringOption(args, option);
  if (file !== undefined) return await readSecretFile(file, `--${option}`);
  const fromEnvFile = ctx.env(`${variable}_FILE`);
  if (fromEnvFile !== undefined && fromEnvFile !== "") {
    return await readSecretFile(fromEnvFile, `${variable}_FILE`);
  }
  const literal = ctx.env(variable);
  if (literal !== undefined && literal !== "") return checkSecret(literal.trim(), variable);
  return undefined;
}
