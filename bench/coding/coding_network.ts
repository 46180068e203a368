// deno-lint-ignore-file no-console
/**
 * A quick measurement of the CODING operation itself (the network engineer's numbers; the
 * full benchmark is `bench/coding/coding.ts`): 16 `cdfs datanode serve` processes on loopback, then
 *
 * 1. pipeline setup: the time from sending `enc_node15` to its first reply, and to the end,
 *    for a one-chunk object (a 16-node pull chain);
 * 2. a RapidRAID encode of an object (default 1 GiB: 11 parts of ~93 MiB, part j on nodes j and
 *    j + 5) next to the classical RS(11+5) encode of the same size (every `rs.encode` program
 *    started at once, one run id), alternating, coded blocks deleted between runs.
 *
 * Run: `deno run -A bench/coding/coding_network.ts [OBJECT_MIB] [RUNS] [CHUNK_KIB]`
 *
 * @module
 */
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import type { CodingRequest } from "../../src/protocol/requests.ts";
import { DataNodeProcess } from "../../tests/helpers/datanode_process.ts";
import { runCoding } from "../../src/coding/runtime/coding_stream.ts";
import { newRunId } from "../../src/client/objects/program_runs.ts";

const objectMiB = Number(Deno.args[0] ?? 1024);
const runs = Number(Deno.args[1] ?? 2);
const chunkSize = Number(Deno.args[2] ?? 1024) * 1024;
const NODES = 16;

function request(
  module: CodingModule,
  nodes: string[],
  program: string,
  object: string,
  run: string,
): CodingRequest {
  return {
    op: "CODING",
    module: module.name,
    program,
    object,
    run,
    nodes,
    chunkSize,
    overwrite: true,
  };
}

async function runPrograms(
  module: CodingModule,
  nodes: string[],
  programs: readonly string[],
  object: string,
) {
  const run = newRunId();
  return await Promise.all(programs.map(async (program) => {
    using client = await DataNodeClient.connect(nodes[module.programs[program]!.node]!);
    return await runCoding(client, request(module, nodes, program, object, run));
  }));
}

async function placeParts(
  module: CodingModule,
  nodes: string[],
  object: string,
  parts: Uint8Array[],
) {
  const jobs = module.parts.flatMap((part, j) =>
    part.nodes.map((node) => ({ node, j, id: expandBlockName(part.block, object) }))
  );
  // A few at a time: each store is a stream of its own.
  for (let at = 0; at < jobs.length; at += 4) {
    await Promise.all(
      jobs.slice(at, at + 4).map(async ({ node, j, id }) => {
        using client = await DataNodeClient.connect(nodes[node]!);
        await client.store(id, [parts[j]!], { overwrite: true, chunkSize });
      }),
    );
  }
}

async function deleteCoded(module: CodingModule, nodes: string[], object: string) {
  await Promise.all(module.coded.map(async ({ block, node }) => {
    using client = await DataNodeClient.connect(nodes[node]!);
    await client.delete(expandBlockName(block, object)).catch(() => {});
  }));
}

const rapidraid = await loadCodingModule("rapidraid");
const rs = await loadCodingModule("rs");
const started = performance.now();
const processes = await Promise.all(
  Array.from({ length: NODES }, () => DataNodeProcess.start({ args: ["--max-memory", "128M"] })),
);
const nodes = processes.map((p) => p.address);
console.log(`16 datanodes up in ${Math.round(performance.now() - started)} ms`);
try {
  // 1. Setup of the 16-node pull chain.
  const tiny = Array.from({ length: 11 }, () => crypto.getRandomValues(new Uint8Array(1000)));
  await placeParts(rapidraid, nodes, "tiny", tiny);
  const setup: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < 7; i++) {
    await deleteCoded(rapidraid, nodes, "tiny");
    using client = await DataNodeClient.connect(nodes[15]!);
    const t0 = performance.now();
    let t1 = 0;
    await runCoding(client, request(rapidraid, nodes, "enc_node15", "tiny", newRunId()), {
      onResponse: () => t1 = performance.now(),
    });
    if (i > 0) {
      setup.push(t1 - t0);
      total.push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `16-node pipeline, 1000-byte parts: first reply after ${median(setup).toFixed(1)} ms, ` +
      `whole run (setup, 1 step, prepare, commit with 16 fsyncs) ${
        median(total).toFixed(1)
      } ms (medians of 6)`,
  );

  // 2. RapidRAID vs RS on an object of objectMiB.
  const objectBytes = objectMiB * 1024 * 1024;
  const partLength = Math.ceil(objectBytes / 11);
  const parts = Array.from({ length: 11 }, () => {
    const part = new Uint8Array(partLength);
    for (let at = 0; at < partLength; at += 65536) {
      crypto.getRandomValues(part.subarray(at, Math.min(partLength, at + 65536)));
    }
    return part;
  });
  let t = performance.now();
  await placeParts(rapidraid, nodes, "big", parts);
  await placeParts(rs, nodes, "bigrs", parts);
  console.log(
    `parts placed in ${Math.round(performance.now() - t)} ms (${
      (partLength / 2 ** 20).toFixed(1)
    } MiB each)`,
  );
  for (let r = 0; r < runs; r++) {
    await deleteCoded(rapidraid, nodes, "big");
    t = performance.now();
    await runPrograms(rapidraid, nodes, ["enc_node15"], "big");
    const rr = performance.now() - t;
    await deleteCoded(rs, nodes, "bigrs");
    t = performance.now();
    await runPrograms(rs, nodes, rs.encode as readonly string[], "bigrs");
    const rsMs = performance.now() - t;
    const rate = (ms: number) => (objectBytes / ms / 1e6).toFixed(2);
    console.log(
      `run ${r + 1}: RapidRAID ${rr.toFixed(0)} ms (${rate(rr)} GB/s of object), ` +
        `RS(11+5) ${rsMs.toFixed(0)} ms (${rate(rsMs)} GB/s); chunk ${chunkSize / 1024} KiB`,
    );
  }
} finally {
  await Promise.all(processes.map((p) => p[Symbol.asyncDispose]()));
}
