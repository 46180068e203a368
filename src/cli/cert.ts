/**
 * `cdfs cert dev`: a throwaway CA and node certificate for tests and demos
 * (`src/cluster/dev_certs.ts`, made with the `openssl` command).
 *
 * @module
 */
import { resolve } from "node:path";
import { DEFAULT_DEV_CERT_HOSTS, DEV_CERT_DAYS, writeDevCerts } from "../cluster/dev_certs.ts";
import { CdfsError } from "../core/errors.ts";
import { type CliContext, type Command, type ParsedArgs, stringOption } from "./command.ts";

/**
 * The `cert dev` command.
 */
export const certDevCommand: Command = {
  name: "cert dev",
  summary: "Write a throwaway CA and a node certificate and key, for tests and demos",
  usage: "cdfs cert dev [--out DIR] [--hosts 127.0.0.1,HOST,...]",
  description: [
    "Writes DIR/ca.pem (a new CA certificate), DIR/node.pem (a node certificate signed by it,",
    "valid for the --hosts addresses and names) and DIR/node.key (its private key, mode 0600),",
    `valid ${DEV_CERT_DAYS} days; the CA's key is discarded, so nothing else can be signed with`,
    "it. Every node serves the one certificate: 'datanode serve --tls-cert DIR/node.pem",
    "--tls-key DIR/node.key --tls-ca DIR/ca.pem', and clients trust it with CDFS_TLS_CA=DIR/ca.pem.",
    "Made by the openssl command (Debian's openssl package; CDFS_OPENSSL names another). For",
    "a real deployment use certificates of your own CA (docs/security.md). Existing files are",
    "never overwritten.",
  ].join("\n"),
  options: {
    out: {
      type: "string",
      value: "DIR",
      description: "where to write the files (created if missing)",
      default: "the current directory",
    },
    hosts: {
      type: "string",
      value: "LIST",
      description: "comma-separated IP addresses and DNS names the node certificate is valid for",
      default: DEFAULT_DEV_CERT_HOSTS.join(","),
    },
  },
  arguments: [],
  examples: [
    "cdfs cert dev --out tls",
    "cdfs cert dev --out /etc/cdfs/tls --hosts 10.0.0.5,10.0.0.6,dn5.lab",
  ],
  run: runCertDev,
};

/**
 * Every `cert` sub-command.
 *
 * @example
 * ```ts
 * import { CERT_COMMANDS } from "./cert.ts";
 * console.log(CERT_COMMANDS.map((c) => c.name)); // [ "cert dev" ]
 * ```
 */
export const CERT_COMMANDS: readonly Command[] = [certDevCommand];

async function runCertDev(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
  const out = resolve(stringOption(args, "out") ?? ".");
  const hostsOption = stringOption(args, "hosts");
  const hosts = hostsOption === undefined
    ? DEFAULT_DEV_CERT_HOSTS
    : hostsOption.split(",").map((h) => h.trim()).filter((h) => h !== "");
  const files = await writeDevCerts(out, hosts, ctx.env("CDFS_OPENSSL") || "openssl");
  ctx.out(`ca ${files.ca}\ncert ${files.cert}\nkey ${files.key}\n`);
  return 0;
}
