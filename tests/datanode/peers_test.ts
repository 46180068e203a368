/**
 * No datanode is a proxy (issue 13, docs/protocol.md, CODING, peers): a CODING request whose
 * node list names an address that is not one of the node's peers is refused before any
 * connection is made (a TCP listener of the test counts the connections it gets: none), a host
 * name is never resolved, members still work, and a member that cannot be reached is
 * "unreachable" whatever the cause, the cause kept in the node's log.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BufferPool } from "../../src/buffer/pool.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import type { PeerGate } from "../../src/coding/runtime/coding_session.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";
import { CdfsError } from "../../src/core/errors.ts";
import type { LogRecord } from "../../src/datanode/log.ts";
import { defaultPeers, namenodePeers, PeerMembership } from "../../src/datanode/peers.ts";
import { DataNodeServer } from "../../src/datanode/server.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { NameNodeServer } from "../../src/namenode/server.ts";
import type { CodingRequest } from "../../src/protocol/requests.ts";
import { BlockStore } from "../../src/store/block_store.ts";
import { newRunId } from "./_coding.ts";

const replication = await loadCodingModule("replication");
const PART = new TextEncoder().encode("the part of obj, to be copied\n".repeat(100));

/** A TCP listener on loopback that counts the connections it accepts. */
class CountingListener implements AsyncDisposable {
  readonly listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly address = `127.0.0.1:${this.listener.addr.port}`;
  accepted = 0;
  readonly #conns: Deno.Conn[] = [];
  readonly #loop: Promise<void>;
  #sentinel: PromiseWithResolvers<void> | null = null;

  constructor(onAccept: (conn: Deno.Conn) => void = (conn) => conn.close()) {
    this.#loop = (async () => {
      for await (const conn of this.listener) {
        if (this.#sentinel !== null) {
          this.#sentinel.resolve();
          this.#sentinel = null;
          conn.close();
          continue;
        }
        this.accepted++;
        this.#conns.push(conn);
        onAccept(conn);
      }
    })().catch(() => {});
  }

  /**
   * The connections accepted so far, every connection made before this call included: a
   * sentinel connection is made and waited for (accepts are in order), and not counted.
   */
  async settled(): Promise<number> {
    this.#sentinel = Promise.withResolvers();
    const done = this.#sentinel.promise;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.listener.addr.port });
    await done;
    conn.close();
    return this.accepted;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
    await this.#loop;
  }
}

/**
 * An in-process datanode whose peers are `peers` (a list: `--peers` with its own address; a
 * gate as it is; default: the server's own default).
 */
