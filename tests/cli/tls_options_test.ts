/**
 * The TLS options (src/cli/tls_options.ts) and `cdfs cert dev`: certificate and key go
 * together, a datanode that serves TLS needs a CA for its own connections, a client takes its
 * CA from --tls-ca, $CDFS_TLS_CA or the cluster file, and `cert dev` prints what it wrote.
 */
import assert from "node:assert/strict";
import { EXIT_USAGE } from "../../src/cli/app.ts";
import { clientTls, serverTls } from "../../src/cli/tls_options.ts";
import { capturingContext, runCdfs } from "../helpers/cli.ts";
import { cdfsError } from "../helpers/assert_error.ts";
import { tempDir } from "../helpers/temp_dir.ts";

Deno.test("cli tls: cert dev writes a CA, a certificate and a key, and the options read them", async () => {
  await using dir = await tempDir("cdfs-cli-tls-");
  const run = await runCdfs(["cert", "dev", "--out", dir.path, "--hosts", "127.0.0.1,dn1.lab"]);
  assert.equal(run.code, 0, run.err);
  const [ca, cert, key] = [`${dir.path}/ca.pem`, `${dir.path}/node.pem`, `${dir.path}/node.key`];
  assert.equal(run.out, `ca ${ca}\ncert ${cert}\nkey ${key}\n`);
  const server = await serverTls({ values: { "tls-cert": cert, "tls-key": key }, positionals: [] });
  assert.match(server!.cert, /BEGIN CERTIFICATE/);
  assert.match(server!.key, /PRIVATE KEY/);
  await assert.rejects(
    serverTls({ values: { "tls-cert": cert }, positionals: [] }),
    cdfsError("USAGE", /--tls-cert and --tls-key go together/),
  );
  await assert.rejects(
    serverTls({ values: { "tls-cert": key, "tls-key": key }, positionals: [] }),
    cdfsError("USAGE", /--tls-cert .*node\.key: no PEM certificate in it/),
  );
  // A client: the option, else the environment, else the cluster file.
  const ctx = capturingContext({ env: { CDFS_TLS_CA: ca } });
  assert.equal((await clientTls(ctx, { values: {}, positionals: [] }))?.caCerts.length, 1);
  assert.equal(
    (await clientTls(capturingContext(), { values: { "tls-ca": ca }, positionals: [] }))?.source,
    `--tls-ca ${ca}`,
  );
  assert.equal(await clientTls(capturingContext(), { values: {}, positionals: [] }), null);
  const clusterFile = `${dir.path}/cluster.json`;
  await Deno.writeTextFile(
    clusterFile,
    JSON.stringify({
      version: 1,
      name: "t",
      state: "up",
      created: new Date().toISOString(),
      stateDir: dir.path,
      dataDir: dir.path,
      removeData: false,
      nodeArgs: [],
      launcher: { pid: Deno.pid, startTime: null, detached: true },
      nodes: [],
      tlsCaFile: ca,
    }),
  );
  const fromCluster = await clientTls(capturingContext(), {
    values: { cluster: clusterFile },
    positionals: [],
  });
  assert.equal(fromCluster?.caCerts.length, 1);
});

Deno.test("cli tls: a datanode serving TLS needs a CA for its own connections", async () => {
  await using dir = await tempDir("cdfs-cli-tls-");
  assert.equal((await runCdfs(["cert", "dev", "--out", dir.path])).code, 0);
  const run = await runCdfs([
    "datanode",
    "serve",
    "--data",
    `${dir.path}/dn`,
    "--listen",
    "127.0.0.1:0",
    "--tls-cert",
    `${dir.path}/node.pem`,
    "--tls-key",
    `${dir.path}/node.key`,
  ]);
  assert.equal(run.code, EXIT_USAGE, run.err);
  assert.match(run.err, /--tls-cert needs --tls-ca \(or CDFS_TLS_CA\) too/);
  await assert.rejects(Deno.stat(`${dir.path}/dn`), Deno.errors.NotFound);
});
