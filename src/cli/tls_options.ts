/**
 * Where the TLS material of a command comes from (`src/protocol/tls.ts` uses it). A serving
 * command (`datanode serve`, `namenode serve`) serves TLS with `--tls-cert FILE --tls-key FILE`.
 * Every command, serving ones included (a datanode pulls from its peers and reports to its
 * namenode), connects with TLS when it has a CA certificate: `--tls-ca FILE` where the command
 * takes it, else `$CDFS_TLS_CA`, else the `tlsCaFile` of the cluster file it names (`cluster up
 * --tls` writes one); without any, it connects in plain TCP.
 *
 * @module
 */
import { readClusterFileSync } from "../cluster/cluster_file_io.ts";
import { CdfsError } from "../core/errors.ts";
import type { TlsClientConfig, TlsServerConfig } from "../protocol/tls.ts";
import { optionalClusterPath } from "./cluster_options.ts";
import { type CliContext, type OptionSpec, type ParsedArgs, stringOption } from "./command.ts";

/**
 * The TLS options of the serving commands, with their help.
 */
export const TLS_OPTIONS: OptionSpec = {
  "tls-cert": {
    type: "string",
    value: "FILE",
    description: "serve TLS with this certificate chain (PEM; it must name the address " +
      "clients connect to); needs --tls-key. 'cdfs cert dev' writes a throwaway one",
    default: "plain TCP",
  },
  "tls-key": {
    type: "string",
    value: "FILE",
    description: "the private key of --tls-cert (PEM)",
    default: "none",
  },
  "tls-ca": {
    type: "string",
    value: "FILE",
    description: "connect to other nodes and the namenode with TLS, trusting the CA " +
      "certificate(s) of FILE (PEM) besides the system's roots",
    env: "CDFS_TLS_CA",
    default: "plain TCP",
  },
};

/**
 * The certificate and key a serving command serves TLS with, or undefined for plain TCP.
 *
 * @example
 * ```ts
 * import { serverTls } from "./tls_options.ts";
 * console.log(await serverTls({ values: {}, positionals: [] })); // undefined
 * ```
 *
 * @param args The parsed arguments, with {@linkcode TLS_OPTIONS}.
 * @returns The configuration, or undefined.
 * @throws {CdfsError} `USAGE` for one of the two options without the other, or a file that
 * cannot be read or holds no certificate or key.
 */
export async function serverTls(args: ParsedArgs): Promise<TlsServerConfig | undefined> {
  const certFile = stringOption(args, "tls-cert");
  const keyFile = stringOption(args, "tls-key");
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new CdfsError("USAGE", "--tls-cert and --tls-key go together: give both");
  }
  const cert = await readPem(certFile, "--tls-cert", /-----BEGIN CERTIFICATE-----/, "certificate");
  const key = await readPem(keyFile, "--tls-key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/, "key");
  return { cert, key };
}

/**
 * The CA certificates a command's connections trust: `--tls-ca`, else `$CDFS_TLS_CA`, else the
 * cluster file's `tlsCaFile`; null for plain TCP.
 *
 * @example
 * ```ts
 * import { clientTls } from "./tls_options.ts";
 * const ctx = { out() {}, err() {}, isTerminal: false, env: () => undefined };
 * console.log(await clientTls(ctx, { values: {}, positionals: [] })); // null
 * ```
 *
 * @param ctx The command's context (the environment).
 * @param args The command's parsed arguments.
 * @returns The configuration, or null.
 * @throws {CdfsError} `USAGE` for a file that cannot be read or holds no certificate.
 */
export async function clientTls(
  ctx: CliContext,
  args: ParsedArgs,
): Promise<TlsClientConfig | null> {
  const option = stringOption(args, "tls-ca");
  if (option !== undefined) return await readCa(option, "--tls-ca");
  const fromEnv = ctx.env("CDFS_TLS_CA");
  if (fromEnv !== undefined && fromEnv !== "") return await readCa(fromEnv, "CDFS_TLS_CA");
  let clusterPath: string | undefined;
  let caFile: string | undefined;
  try {
    clusterPath = optionalClusterPath(ctx, args);
    if (clusterPath !== undefined) caFile = readClusterFileSync(clusterPath).tlsCaFile;
  } catch {
    return null; // the command itself says what is wrong with its cluster
  }
  if (caFile === undefined) return null;
  return await readCa(caFile, `cluster ${clusterPath}: tlsCaFile`);
}

async function readCa(path: string, what: string): Promise<TlsClientConfig> {
  const text = await readPem(path, what, /-----BEGIN CERTIFICATE-----/, "certificate");
  const caCerts = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ??
    [];
  return { caCerts, source: `${what} ${path}` };
}

async function readPem(path: string, what: string, marker: RegExp, noun: string) {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new CdfsError("USAGE", `${what} ${path}: ${e instanceof Error ? e.message : e}`);
  }
  if (!marker.test(text)) {
    throw new CdfsError("USAGE", `${what} ${path}: no PEM ${noun} in it`);
  }
  return text;
}