async function startNode(
  peers?: PeerGate | readonly string[],
): Promise<{ server: DataNodeServer; address: string; log: LogRecord[] } & AsyncDisposable> {
  if (Array.isArray(peers)) {
    // The membership knows the node's own address once it listens.
    const membership = Promise.withResolvers<PeerMembership>();
    const node = await startNode({
      admit: (list) => membership.promise.then((m) => m.admit(list)),
    });
    membership.resolve(
      PeerMembership.start({
        sources: [{ name: "--peers", fetch: () => Promise.resolve(peers) }],
        self: [node.address],
      }),
    );
    return node;
  }
  const dir = await Deno.makeTempDir({ prefix: "cdfs-peers-" });
  const log: LogRecord[] = [];
  const server = DataNodeServer.listen({
    store: await BlockStore.open(dir),
    pool: new BufferPool({ bufferSize: 64 * 1024 + 64, maxBuffers: 16 }),
    nodeId: "dn",
    port: 0,
    log: (record) => void log.push(record),
    coding: { modules: new Map([[replication.name, replication]]) },
    ...(peers === undefined ? {} : { peers: peers as PeerGate }),
  });
  return {
    server,
    address: `127.0.0.1:${server.addr.port}`,
    log,
    async [Symbol.asyncDispose]() {
      await server.shutdown(0);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Peers fixed to a list. */
function fixedPeers(addresses: readonly string[]): Promise<PeerMembership> {
  return PeerMembership.start({
    sources: [{ name: "--peers", fetch: () => Promise.resolve(addresses) }],
  });
}

/** The CODING request of replication's `copy1` (node 1 copies part0 from node 0). */
function copyRequest(
  module: CodingModule,
  nodes: readonly string[],
  extra: Partial<CodingRequest> = {},
): CodingRequest {
  return {
    op: "CODING",
    module: module.name,
    program: "copy1",
    object: "obj",
    run: newRunId(),
    nodes: [...nodes],
    chunkSize: 4096,
    timeoutMs: 5000,
    ...extra,
  };
}

async function run(address: string, request: CodingRequest): Promise<unknown> {
  using client = await DataNodeClient.connect(address);
  return await runCoding(client, request).then(() => undefined, (e) => e);
}

async function store(address: string, block: string, bytes: Uint8Array): Promise<void> {
  using client = await DataNodeClient.connect(address);
  await client.store(block, [bytes], { length: bytes.length, chunkSize: 4096 });
}

async function has(address: string, block: string): Promise<boolean> {
  using client = await DataNodeClient.connect(address);
  return await client.stat(block).then(() => true, () => false);
}

function assertRefused(error: unknown, pattern: RegExp): void {
  assert.ok(error instanceof CdfsError, `expected a refusal, got ${error}`);
  assert.equal(error.code, "BAD_REQUEST", error.message);
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes("\n"), "one line");
}

Deno.test("CODING naming an address that is not a peer: refused, no connection made", async () => {
  await using stranger = new CountingListener();
  await using other = await startNode();
  const peers = await fixedPeers([other.address]);
  await using node = await startNode(peers);
  const nodes = [stranger.address, node.address, other.address];
  const error = await run(node.address, copyRequest(replication, nodes));
  assertRefused(
    error,
    new RegExp(
      `node 0 \\(${stranger.address}\\) is not a peer of this node \\(not among .*--peers`,
    ),
  );
  assert.equal(await stranger.settled(), 0, "the stranger was connected to");
  assert.equal(await has(node.address, "obj.coded1"), false);
});

Deno.test("CODING naming a host name: refused, never resolved (even one of a peer's IP)", async () => {
  await using stranger = new CountingListener();
  // localhost resolves from /etc/hosts: a resolution would be a connection to the listener.
  const named = `localhost:${stranger.listener.addr.port}`;
  const peers = await fixedPeers([stranger.address]);
  await using node = await startNode(peers);
  await using bare = await startNode();
  for (const at of [node.address, bare.address]) {
    const error = await run(at, copyRequest(replication, [named, at, at]));
    assertRefused(error, /node 0 \(localhost:\d+\) is not a peer .*host name is never resolved/);
  }
  assert.equal(await stranger.settled(), 0, "the host name was resolved and connected to");
});

Deno.test("an inline program copying a block from a node that is not a peer: refused", async () => {
  // Node X holds a block; node A, whose peers exclude X, is asked to copy it (the attack of
  // issue 13: the requester then reads it from A).
  await using x = await startNode();
  await store(x.address, "obj.part0", PART);
  await using other = await startNode();
  await using a = await startNode(await fixedPeers([other.address]));
  const steal = structuredClone(replication.programs.copy1) as unknown as Record<string, unknown>;
  const request = copyRequest(replication, [x.address, a.address, other.address], {
    program: "steal",
    inline: { steal },
  });
  const error = await run(a.address, request);
  assertRefused(error, new RegExp(`node 0 \\(${x.address}\\) is not a peer`));
  assert.equal(await has(a.address, "obj.coded1"), false);
  // X served nothing to A: its only requests are the test's STORE.
  const ops = x.log.flatMap((r) => "op" in r && r.op !== null ? [r.op] : []);
  assert.deepEqual(ops, ["STORE"]);
});

Deno.test("peers still work: a copy between members, the node's own address included", async () => {
  await using source = await startNode();
  await using spare = await startNode();
  await store(source.address, "obj.part0", PART);
  await using copier = await startNode([source.address, spare.address]);
  const error = await run(
    copier.address,
    copyRequest(replication, [source.address, copier.address, spare.address]),
  );
  assert.equal(error, undefined, String(error));
  using client = await DataNodeClient.connect(copier.address);
  assert.equal((await client.stat("obj.coded1")).length, PART.length);
});

Deno.test("a peer that cannot be reached is 'unreachable', whatever the cause; the log has it", async () => {
  // Refused (a port nobody listens on), closed at once, and an HTTP server.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refusing = `127.0.0.1:${closed.addr.port}`;
  closed.close();
  await using hangsUp = new CountingListener();
  await using http = new CountingListener((conn) => {
    conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"))
      .finally(() => conn.close()).catch(() => {});
  });
  await using spare = await startNode();
  const targets = [refusing, hangsUp.address, http.address];
  await using node = await startNode([...targets, spare.address]);
  const messages: string[] = [];
  for (const target of targets) {
    const error = await run(
      node.address,
      copyRequest(replication, [target, node.address, spare.address]),
    );
    assert.ok(error instanceof CdfsError, String(error));
    assert.equal(error.code, "UNAVAILABLE", error.message);
    messages.push(error.message.replace(target, "ADDR"));
  }
  assert.equal(
    messages[0],
    "node 0 (ADDR): unreachable (block 'obj.part0', read by node 1 as input 'part')",
  );
  assert.deepEqual(new Set(messages).size, 1, messages.join("\n"));
  // The causes are told apart in the node's own log.
  const causes = node.log.flatMap((r) =>
    "event" in r && r.event === "peer-unreachable" ? [r.message ?? ""] : []
  );
  assert.equal(causes.length, 3, causes.join("\n"));
  assert.equal(new Set(causes.map((c) => c.replace(/^\S+: /, ""))).size, 3, causes.join("\n"));
});

Deno.test("without a peer list: loopback literals on a loopback node, nothing elsewhere", async () => {
  const loopback = defaultPeers("127.0.0.1:13100");
  await loopback.admit(["127.0.0.1:1", "127.9.9.9:2", "[::1]:3"]);
  for (const address of ["10.0.0.1:13100", "localhost:13100", "[::ffff:7f00:1]:1", "0.0.0.0:1"]) {
    await assert.rejects(
      loopback.admit(["127.0.0.1:1", address]),
      (e) =>
        e instanceof CdfsError && e.code === "BAD_REQUEST" &&
        e.message.startsWith("the request's node 1 ("),
    );
  }
  for (const listening of ["0.0.0.0:13100", "10.0.0.5:13100", "[::]:13100"]) {
    await assert.rejects(
      defaultPeers(listening).admit(["127.0.0.1:1"]),
      /has no peer list: start it with --namenode, --peers or --peers-file/,
    );
  }
});

Deno.test("the namenode's datanodes are the peers; one registered later is admitted at once", async () => {
  await using namenode = await NameNodeServer.start({ meta: "sqlite::memory:", port: 0 });
  using client = await NameNodeClient.connect(namenode.address);
  const capacity = 1 << 30;
  await client.register({ id: "dn0", address: "127.0.0.1:13100", capacity, free: capacity });
  await client.register({ id: "dn1", address: "dn1.example:13101", capacity, free: capacity });
  const events: string[] = [];
  const peers = await PeerMembership.start({
    sources: [namenodePeers([namenode.address], { minRefreshMs: 0 })],
    log: (event, message) => events.push(`${event}: ${message}`),
  });
  try {
    await peers.admit(["127.0.0.1:13100"]);
    await assert.rejects(
      peers.admit(["127.0.0.1:13102"]),
      /node 0 \(127\.0\.0\.1:13102\) is not a peer/,
    );
    // Registered as a host name: no request can name it (and the log says why).
    await assert.rejects(peers.admit(["dn1.example:13101"]), /host name is never resolved/);
    assert.ok(events.some((e) => e.includes("ignored dn1.example:13101")), events.join("\n"));
    await client.register({ id: "dn2", address: "127.0.0.1:13102", capacity, free: capacity });
    await peers.admit(["127.0.0.1:13100", "127.0.0.1:13102"]);
  } finally {
    peers.close();
  }
});
