/**
 * Throwaway TLS certificates for tests, demos and local clusters (`cdfs cert dev`, `cluster up
 * --tls`): a new CA (its key discarded once it has signed) and one node certificate and key
 * that every node of the cluster serves, valid for the given addresses and host names. They
 * are made by the `openssl` command (Debian's `openssl` package), so cdfs needs no X.509 code
 * of its own: ECDSA P-256 keys, SHA-256 signatures, the node certificate's subject alternative
 * names listing every host.
 *
 * The files are written to a temporary directory inside the target and renamed into place,
 * so a failure leaves no half-written certificate; existing files are never overwritten.
 *
 * @module
 */
import { join } from "node:path";
import { CdfsError } from "../core/errors.ts";
import { randomHex } from "../core/random.ts";
import { pathExists } from "../store/file_io.ts";

/**
 * The files of {@linkcode writeDevCerts}, absolute paths.
 *
 * @example
 * ```ts
 * import type { DevCertFiles } from "./dev_certs.ts";
 * const files: DevCertFiles = { ca: "/x/ca.pem", cert: "/x/node.pem", key: "/x/node.key" };
 * ```
 */
export interface DevCertFiles {
  /** The CA certificate (PEM): `--tls-ca` of the clients and nodes. */
  readonly ca: string;
  /** The node certificate (PEM), signed by the CA: `--tls-cert` of the nodes. */
  readonly cert: string;
  /** The node's private key (PEM, PKCS#8, mode 0600): `--tls-key` of the nodes. */
  readonly key: string;
}

/** The hosts a dev certificate names by default: loopback, both families. */
export const DEFAULT_DEV_CERT_HOSTS: readonly string[] = ["127.0.0.1", "::1", "localhost"];

/** How long a dev certificate is valid, days. */
export const DEV_CERT_DAYS = 30;

/**
 * Writes a throwaway CA certificate and a node certificate and key signed by it into `out`
 * (`ca.pem`, `node.pem`, `node.key`).
 *
 * @example
 * ```ts
 * import { writeDevCerts } from "./dev_certs.ts";
 * const out = await Deno.makeTempDir();
 * const files = await writeDevCerts(out, ["127.0.0.1"]);
 * console.log((await Deno.readTextFile(files.ca)).startsWith("-----BEGIN CERTIFICATE-----"));
 * // true
 * await Deno.remove(out, { recursive: true });
 * ```
 *
 * @param out The directory (created if missing).
 * @param hosts The IP addresses and DNS names the node certificate is valid for.
 * @param openssl The openssl command (default `openssl`).
 * @returns The files written.
 * @throws {CdfsError} `USAGE` for a bad host or a file that exists already; `UNAVAILABLE` when
 * openssl is missing or fails (with its message).
 */
export async function writeDevCerts(
  out: string,
  hosts: readonly string[] = DEFAULT_DEV_CERT_HOSTS,
  openssl = "openssl",
): Promise<DevCertFiles> {
  if (hosts.length === 0) throw new CdfsError("USAGE", "--hosts: name at least one host");
  const names = hosts.map(subjectAltName);
  const files = {
    ca: join(out, "ca.pem"),
    cert: join(out, "node.pem"),
    key: join(out, "node.key"),
  };
  await Deno.mkdir(out, { recursive: true });
  for (const path of Object.values(files)) {
    if (await pathExists(path)) {
      throw new CdfsError("USAGE", `${path} exists: remove it or write elsewhere (--out DIR)`);
    }
  }
  const work = await Deno.makeTempDir({ dir: out, prefix: ".cdfs-cert-" });
  try {
    await Deno.writeTextFile(
      join(work, "node.ext"),
      [
        `subjectAltName=${names.join(",")}`,
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth,clientAuth",
        "",
      ].join("\n"),
    );
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await run(openssl, work, [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      String(DEV_CERT_DAYS),
      "-subj",
      // A name of its own: a client that trusts another throwaway CA must not take this one
      // for it (it would then report a bad signature rather than an unknown issuer).
      `/CN=cdfs throwaway CA ${randomHex(4)}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await run(openssl, work, [
      "req",
      "-new",
      ...ec,
      "-keyout",
      "node.key",
      "-out",
      "node.csr",
      "-subj",
      "/CN=cdfs node",
    ]);
    await run(openssl, work, [
      "x509",
      "-req",
      "-in",
      "node.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-set_serial",
      `0x${randomHex(16)}`,
      "-days",
      String(DEV_CERT_DAYS),
      "-extfile",
      "node.ext",
      "-out",
      "node.pem",
    ]);
    await Deno.chmod(join(work, "node.key"), 0o600);
    await Deno.rename(join(work, "ca.pem"), files.ca);
    await Deno.rename(join(work, "node.pem"), files.cert);
    await Deno.rename(join(work, "node.key"), files.key);
  } finally {
    // The CA's key goes with the work directory: nothing else can be signed with it.
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return files;
}

/** One host as a subjectAltName entry: `IP:` for an address, `DNS:` for a name. */
function subjectAltName(host: string): string {
  const bare = host.replace(/^\[|\]$/g, "");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bare) && bare.split(".").every((n) => Number(n) <= 255)) {
    return `IP:${bare}`;
  }
  if (/^[0-9a-fA-F:]+$/.test(bare) && bare.includes(":")) return `IP:${bare}`;
  if (
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9][A-Za-z0-9-]{0,62})*$/.test(bare)
  ) {
    return `DNS:${bare}`;
  }
  throw new CdfsError(
    "USAGE",
    `--hosts: ${JSON.stringify(host.slice(0, 80))} is neither an IP address nor a host name`,
  );
}

async function run(openssl: string, cwd: string, args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(openssl, { args, cwd, stdin: "null" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CdfsError(
        "UNAVAILABLE",
        `cannot make certificates: the '${openssl}' command is not installed ` +
          "(Debian: apt-get install openssl; or set CDFS_OPENSSL)",
      );
    }
    throw new CdfsError("UNAVAILABLE", `cannot run '${openssl}': ${(error as Error).message}`);
  }
  if (!output.success) {
    const said = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-2).join("; ");
    throw new CdfsError(
      "UNAVAILABLE",
      `openssl ${args[0]} failed (exit ${output.code}): ${said.slice(0, 300)}`,
    );
  }
}
