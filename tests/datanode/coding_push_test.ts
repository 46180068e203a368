/**
 * Push-mode CODING on 16 real `cdfs datanode serve` processes: the client starts the chain's
 * first program and each node pushes its output to the next. Tested like pull mode: coded
 * blocks equal pull mode's and the in-process interpreter's bit for bit, traffic counters add
 * up link by link, bad chains are refused, and a node that stalls or dies is named while
 * nothing of the run becomes visible.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { encodeObject } from "../../src/client/objects/encode.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { runLocal } from "../../src/coding/runtime/local_cluster.ts";
import { pushChain } from "../../src/coding/runtime/push_chain.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { CdfsError } from "../../src/core/errors.ts";
import {
  assertCodedBlocks,
  assertNamesNode,
  assertStallBlames,
  freezeEachInTurn,
  KiB,
  leftovers,
  MiB,
  newRunId,
  NODES,
  placeParts,
  request,
  runFreezing,
  runProgram,
  startCodingNodes,
  statsWhen,
} from "./_coding.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";

/** The digests of an object's coded blocks, by index. */
async function codedDigests(
  nodes: readonly string[],
  coded: readonly { block: string; node: number }[],
  objectId: string,
): Promise<string[]> {
  return await Promise.all(coded.map(async ({ block, node }) => {
    using client = await DataNodeClient.connect(nodes[node]!);
    return (await client.stat(expandBlockName(block, objectId))).digest;
  }));
}

