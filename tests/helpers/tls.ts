/**
 * Throwaway TLS material for tests: `cdfs cert dev`'s CA and node certificate
 * (`src/cluster/dev_certs.ts`) read back as the server and client configurations.
 *
 * @module
 */
import { writeDevCerts } from "../../src/cluster/dev_certs.ts";
import type { TlsClientConfig, TlsServerConfig } from "../../src/protocol/tls.ts";

/** A CA and a node certificate signed by it. */
export interface DevTls {
  /** The node's certificate and key. */
  readonly server: TlsServerConfig;
  /** The CA, as a client trusts it. */
  readonly client: TlsClientConfig;
  /** The directory of the PEM files (`ca.pem`, `node.pem`, `node.key`). */
  readonly dir: string;
}

/**
 * Makes a new CA and node certificate for `hosts` (default loopback), removed with the
 * returned disposable.
 *
 * @param hosts The addresses the node certificate names.
 * @returns The configurations; `await using` removes the files.
 */
export async function devTls(
  hosts: readonly string[] = ["127.0.0.1", "localhost"],
): Promise<DevTls & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-tls-" });
  try {
    const files = await writeDevCerts(dir, hosts);
    return {
      dir,
      server: {
        cert: await Deno.readTextFile(files.cert),
        key: await Deno.readTextFile(files.key),
      },
      client: { caCerts: [await Deno.readTextFile(files.ca)], source: `--tls-ca ${files.ca}` },
      async [Symbol.asyncDispose]() {
        await Deno.remove(dir, { recursive: true });
      },
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
