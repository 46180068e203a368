import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { DEFAULT_CONNECT_TIMEOUT_MS, withStallTimeout } from "../../src/client/node_connection.ts";
import {
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
} from "../../src/protocol/timed_socket.ts";
import { CdfsError, type ErrorCode } from "../../src/core/errors.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { waitFor } from "../helpers/wait.ts";
import { randomBytes, sha256, streamedBlock, unusedPort } from "./_blocks.ts";
import { concatBytes } from "../helpers/bytes.ts";

/** Asserts a CdfsError of `code` whose one-line message names the node and matches `pattern`. */
function nodeError(code: ErrorCode, address: string, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof CdfsError, `expected a CdfsError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(address), `"${e.message}" does not name ${address}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"));
    return true;
  };
}

/** Retrieves a block (or range) into memory. */
async function retrieveBytes(
  client: DataNodeClient,
  id: string,
  range: { offset?: number; length?: number } = {},
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await client.retrieve(id, (chunk) => void parts.push(chunk.slice()), range);
  return concatBytes(parts);
}

/** The node's request log records, once at least `count` have arrived (the log is async). */
async function requestRecords(node: DataNodeProcess, count: number) {
  for (let waited = 0;; waited += 20) {
    const records = node.logRecords().filter((r) => "op" in r);
    if (records.length >= count || waited > 5000) return records;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Splits bytes into pieces of uneven sizes. */
function* pieces(bytes: Uint8Array, size = 99_991): Iterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

Deno.test("round trips of 0 B, 1 B and 1 MiB + 1 on one reused connection", async (t) => {
  await using node = await DataNodeProcess.start({ args: ["--id", "dn-test"] });
  using client = await DataNodeClient.connect(node.address);
  assert.equal(client.address, node.address);
  for (const size of [0, 1, (1 << 20) + 1]) {
    await t.step(`${size} bytes from chunks`, async () => {
      const data = randomBytes(size);
      const id = `block-${size}`;
      const progress: number[] = [];
      const stored = await client.store(id, pieces(data), {
        length: size,
        onProgress: (n) => progress.push(n),
      });
      assert.equal(stored.block, id);
      assert.equal(stored.length, size);
      assert.equal(stored.chunks, Math.ceil(size / (1 << 20)));
      assert.deepEqual(progress, size === 0 ? [] : size === 1 ? [1] : [1 << 20, size]);
      const stat = await client.stat(id);
      assert.equal(stat.length, size);
      assert.equal(stat.digest, stored.digest);
      const back = await retrieveBytes(client, id);
      assert.equal(sha256(back), sha256(data));
    });
  }
  await t.step("from a file reader, with a small chunk size", async () => {
    const data = randomBytes(100_000);
    const path = await Deno.makeTempFile();
    try {
      await Deno.writeFile(path, data);
      using file = await Deno.open(path);
      const stored = await client.store("from-file", file, { chunkSize: 4096 });
      assert.equal(stored.chunks, Math.ceil(100_000 / 4096));
      assert.equal((await client.stat("from-file")).chunkSize, 4096);
      assert.equal(sha256(await retrieveBytes(client, "from-file")), sha256(data));
    } finally {
      await Deno.remove(path);
    }
  });
  await t.step("into a writer", async () => {
    const path = await Deno.makeTempFile();
    try {
      {
        using file = await Deno.open(path, { write: true });
        const result = await client.retrieve(`block-${(1 << 20) + 1}`, file);
        assert.equal(result.verified, true);
        assert.equal(result.length, (1 << 20) + 1);
      }
      assert.equal((await Deno.stat(path)).size, (1 << 20) + 1);
    } finally {
      await Deno.remove(path);
    }
  });
  await t.step("byte ranges", async () => {
    const data = randomBytes(3 * 4096 + 5);
    await client.store("ranged", [data], { chunkSize: 4096 });
    for (
      const [offset, length] of [[0, 1], [4095, 2], [5000, 7000], [12290, 3], [100, 0], [0, 12293]]
    ) {
      const got = await retrieveBytes(client, "ranged", { offset: offset!, length: length! });
      assert.deepEqual(got, data.subarray(offset!, offset! + length!), `${offset}+${length}`);
    }
    const tail = await retrieveBytes(client, "ranged", { offset: 12000 });
    assert.deepEqual(tail, data.subarray(12000));
    let response;
    await client.retrieve("ranged", () => {}, {
      offset: 10,
      length: 20,
      onResponse: (r) => response = r,
    });
    assert.deepEqual(response, {
      block: "ranged",
      length: 20,
      blockLength: data.length,
      chunkSize: 4096,
      digest: (await client.stat("ranged")).digest,
    });
  });
  await t.step("ping, list, delete", async () => {
    const pong = await client.ping();
    assert.equal(pong.node, "dn-test");
    assert.equal(pong.blocks, 5);
    assert.ok(pong.freeBytes > 0);
    const ids = (await client.list()).blocks.map((b) => b.block);
    assert.deepEqual(ids, ["block-0", "block-1", "block-1048577", "from-file", "ranged"]);
    await client.delete("block-0");
    assert.equal((await client.ping()).blocks, 4);
  });
  // Every request above went over the one connection the client opened.
  const peers = new Set((await requestRecords(node, 27)).map((r) => r.peer));
  assert.equal(peers.size, 1, `requests came from ${[...peers].join(", ")}`);
});

Deno.test("a 256 MiB block streams through byte-identical", async () => {
  await using node = await DataNodeProcess.start();
  using client = await DataNodeClient.connect(node.address);
  const size = 256 * 1024 * 1024;
  const block = streamedBlock(size);
  let lastProgress = 0;
  const stored = await client.store("big", block.chunks, {
    length: size,
    onProgress: (n) => {
      assert.ok(n > lastProgress);
      lastProgress = n;
    },
  });
  assert.equal(stored.length, size);
  assert.equal(lastProgress, size);
  const hash = createHash("sha256");
  const result = await client.retrieve("big", (chunk) => void hash.update(chunk));
  assert.equal(result.length, size);
  assert.equal(result.verified, true);
  assert.equal(hash.digest("hex"), block.sha256());
});

Deno.test("errors carry the node's code and name the node; the connection recovers", async (t) => {
  await using node = await DataNodeProcess.start();
  using client = await DataNodeClient.connect(node.address);
  const at = node.address;
  await client.store("b", [new Uint8Array([1, 2, 3])]);

  await t.step("NOT_FOUND for stat, retrieve and delete, connection kept", async () => {
    await assert.rejects(client.stat("nope"), nodeError("NOT_FOUND", at, /'nope' does not exist/));
    await assert.rejects(client.retrieve("nope", () => {}), nodeError("NOT_FOUND", at, /nope/));
    await assert.rejects(client.delete("nope"), nodeError("NOT_FOUND", at, /nope/));
    assert.equal((await client.stat("b")).length, 3);
    const records = (await requestRecords(node, 5)).slice(-4);
    assert.deepEqual(records.map((r) => r.result), ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "ok"]);
    assert.equal(new Set(records.map((r) => r.peer)).size, 1, "one connection for all four");
  });
  await t.step("EXISTS, then overwrite replaces the block", async () => {
    await assert.rejects(
      client.store("b", [new Uint8Array([9])]),
      nodeError("EXISTS", at, /'b' already exists/),
    );
    // The node closed the connection after the STORE error; the client opens a new one.
    assert.deepEqual(await retrieveBytes(client, "b"), new Uint8Array([1, 2, 3]));
    await client.store("b", [new Uint8Array([9])], { overwrite: true });
    assert.deepEqual(await retrieveBytes(client, "b"), new Uint8Array([9]));
  });
  await t.step("a declared length that does not match", async () => {
    await assert.rejects(
      client.store("short", [new Uint8Array(10)], { length: 11 }),
      nodeError("BAD_REQUEST", at, /shorter than the declared 11/),
    );
    await assert.rejects(
      client.store("long", [new Uint8Array(10)], { length: 9 }),
      nodeError("BAD_REQUEST", at, /longer than the declared 9/),
    );
    await assert.rejects(client.stat("short"), nodeError("NOT_FOUND", at, /short/));
    await assert.rejects(client.stat("long"), nodeError("NOT_FOUND", at, /long/));
  });
  await t.step("a range outside the block", async () => {
    await assert.rejects(
      client.retrieve("b", () => {}, { offset: 5 }),
      nodeError("BAD_REQUEST", at, /./),
    );
    assert.equal((await client.ping()).blocks, 1);
  });
  await t.step("a failing source is thrown as it is and stores nothing", async () => {
    const boom = new Error("disk read failed");
    async function* failing() {
      yield new Uint8Array(1 << 20);
      yield new Uint8Array(1 << 20);
      throw boom;
    }
    await assert.rejects(client.store("half", failing()), (e) => e === boom);
    await assert.rejects(client.stat("half"), nodeError("NOT_FOUND", at, /half/));
  });
  await t.step("a failing sink is thrown as it is; the next request works", async () => {
    await client.store("three-mib", [new Uint8Array(3 << 20)]);
    const boom = new Error("disk full");
    let calls = 0;
    await assert.rejects(
      client.retrieve("three-mib", () => {
        if (++calls === 2) throw boom;
      }),
      (e) => e === boom,
    );
    assert.equal(calls, 2);
    assert.equal((await retrieveBytes(client, "three-mib")).length, 3 << 20);
  });
  await t.step("a stored chunk that fails verification mid-stream: CORRUPT", async () => {
    const data = randomBytes(3 << 20);
    await client.store("damaged", [data]);
    // Flip a byte of the third chunk (the data starts 4096 bytes into the block file).
    using file = await Deno.open(`${node.dataDir}/blocks/damaged`, { read: true, write: true });
    const at3 = 4096 + (2 << 20) + 10;
    const one = new Uint8Array(1);
    await file.seek(at3, Deno.SeekMode.Start);
    await file.read(one);
    one[0]! ^= 0xff;
    await file.seek(at3, Deno.SeekMode.Start);
    await file.write(one);
    let delivered = 0;
    await assert.rejects(
      client.retrieve("damaged", (chunk) => void (delivered += chunk.length)),
      nodeError("CORRUPT", at, /damaged/),
    );
    assert.equal(delivered, 2 << 20, "the two good chunks, never the bad one");
    // The node moved the damaged block aside (its quarantine): never served again, even the
    // ranges that avoid the bad chunk; its namenode sees it missing and has it rebuilt.
    await waitFor("the damaged block quarantined", async () => {
      try {
        await client.stat("damaged");
        return false;
      } catch (e) {
        if (e instanceof CdfsError && e.code === "NOT_FOUND") return true;
        throw e;
      }
    }, 10_000);
    await assert.rejects(
      retrieveBytes(client, "damaged", { offset: 100, length: 1000 }),
      nodeError("NOT_FOUND", at, /damaged/),
    );
    const quarantined = await Array.fromAsync(Deno.readDir(`${node.dataDir}/quarantine`));
    assert.equal(quarantined.filter((e) => e.name.startsWith("damaged.")).length, 1);
  });
  await t.step("invalid ids and options are refused before sending", async () => {
    await assert.rejects(client.stat("../etc/passwd"), nodeError("BAD_REQUEST", at, /"\/"/));
    await assert.rejects(client.store("x", [], { chunkSize: 100 }), /chunk size/);
    await assert.rejects(client.list({ limit: 0 }), /limit/);
  });
  await t.step("a node that went down mid-session", async () => {
    await node.kill();
    await assert.rejects(client.ping(), nodeError("UNAVAILABLE", at, /./));
  });
});

Deno.test("a node closing an idle connection is noticed; the next request reconnects", async () => {
  await using node = await DataNodeProcess.start({ args: ["--idle-timeout", "200"] });
  using client = await DataNodeClient.connect(node.address);
  assert.equal((await client.ping()).blocks, 0);
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal((await client.ping()).blocks, 0);
  await client.store("after-idle", [new Uint8Array(5)]);
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal((await client.stat("after-idle")).length, 5);
});

Deno.test("listing page by page", async () => {
  await using node = await DataNodeProcess.start();
  using client = await DataNodeClient.connect(node.address);
  const ids = Array.from({ length: 11 }, (_, i) => `f${String(i).padStart(2, "0")}`);
  for (const id of [...ids].reverse()) await client.store(id, [new Uint8Array([1])]);
  await client.store("g-other", []);
  const first = await client.list({ prefix: "f", limit: 4 });
  assert.deepEqual(first.blocks.map((b) => b.block), ids.slice(0, 4));
  assert.equal(first.next, "f03");
  const second = await client.list({ prefix: "f", limit: 4, after: first.next! });
  assert.deepEqual(second.blocks.map((b) => b.block), ids.slice(4, 8));
  const all: string[] = [];
  for await (const entry of client.listAll({ prefix: "f", limit: 3 })) all.push(entry.block);
  assert.deepEqual(all, ids);
  const everything: string[] = [];
  for await (const entry of client.listAll({ limit: 5 })) everything.push(entry.block);
  assert.deepEqual(everything, [...ids, "g-other"]);
  const rest: string[] = [];
  for await (const entry of client.listAll({ after: "f09", limit: 1 })) rest.push(entry.block);
  assert.deepEqual(rest, ["f10", "g-other"]);
});

Deno.test("an unreachable node: the message says which address", async () => {
  const address = `127.0.0.1:${unusedPort()}`;
  await assert.rejects(
    DataNodeClient.connect(address),
    nodeError("UNAVAILABLE", address, /cannot reach node .*connection refused/),
  );
  await assert.rejects(DataNodeClient.connect("nohost"), (e) => {
    assert.ok(e instanceof CdfsError);
    assert.equal(e.code, "USAGE");
    return true;
  });
});

Deno.test("a listener that never answers the preamble times out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const address = `127.0.0.1:${listener.addr.port}`;
  try {
    await assert.rejects(
      DataNodeClient.connect(address, { connectTimeoutMs: 300 }),
      nodeError("TIMEOUT", address, /no preamble within 300 ms/),
    );
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("withStallTimeout: a coding run's connections time out within its stall timeout", () => {
  // Each timeout becomes at most the stall timeout; a shorter one of the caller stays.
  const meter = { bytesIn: 0, bytesOut: 0 };
  assert.deepEqual(withStallTimeout({ idleTimeoutMs: 500, meter }, 2000), {
    idleTimeoutMs: 500,
    meter,
    connectTimeoutMs: 2000,
    frameTimeoutMs: 2000,
  });
  assert.deepEqual(withStallTimeout({}, 86_400_000), {
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    frameTimeoutMs: DEFAULT_FRAME_TIMEOUT_MS,
  });
  const own = { connectTimeoutMs: 7 };
  assert.equal(withStallTimeout(own, undefined), own);
  // What the CODING request would refuse is refused before anything is sent.
  for (const bad of [99, 1.5e3 + 0.5, 86_400_001, Number.NaN]) {
    assert.throws(
      () => withStallTimeout({}, bad),
      (e) =>
        e instanceof CdfsError && e.code === "BAD_REQUEST" && /100\.\.86400000/.test(e.message),
    );
  }
});
