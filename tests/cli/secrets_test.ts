/**
 * The secret options of the serving commands and the client side (src/cli/secrets.ts): a node
 * that would listen beyond loopback without a secret refuses to start, naming the options;
 * a client command signs with the secret its environment or cluster file names.
 */
import assert from "node:assert/strict";
import { EXIT_USAGE } from "../../src/cli/app.ts";
import { clientSigner, isLoopback, serverSecrets } from "../../src/cli/secrets.ts";
import { capturingContext, runCdfs } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp_dir.ts";

const SECRET = "5a".repeat(32);

Deno.test("cli secrets: a node listening beyond loopback without a secret refuses to start", async () => {
  await using dir = await tempDir("cdfs-secrets-");
  for (
    const [command, listen] of [
      [["datanode", "serve", "--data", `${dir.path}/dn`], "0.0.0.0:0"],
      [["namenode", "serve", "--data", `${dir.path}/nn`], "0.0.0.0:0"],
      [["datanode", "serve", "--data", `${dir.path}/dn`], "[::]:0"],
    ] as const
  ) {
    const run = await runCdfs([...command, "--listen", listen]);
    assert.equal(run.code, EXIT_USAGE, run.err);
    assert.match(
      run.err,
      /^cdfs: error: (datanode|namenode) serve: listening on \S+ needs a cluster secret: give --secret-file FILE \(or CDFS_SECRET_FILE\), or --insecure .*\n$/,
    );
  }
  // Nothing was created: the refusal comes before the data directory.
  assert.deepEqual(await Array.fromAsync(Deno.readDir(dir.path)), []);
});

Deno.test("cli secrets: loopback, secret files and the environment", async () => {
  await using dir = await tempDir("cdfs-secrets-");
  assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost"));
  assert.ok(!isLoopback("0.0.0.0") && !isLoopback("::") && !isLoopback("10.0.0.5"));
  const file = `${dir.path}/secret`;
  await Deno.writeTextFile(file, `${SECRET}\n`);
  const ctx = capturingContext();
  const args = (values: Record<string, string | boolean>) => ({ values, positionals: [] });
  assert.deepEqual(
    await serverSecrets(ctx, args({ "secret-file": file }), "0.0.0.0", "datanode serve"),
    { full: SECRET },
  );
  assert.equal(await serverSecrets(ctx, args({ insecure: true }), "0.0.0.0", "x"), undefined);
  await assert.rejects(
    serverSecrets(ctx, args({ "read-secret-file": file }), "127.0.0.1", "datanode serve"),
    /needs --secret-file/,
  );
  await Deno.writeTextFile(`${dir.path}/short`, "abc\n");
  await assert.rejects(
    serverSecrets(ctx, args({ "secret-file": `${dir.path}/short` }), "127.0.0.1", "x"),
    /--secret-file .*short: the secret is 3 characters, at least 32/,
  );
  const fromEnv = await clientSigner(capturingContext({ env: { CDFS_SECRET: SECRET } }), args({}));
  assert.equal(fromEnv?.access, "full");
  const readEnv = capturingContext({ env: { CDFS_READ_SECRET_FILE: file } });
  assert.equal((await clientSigner(readEnv, args({})))?.access, "read");
  assert.equal(await clientSigner(ctx, args({})), null);
});
