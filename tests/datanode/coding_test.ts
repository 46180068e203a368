/**
 * The CODING operation end to end: 16 real `cdfs datanode serve` processes on loopback, the
 * programs of the built-in modules run over the network and compared byte for byte with the
 * in-process interpreter (`runLocal`), derived decoders sent inline, bad requests, and a node
 * killed in the middle of an encode.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { deriveDecodePlan } from "../../src/coding/analysis/decoder.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { runLocal } from "../../src/coding/runtime/local_cluster.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { call, connect } from "./_client.ts";

import {
  assertCodedBlocks,
  assertNamesNode,
  freezeEachInTurn,
  KiB,
  leftovers,
  MiB,
  newRunId,
  NODES,
  placeParts,
  randomBytes,
  request,
  retrieveWhole,
  runFreezing,
  runProgram,
  startCodingNodes,
} from "./_coding.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";

Deno.test("CODING on 16 datanode processes", async (t) => {
  const processes = await startCodingNodes();
  const nodes = processes.map((p) => p.address);
  try {
    const rapidraid = await loadCodingModule("rapidraid");
    const rs = await loadCodingModule("rs");
    let partsA: Uint8Array[] = [];

    await t.step("RapidRAID enc_node15 over the network equals runLocal", async () => {
      const chunkSize = 64 * KiB;
      // Not a multiple of the chunk size: the last step is partial.
      const { blocks, parts } = await placeParts(rapidraid, nodes, "objA", 3 * chunkSize + 12_345);
      partsA = parts;
      const run = newRunId();
      let response: { length: number; stream: boolean } | undefined;
      let progress = 0;
      const result = await runProgram(
        nodes,
        rapidraid,
        request(rapidraid, nodes, "enc_node15", "objA", run, chunkSize),
        { onResponse: (r) => response = r, onProgress: (n) => progress = n },
      );
      assert.deepEqual(response, {
        program: "enc_node15",
        length: 3 * chunkSize + 12_345,
        stream: false,
      });
      assert.ok(progress <= result.length);
      // Every node's coded block was committed, and reported with its digest.
      assert.deepEqual(
        result.committed.map((b) => b.node).sort((a, b) => a - b),
        Array.from({ length: NODES }, (_, i) => i),
      );
      const expected = await runLocal(rapidraid, "enc_node15", {
        objectId: "objA",
        blocks,
        chunkSize,
      });
      await assertCodedBlocks(rapidraid, nodes, "objA", expected.blocks);
      for (const block of result.committed) {
        using client = await DataNodeClient.connect(nodes[block.node]!);
        assert.equal((await client.stat(block.block)).digest, block.digest);
      }
    });

    await t.step("RapidRAID encode of a block smaller than one chunk", async () => {
      const chunkSize = 64 * KiB;
      const { blocks } = await placeParts(rapidraid, nodes, "objSmall", 1000);
      await runProgram(
        nodes,
        rapidraid,
        request(rapidraid, nodes, "enc_node15", "objSmall", newRunId(), chunkSize),
      );
      const expected = await runLocal(rapidraid, "enc_node15", {
        objectId: "objSmall",
        blocks,
        chunkSize,
      });
      await assertCodedBlocks(rapidraid, nodes, "objSmall", expected.blocks);
    });

    await t.step("RS: every encode program started at once, one run id", async () => {
      const chunkSize = 64 * KiB;
      const { blocks } = await placeParts(rs, nodes, "objRs", 2 * chunkSize + 777);
      const run = newRunId();
      const entries = rs.encode as readonly string[];
      await Promise.all(
        entries.map((program) =>
          runProgram(nodes, rs, request(rs, nodes, program, "objRs", run, chunkSize))
        ),
      );
      const expected = await runLocal(rs, entries, { objectId: "objRs", blocks, chunkSize });
      await assertCodedBlocks(rs, nodes, "objRs", expected.blocks);
    });

    await t.step("a derived decode program sent inline reproduces the parts", async () => {
      // objA from the first step: drop every part replica and two coded blocks.
      const chunkSize = 64 * KiB;
      await Promise.all(rapidraid.parts.flatMap((part) =>
        part.nodes.map(async (node) => {
          using client = await DataNodeClient.connect(nodes[node]!);
          await client.delete(expandBlockName(part.block, "objA"));
        })
      ));
      for (const lost of [3, 12]) {
        using client = await DataNodeClient.connect(nodes[lost]!);
        await client.delete(expandBlockName(rapidraid.coded[lost]!.block, "objA"));
      }
      const survivors = Array.from({ length: NODES }, (_, i) => i).filter((i) =>
        i !== 3 && i !== 12
      );
      const plan = deriveDecodePlan(rapidraid, survivors, { output: "stream" });
      const run = newRunId();
      const partLength = 3 * chunkSize + 12_345;
      const received = plan.partOutputs.map(() => [] as Uint8Array[]);
      const inline = plan.programs as Record<string, object>;
      await Promise.all([
        // The decode program (local, PUSHes part j to queue part<j>) and the k aux stream
        // programs that serve those queues, pulled here.
        runProgram(
          nodes,
          rapidraid,
          request(rapidraid, nodes, plan.name, "objA", run, chunkSize, { inline }),
        ),
        ...plan.partOutputs.map((program, j) =>
          runProgram(
            nodes,
            rapidraid,
            request(rapidraid, nodes, program, "objA", run, chunkSize, { inline }),
            { onData: (bytes) => void received[j]!.push(bytes.slice()) },
          )
        ),
      ]);
      for (let j = 0; j < plan.partOutputs.length; j++) {
        const got = Buffer.concat(received[j]!);
        assert.equal(got.length, partLength, `part ${j} length`);
        assert.ok(got.equals(Buffer.from(partsA[j]!)), `part ${j} differs`);
      }
    });

    await t.step("bad CODING requests are BAD_REQUEST and the node keeps serving", async () => {
      const conn = await connect(processes[0]!.port);
      try {
        const good = request(rapidraid, nodes, "enc_node0", "objBad", newRunId(), 64 * KiB);
        const cases: [Record<string, unknown>, RegExp][] = [
          [{ ...good, module: "nosuch" }, /coding module 'nosuch' is not served/],
          [{ ...good, program: "enc_node99" }, /has no program 'enc_node99'/],
          [{ ...good, nodes: [...nodes.slice(0, 15), "127.0.0.1"] }, /"nodes"\[15\].*no port/],
          [{ ...good, run: "xyz" }, /"run" must be 32 lower-case hex digits/],
          [{ ...good, nodes: nodes.slice(0, 3) }, /runs on 16 nodes, the request lists 3/],
          [
            {
              ...good,
              program: "bad",
              inline: {
                bad: {
                  node: 0,
                  streams: [{ name: "in", read: { block: "{id}.part0" } }],
                  instructions: [["LOAD", "b", "in"], ["MULT", "c", 3, "nothere"]],
                },
              },
            },
            /program 'bad'.*instruction 1/,
          ],
        ];
        for (const [fields, message] of cases) {
          const { op: _op, ...rest } = fields;
          await assert.rejects(call(conn, "CODING", rest), (e: unknown) => {
            assert.ok(e instanceof CdfsError);
            assert.equal(e.code, "BAD_REQUEST", e.message);
            assert.match(e.message, message);
            return true;
          });
          // Same connection: still serving.
          assert.equal(typeof (await call(conn, "PING")).node, "string");
        }
      } finally {
        conn.close();
      }
    });

    await t.step(
      "a stalled node: the client gets TIMEOUT naming it, nothing is committed",
      async () => {
        const chunkSize = 64 * KiB;
        await placeParts(rapidraid, nodes, "objStall", 4 * MiB + 1);
        const victim = 5;
        let stopped = false;
        const error = await runProgram(
          nodes,
          rapidraid,
          request(rapidraid, nodes, "enc_node15", "objStall", newRunId(), chunkSize),
          {
            onProgress: () => {
              if (stopped) return;
              stopped = true;
              processes[victim]!.child.kill("SIGSTOP");
            },
          },
        ).then(() => undefined, (e) => e).finally(() => {
          if (stopped) processes[victim]!.child.kill("SIGCONT");
        });
        assert.ok(stopped, "the encode finished before any progress was reported");
        assert.ok(error instanceof CdfsError, `expected an error, got ${error}`);
        assert.equal(error.code, "TIMEOUT", error.message);
        assertNamesNode(error, victim, nodes[victim]!);
        assert.deepEqual(await leftovers(nodes, "objStall"), []);
      },
    );

    await t.step(
      "a node frozen first, in the middle or last of the pipeline is the one named",
      async (t) => {
        // Node 0 starts the pipeline (node 1 notices); node 7's neighbours both time out on
        // it, and node 8's error, towards the client, must be the one heard; node 15 is the
        // client's own neighbour. The run's stall timeout (1.5 s) is shorter than the nodes'.
        await freezeEachInTurn(
          t,
          [0, 7, 15],
          processes,
          rapidraid,
          (objectId) =>
            request(rapidraid, nodes, "enc_node15", objectId, newRunId(), 64 * KiB, {
              timeoutMs: 1500,
            }),
        );
      },
    );

    await t.step(
      "timeoutMs: the client gives up on its frozen node in about that time",
      async () => {
        const { error, ms } = await runFreezing(
          processes,
          rapidraid,
          request(rapidraid, nodes, "enc_node15", "objQuick", newRunId(), 64 * KiB, {
            timeoutMs: 800,
          }),
          15,
        );
        // The client's connection had a 60 s idle timeout of its own.
        assert.match((error as CdfsError).message, /\b800 ms\b/);
        assert.ok(ms > 400 && ms < 2400, `failed ${Math.round(ms)} ms after the freeze`);
      },
    );

    await t.step(
      "a node killed mid-encode: the client hears which, nothing is committed",
      async () => {
        const chunkSize = 64 * KiB;
        await placeParts(rapidraid, nodes, "objKill", 4 * MiB + 1);
        const victim = 7;
        let killed: Promise<unknown> | undefined;
        const started = performance.now();
        const error = await runProgram(
          nodes,
          rapidraid,
          request(rapidraid, nodes, "enc_node15", "objKill", newRunId(), chunkSize),
          {
            onProgress: () => {
              killed ??= processes[victim]!.kill("SIGKILL");
            },
          },
        ).then(() => undefined, (e) => e);
        await killed;
        assert.ok(killed !== undefined, "the encode finished before any progress was reported");
        assert.ok(error instanceof CdfsError, `expected an error, got ${error}`);
        assertNamesNode(error, victim, nodes[victim]!);
        // Noticed from the broken connection, not after a timeout.
        assert.ok(performance.now() - started < 3000, "the failure was noticed only by a timeout");
        const alive = nodes.filter((_, i) => i !== victim);
        // The other nodes abort their runs: no coded block of the object anywhere.
        assert.deepEqual(await leftovers(alive, "objKill"), []);
      },
    );
  } finally {
    await Promise.all(processes.map((p) => p[Symbol.asyncDispose]()));
  }
});

Deno.test("datanode serve --coding and --coding-dir choose the modules served", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-coding-dir-" });
  try {
    // A user module: plain data, no imports. One node: coded0 = 2 · part0.
    await Deno.writeTextFile(
      `${dir}/twice.ts`,
      `export const codingModule = ${
        JSON.stringify({
          name: "twice",
          description: "coded0 = 2 * part0",
          field: 8,
          n: 1,
          k: 1,
          parts: [{ block: "{id}.part0", nodes: [0] }],
          coded: [{ block: "{id}.coded0", node: 0 }],
          encode: "enc",
          programs: {
            enc: {
              node: 0,
              streams: [{ name: "p", read: { block: "{id}.part0" } }, {
                name: "c",
                write: "{id}.coded0",
              }],
              instructions: [["LOAD", "b", "p"], ["MULT", "b", 2, "b"], ["WRITE", "b", "c"]],
            },
          },
        })
      };\n`,
    );
    await using node = await DataNodeProcess.start({
      args: ["--coding", "twice,rs", "--coding-dir", dir],
    });
    const part = randomBytes(10_000);
    using client = await DataNodeClient.connect(node.address);
    await client.store("u.part0", [part], { chunkSize: 4096 });
    const twice = await loadCodingModule("twice", { codingDirs: [dir] });
    const result = await runCoding(client, {
      op: "CODING",
      module: "twice",
      program: "enc",
      object: "u",
      run: newRunId(),
      nodes: [node.address],
      chunkSize: 4096,
    });
    assert.deepEqual(result.committed.map((b) => b.block), ["u.coded0"]);
    const expected = await runLocal(twice, "enc", {
      objectId: "u",
      blocks: new Map([["0/u.part0", part]]),
      chunkSize: 4096,
    });
    const got = await retrieveWhole(node.address, "u.coded0");
    assert.ok(Buffer.from(got).equals(Buffer.from(expected.blocks.get("0/u.coded0")!)));
    // A module not chosen with --coding is not served.
    await assert.rejects(
      runCoding(client, {
        op: "CODING",
        module: "rapidraid",
        program: "enc_node0",
        object: "u",
        run: newRunId(),
        nodes: Array.from({ length: 16 }, () => node.address),
        chunkSize: 4096,
      }),
      /coding module 'rapidraid' is not served here \(served: twice, rs\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // A module that does not exist stops the node at start-up, with the reason.
  await assert.rejects(
    DataNodeProcess.start({ args: ["--coding", "nosuch"] }),
    /nosuch/,
  );
});
