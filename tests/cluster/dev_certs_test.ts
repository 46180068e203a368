/**
 * Throwaway certificates (src/cluster/dev_certs.ts): what `cdfs cert dev` writes is usable (a
 * TLS listener serves the node certificate, a client trusting only ca.pem completes the
 * handshake to 127.0.0.1), the key is private, nothing is overwritten, and a bad host or a
 * missing openssl is one clear line.
 */
import assert from "node:assert/strict";
import { writeDevCerts } from "../../src/cluster/dev_certs.ts";
import { cdfsError } from "../helpers/assert_error.ts";
import { tempDir } from "../helpers/temp_dir.ts";

Deno.test("dev certs: a TLS server with them is trusted by a client with ca.pem", async () => {
  await using dir = await tempDir("cdfs-devcerts-");
  const files = await writeDevCerts(`${dir.path}/tls`, ["127.0.0.1", "localhost"]);
  assert.equal((await Deno.stat(files.key)).mode! & 0o777, 0o600);
  // The CA's key is gone, and no work directory is left behind.
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(`${dir.path}/tls`))).map((e) => e.name).sort(),
    ["ca.pem", "node.key", "node.pem"],
  );
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(files.cert),
    key: await Deno.readTextFile(files.key),
  });
  try {
    const accepted = listener.accept().then((conn) => conn.handshake().finally(() => conn.close()));
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const conn = await Deno.startTls(tcp, {
      hostname: "127.0.0.1",
      caCerts: [await Deno.readTextFile(files.ca)],
    });
    await conn.handshake();
    conn.close();
    await accepted.catch(() => {}); // the client may close before the server's handshake ends
  } finally {
    listener.close();
  }
});

Deno.test("dev certs: existing files, bad hosts and a missing openssl are refused", async () => {
  await using dir = await tempDir("cdfs-devcerts-");
  await Deno.writeTextFile(`${dir.path}/ca.pem`, "mine");
  await assert.rejects(writeDevCerts(dir.path), cdfsError("USAGE", /ca\.pem exists/));
  assert.equal(await Deno.readTextFile(`${dir.path}/ca.pem`), "mine");
  await assert.rejects(
    writeDevCerts(`${dir.path}/a`, ["10.0.0.1", "bad host,DNS:evil"]),
    cdfsError("USAGE", /^--hosts: "bad host,DNS:evil" is neither an IP address nor a host name$/),
  );
  await assert.rejects(writeDevCerts(`${dir.path}/b`, []), cdfsError("USAGE", /at least one/));
  await assert.rejects(
    writeDevCerts(`${dir.path}/c`, ["127.0.0.1"], `${dir.path}/no-openssl`),
    cdfsError(
      "UNAVAILABLE",
      /the '.*no-openssl' command is not installed \(Debian: apt-get install openssl/,
    ),
  );
  assert.deepEqual(await Array.fromAsync(Deno.readDir(`${dir.path}/c`)), []);
});
