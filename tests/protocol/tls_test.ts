/**
 * TLS on the wire (src/protocol/tls.ts, dial.ts, frame_server.ts): in-process datanodes that
 * serve TLS with `cdfs cert dev`'s certificate. A client without TLS, and a TLS client to a
 * plain node, each get one clear line saying which side lacks TLS; a client whose CA did not
 * sign the node's certificate, or whose certificate names another address, is refused; STORE,
 * RETRIEVE and a coding encode (the nodes pull from each other over TLS) work.
 */
import assert from "node:assert/strict";
import { codingModule as replication } from "../../coding/replication.ts";
import { BufferPool } from "../../src/buffer/pool.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { encodeObject } from "../../src/client/objects/encode.ts";
import { putParts } from "../../src/client/objects/put_parts.ts";
import type { LogRecord } from "../../src/datanode/log.ts";
import { DataNodeServer } from "../../src/datanode/server.ts";
import { defaultTls, setDefaultTls, type TlsServerConfig } from "../../src/protocol/tls.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { cdfsError } from "../helpers/assert_error.ts";
import { concatBytes, randomBytes } from "../helpers/bytes.ts";
import { startCluster } from "../helpers/in_process_cluster.ts";
import { tempDir } from "../helpers/temp_dir.ts";
import { devTls } from "../helpers/tls.ts";
import { waitFor } from "../helpers/wait.ts";

/** One datanode on a temp directory (TLS when `tls` is given), its log kept. */
async function node(tls?: TlsServerConfig) {
  const dir = await tempDir("cdfs-tls-dn-");
  const log: LogRecord[] = [];
  const server = DataNodeServer.listen({
    store: await BlockStore.open(dir.path),
    pool: new BufferPool({ bufferSize: 64 * 1024 + 64, maxBuffers: 8 }),
    nodeId: "dn-tls",
    port: 0,
    log: (record) => void log.push(record),
    ...(tls === undefined ? {} : { tls }),
  });
  return {
    address: `127.0.0.1:${server.addr.port}`,
    server,
    log,
    async [Symbol.asyncDispose]() {
      await server.shutdown(0);
      await dir[Symbol.asyncDispose]();
    },
  };
}

async function retrieve(client: DataNodeClient, block: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await client.retrieve(block, (chunk) => void chunks.push(chunk.slice()));
  return concatBytes(chunks);
}

Deno.test("tls: STORE and RETRIEVE over TLS", async () => {
  await using certs = await devTls();
  await using dn = await node(certs.server);
  const bytes = randomBytes(300_000);
  using client = await DataNodeClient.connect(dn.address, { tls: certs.client });
  await client.store("over-tls", [bytes], { chunkSize: 65536 });
  assert.deepEqual(await retrieve(client, "over-tls"), bytes);
  assert.equal((await client.stat("over-tls")).length, bytes.length);
  client.close();
  // The client closed between requests (Deno sends no close_notify): a clean end, no failure.
  await waitFor("the node to end the connection", () => dn.server.connections === 0, 60_000);
  const results = dn.log.flatMap((r) => "result" in r ? [r.result] : []);
  assert.deepEqual(results, ["ok", "ok", "ok"]);
});

Deno.test("tls: a client without TLS is refused by a TLS node with a clear error", async () => {
  await using certs = await devTls();
  await using dn = await node(certs.server);
  await assert.rejects(
    DataNodeClient.connect(dn.address, { tls: null, connectTimeoutMs: 30_000 }),
    cdfsError("UNAVAILABLE", /^node 127\.0\.0\.1:\d+: the node speaks TLS .*--tls-ca/),
  );
  // The node says why in its log, once it has seen the failed handshake.
  await waitFor("the log", () => JSON.stringify(dn.log).includes("a client without TLS"), 60_000);
});

Deno.test("tls: a TLS client to a plain node is refused with a clear error", async () => {
  await using certs = await devTls();
  await using dn = await node();
  await assert.rejects(
    DataNodeClient.connect(dn.address, { tls: certs.client, connectTimeoutMs: 30_000 }),
    cdfsError("UNAVAILABLE", /^node 127\.0\.0\.1:\d+: answers without TLS .*--tls-cert/),
  );
  const said = "a TLS client: this node does not serve TLS";
  await waitFor("the log", () => JSON.stringify(dn.log).includes(said), 60_000);
});

Deno.test("tls: a client whose CA did not sign the node's certificate is refused", async () => {
  await using certs = await devTls();
  await using other = await devTls();
  await using dn = await node(certs.server);
  await assert.rejects(
    DataNodeClient.connect(dn.address, { tls: other.client, connectTimeoutMs: 30_000 }),
    cdfsError(
      "UNAUTHENTICATED",
      /^node 127\.0\.0\.1:\d+: its TLS certificate is not trusted \(UnknownIssuer\): is it signed by the CA of --tls-ca /,
    ),
  );
});

Deno.test("tls: a certificate that names another address is refused", async () => {
  await using certs = await devTls(["10.11.12.13", "db.example"]);
  await using dn = await node(certs.server);
  await assert.rejects(
    DataNodeClient.connect(dn.address, { tls: certs.client, connectTimeoutMs: 30_000 }),
    cdfsError("UNAUTHENTICATED", /not trusted \(.*\): it does not name the address/),
  );
});

Deno.test("tls: the process default reaches every connection; nodes encode over TLS", async () => {
  await using certs = await devTls();
  // The nodes pull from each other with the process's default, as `datanode serve` sets it.
  const before = setDefaultTls(certs.client);
  try {
    await using cluster = await startCluster(3, { tls: certs.server });
    await using work = await tempDir("cdfs-tls-encode-");
    const file = `${work.path}/object`;
    const object = randomBytes(50_000);
    await Deno.writeFile(file, object);
    const target = { module: replication, nodes: cluster.nodes, objectId: "obj" };
    await putParts({ ...target, file, chunkSize: 4096 });
    const encoded = await encodeObject({ ...target, chunkSize: 4096 });
    assert.deepEqual(encoded.committed.map((b) => b.block), [
      "obj.coded0",
      "obj.coded1",
      "obj.coded2",
    ]);
    // Node 2 pulled its copy from node 0 over TLS.
    using reader = await DataNodeClient.connect(cluster.nodes[2]!);
    assert.deepEqual(await retrieve(reader, "obj.coded2"), object);
    // Without the default, the same client is told the node speaks TLS.
    setDefaultTls(null);
    await assert.rejects(
      DataNodeClient.connect(cluster.nodes[0]!),
      cdfsError("UNAVAILABLE", /speaks TLS/),
    );
  } finally {
    setDefaultTls(before);
  }
  assert.equal(defaultTls(), before);
});