Deno.test("push-mode CODING on 16 datanode processes", async (t) => {
  const processes = await startCodingNodes();
  const nodes = processes.map((p) => p.address);
  try {
    const rapidraid = await loadCodingModule("rapidraid");
    const chain = pushChain(rapidraid.programs, "enc_node15");
    const chunkSize = 64 * KiB;

    await t.step("push and pull give the same coded blocks as runLocal", async () => {
      // Not a multiple of the chunk size: the last step is partial.
      const length = 3 * chunkSize + 12_345;
      const { blocks } = await placeParts(rapidraid, nodes, "objP", length);
      const expected = await runLocal(rapidraid, "enc_node15", {
        objectId: "objP",
        blocks,
        chunkSize,
      });

      await runProgram(
        nodes,
        rapidraid,
        request(rapidraid, nodes, "enc_node15", "objP", newRunId(), chunkSize),
      );
      const pulled = await codedDigests(nodes, rapidraid.coded, "objP");

      let start: { program: string; length: number; stream: boolean } | undefined;
      let progress = 0;
      const result = await runProgram(
        nodes,
        rapidraid,
        request(rapidraid, nodes, chain[0]!, "objP", newRunId(), chunkSize, {
          overwrite: true,
          push: { chain },
        }),
        { onResponse: (r) => start = r, onProgress: (n) => progress = Math.max(progress, n) },
      );
      // The client talks to node 0, which answers like a local program.
      assert.deepEqual(start, { program: "enc_node0", length, stream: false });
      assert.ok(progress <= length);
      assert.deepEqual(
        result.committed.map((b) => b.node).sort((a, b) => a - b),
        Array.from({ length: NODES }, (_, i) => i),
      );
      await assertCodedBlocks(rapidraid, nodes, "objP", expected.blocks);
      assert.deepEqual(await codedDigests(nodes, rapidraid.coded, "objP"), pulled);
      for (const block of result.committed) {
        assert.equal(block.digest, pulled[block.node], `coded block on node ${block.node}`);
      }
    });

    await t.step("encodeObject mode push, objects of one byte and of zero bytes", async () => {
      for (const [objectId, length] of [["objOne", 1], ["objEmpty", 0]] as const) {
        const { blocks } = await placeParts(rapidraid, nodes, objectId, length);
        const result = await encodeObject({
          module: rapidraid,
          nodes,
          objectId,
          chunkSize,
          mode: "push",
        });
        assert.equal(result.length, length);
        assert.deepEqual(result.programs.map((p) => p.program), ["enc_node0"]);
        assert.equal(result.committed.length, NODES);
        const expected = await runLocal(rapidraid, "enc_node15", { objectId, blocks, chunkSize });
        await assertCodedBlocks(rapidraid, nodes, objectId, expected.blocks);
      }
    });

    await t.step("traffic: what node i pushed is what node i+1 received", async () => {
      const partLength = 256 * KiB;
      await placeParts(rapidraid, nodes, "objT", partLength);
      const run = newRunId();
      await runProgram(
        nodes,
        rapidraid,
        request(rapidraid, nodes, chain[0]!, "objT", run, chunkSize, { push: { chain } }),
      );
      const stats = await Promise.all(
        nodes.map((address) => statsWhen(address, (s) => s.runs[run]?.served.requests === 1, run)),
      );
      for (let i = 0; i < NODES - 1; i++) {
        const sender = stats[i]!.runs[run]!;
        const receiver = stats[i + 1]!.runs[run]!;
        // In push mode node i opens the connection to node i+1.
        assert.deepEqual(Object.keys(sender.upstream), [nodes[i + 1]]);
        const link = sender.upstream[nodes[i + 1]!]!;
        assert.equal(link.connections, 1);
        assert.equal(receiver.served.errors, 0);
        assert.ok(link.bytesOut >= partLength, `node ${i} pushed ${link.bytesOut}`);
        assert.equal(link.bytesOut, receiver.served.bytesIn, `node ${i} -> ${i + 1} bytes`);
        assert.equal(link.bytesIn, receiver.served.bytesOut, `node ${i + 1} -> ${i} bytes`);
        // The timeline: every node computed its steps within its request.
        const times = receiver.times!;
        assert.ok(times.startedAt <= times.firstStepAt!, `node ${i + 1} times`);
        assert.ok(times.firstStepAt! <= times.lastStepAt!);
        assert.ok(times.lastStepAt! <= times.endedAt!);
      }
      assert.deepEqual(stats[15]!.runs[run]!.upstream, {});
    });

    await t.step("bad push requests are refused and the node keeps serving", async () => {
      const rs = await loadCodingModule("rs");
      const cases: [Parameters<typeof request>, RegExp][] = [
        [
          [rapidraid, nodes, "enc_node15", "objP", newRunId(), chunkSize, {
            push: { chain: [...chain].reverse() },
          }],
          /push chain: program 'enc_node15' reads 'enc_node14', its place in the chain needs no program/,
        ],
        [
          [rapidraid, nodes, "enc_node0", "objP", newRunId(), chunkSize, {
            push: { chain: chain.slice(0, 5) },
          }],
          /the last program 'enc_node4' is a stream program/,
        ],
        [
          [rs, nodes, (rs.encode as string[])[0]!, "objP", newRunId(), chunkSize, {
            push: { chain: [(rs.encode as string[])[0]!, (rs.encode as string[])[1]!] },
          }],
          /push chain/,
        ],
      ];
      for (const [args, message] of cases) {
        const module = args[0];
        const program = module.programs[args[2]]!;
        using client = await DataNodeClient.connect(nodes[program.node]!);
        await assert.rejects(runCoding(client, request(...args)), (e: unknown) => {
          assert.ok(e instanceof CdfsError);
          assert.equal(e.code, "BAD_REQUEST", e.message);
          assert.match(e.message, message);
          return true;
        });
        // The same connection still serves.
        assert.equal(typeof (await client.ping()).node, "string");
      }
      // A module without a pipeline: encodeObject refuses push mode before sending anything.
      await assert.rejects(
        encodeObject({ module: rs, nodes, objectId: "objP", mode: "push" }),
        /push mode needs a pipeline/,
      );
    });

    await t.step("a stalled node: TIMEOUT naming it, nothing committed", async () => {
      await placeParts(rapidraid, nodes, "objStall", 4 * MiB + 1);
      const victim = 9;
      let stopped = false;
      const error = await runProgram(
        nodes,
        rapidraid,
        request(rapidraid, nodes, chain[0]!, "objStall", newRunId(), chunkSize, {
          push: { chain },
        }),
        {
          // Progress is relayed through every node of a push chain, so it reaches the client
          // late on a busy machine: stop the victim soon after the start instead (the chain
          // is set up by then, and a 4 MiB encode takes longer here).
          onResponse: () =>
            void setTimeout(() => {
              stopped = true;
              processes[victim]!.child.kill("SIGSTOP");
            }, 100),
        },
      ).then(() => undefined, (e) => e).finally(() => {
        if (stopped) processes[victim]!.child.kill("SIGCONT");
      });
      assert.ok(stopped, "the encode finished before any progress was reported");
      assert.equal((error as CdfsError).code, "TIMEOUT", String(error));
      assertNamesNode(error, victim, nodes[victim]!);
      assert.deepEqual(await leftovers(nodes, "objStall"), []);
    });

    await t.step(
      "a node frozen first, in the middle or last of the chain is the one named",
      async (t) => {
        // Node 0 is the client's own neighbour; node 7's neighbours both time out on it, and
        // the one towards the client (node 6) must be the one heard; node 15 ends the chain.
        // The run's stall timeout (1.5 s) is shorter than the nodes' (3 s): it must hold too.
        await freezeEachInTurn(
          t,
          [0, 7, 15],
          processes,
          rapidraid,
          (objectId) =>
            request(rapidraid, nodes, chain[0]!, objectId, newRunId(), chunkSize, {
              push: { chain },
              timeoutMs: 1500,
            }),
        );
      },
    );

    await t.step("timeoutMs: a frozen node fails the run in about that time", async () => {
      const { error, ms } = await runFreezing(
        processes,
        rapidraid,
        request(rapidraid, nodes, chain[0]!, "objQuick", newRunId(), chunkSize, {
          push: { chain },
          timeoutMs: 800,
        }),
        7,
      );
      // The timeout that fired is the run's (the nodes' own is 3 s), on node 7's neighbour.
      assert.match((error as CdfsError).message, /\b800 ms\b/);
      assert.ok(ms > 400 && ms < 2400, `failed ${Math.round(ms)} ms after the freeze`);
    });

    await t.step("encodeObject's timeoutMs reaches every node of the run", async () => {
      await placeParts(rapidraid, nodes, "objTarget", 64 * KiB);
      // Frozen before the run: node 6 cannot even connect to it. The client's own connect
      // timeout only bounds its look for a manifest on every node before the run starts.
      processes[7]!.child.kill("SIGSTOP");
      const started = performance.now();
      const error = await encodeObject({
        module: rapidraid,
        nodes,
        objectId: "objTarget",
        chunkSize,
        mode: "push",
        client: { connectTimeoutMs: 800 },
        timeoutMs: 800,
      }).then(() => undefined, (e) => e).finally(() => processes[7]!.child.kill("SIGCONT"));
      const ms = performance.now() - started;
      assertStallBlames(error, 7, nodes[7]!);
      // Node 6's own timeouts are 3 s (10 s to connect): it used the run's.
      assert.match((error as CdfsError).message, /\b800 ms\b.*pushed to by node 6/);
      assert.ok(ms < 4000, `failed after ${Math.round(ms)} ms`);
      assert.deepEqual(await leftovers(nodes, "objTarget"), []);
    });

    await t.step("a node killed mid-encode: named at once, nothing committed", async () => {
      await placeParts(rapidraid, nodes, "objKill", 4 * MiB + 1);
      const victim = 6;
      let killed: Promise<unknown> | undefined;
      const started = performance.now();
      const error = await runProgram(
        nodes,
        rapidraid,
        request(rapidraid, nodes, chain[0]!, "objKill", newRunId(), chunkSize, {
          push: { chain },
        }),
        {
          onResponse: () =>
            void setTimeout(() => killed ??= processes[victim]!.kill("SIGKILL"), 100),
        },
      ).then(() => undefined, (e) => e);
      await killed;
      assert.ok(killed !== undefined, "the encode finished before any progress was reported");
      assertNamesNode(error, victim, nodes[victim]!);
      assert.ok(performance.now() - started < 3000, "the failure was noticed only by a timeout");
      assert.deepEqual(await leftovers(nodes.filter((_, i) => i !== victim), "objKill"), []);
    });
  } finally {
    await Promise.all(processes.map((p) => p[Symbol.asyncDispose]()));
  }
});
