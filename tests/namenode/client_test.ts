/**
 * The NameNodeClient's failover: the first namenode down at connect time, a namenode stopping
 * under an open client, and every namenode down.
 */
import assert from "node:assert/strict";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { FrameConnection } from "../../src/protocol/connection.ts";
import { FRAME_TYPE } from "../../src/protocol/frame.ts";
import { cdfsError } from "../helpers/assert_error.ts";
import {
  commitNewFile,
  registerNodes,
  SINGLE,
  startNameNode,
  tempSqlitePath,
} from "./_namenode.ts";

/** A loopback address nothing listens on (bound, then released). */
function deadAddress(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `127.0.0.1:${port}`;
}

Deno.test("first namenode address down, second up: the client works on the second", async () => {
  const { server } = await startNameNode();
  await using _server = server;
  const down = deadAddress();
  using client = await NameNodeClient.connect([down, server.address], { connectTimeoutMs: 2000 });
  assert.equal(client.address, server.address);
  assert.deepEqual(client.addresses, [down, server.address]);
  assert.equal((await client.ping()).id, `nn@${server.address}`);
  await registerNodes(client, 1);
  const { committed } = await commitNewFile(client, { name: "f", length: 1 });
  assert.equal(committed.state, "replicated");
});

Deno.test("a namenode stops under an open client: the next requests go to the other one", async () => {
  // Two namenodes sharing one SQLite file (two connections, WAL): either one serves everything.
  const path = tempSqlitePath();
  const a = await startNameNode({ meta: `sqlite:${path}` });
  const b = await startNameNode({ meta: `sqlite:${path}` });
  await using _b = b.server;
  using client = await NameNodeClient.connect([a.server.address, b.server.address]);
  assert.equal(client.address, a.server.address);
  await registerNodes(client, 2);
  const { file } = await commitNewFile(client, { name: "f", length: 1 });
  await a.server.shutdown();
  // The idle connection to a was closed: the client notices and goes on with b.
  assert.equal((await client.getFile("f")).fileId, file.fileId);
  assert.equal(client.address, b.server.address);
  const second = await client.createFile({
    name: "g",
    code: "replication",
    length: 1,
    layout: SINGLE,
  });
  assert.ok(second.file.fileId > file.fileId);
  await b.server.shutdown();
  await assert.rejects(
    client.ping(),
    cdfsError(
      "UNAVAILABLE",
      /no namenode answers \(127\.0\.0\.1:\d+: connection refused; 127\.0\.0\.1:\d+: connection refused\)/,
    ),
  );
});

Deno.test("no namenode up: connect fails naming each address and why", async () => {
  const [x, y] = [deadAddress(), deadAddress()];
  await assert.rejects(
    NameNodeClient.connect([x, y]),
    cdfsError(
      "UNAVAILABLE",
      new RegExp(`^no namenode answers \\(${x}: connection refused; ${y}: connection refused\\)$`),
    ),
  );
  await assert.rejects(
    NameNodeClient.connect("nowhere"),
    cdfsError("USAGE", /namenode address "nowhere": no port/),
  );
  await assert.rejects(NameNodeClient.connect([]), cdfsError("USAGE", /no namenode address/));
});

Deno.test("a reply lost mid-request: reads are retried on the next namenode, changes are not", async () => {
  // A namenode that answers the handshake, reads one request and drops the connection.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const flaky = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const requests: string[] = [];
  const serving = (async () => {
    for await (const socket of listener) {
      const conn = await FrameConnection.create(socket);
      try {
        await conn.serverHandshake();
        const request = await conn.readJsonFrame(FRAME_TYPE.REQUEST);
        if (request !== null) requests.push(String(request.op));
      } catch {
        // The client may leave first.
      }
      conn.close();
    }
  })();
  const { server } = await startNameNode();
  await using _server = server;
  try {
    using setup = await NameNodeClient.connect(server.address);
    await registerNodes(setup, 1);
    const { file } = await commitNewFile(setup, { name: "f", length: 1 });

    using reader = await NameNodeClient.connect([flaky, server.address]);
    assert.equal(reader.address, flaky);
    assert.equal((await reader.getFile("f")).fileId, file.fileId, "retried on the second");
    assert.equal(reader.address, server.address);

    using writer = await NameNodeClient.connect([flaky, server.address]);
    await assert.rejects(
      writer.createFile({ name: "g", code: "replication", length: 1, layout: SINGLE }),
      cdfsError(
        "UNAVAILABLE",
        /^namenode 127\.0\.0\.1:\d+: the namenode closed the connection \(CREATE_FILE may or may not have been applied\)$/,
      ),
    );
    assert.deepEqual(requests, ["GET_FILE", "CREATE_FILE"]);
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});
