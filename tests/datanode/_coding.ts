/**
 * Helpers of the CODING tests on datanode processes: parts placed as a module says, runs
 * started through the client, coded blocks compared with the in-process interpreter.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import {
  type CodingHandlers,
  type CodingResult,
  runCoding,
} from "../../src/coding/runtime/coding_stream.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { expandBlockName } from "../../src/coding/lang/validate.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import type { CodingRequest } from "../../src/protocol/requests.ts";
import type { StatsResponse } from "../../src/protocol/responses.ts";
import { concatBytes, randomBytes } from "../helpers/bytes.ts";

export const NODES = 16;
export const KiB = 1024;
export const MiB = 1024 * KiB;

export { randomBytes };

export function newRunId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** The parts of an object, placed as the module says, and the same blocks for runLocal. */
export async function placeParts(
  module: CodingModule,
  nodes: readonly string[],
  objectId: string,
  partLength: number,
): Promise<{ parts: Uint8Array[]; blocks: Map<string, Uint8Array> }> {
  const parts = module.parts.map(() => randomBytes(partLength));
  const blocks = new Map<string, Uint8Array>();
  await Promise.all(module.parts.flatMap((part, j) =>
    part.nodes.map(async (node) => {
      const id = expandBlockName(part.block, objectId);
      blocks.set(`${node}/${id}`, parts[j]!);
      using client = await DataNodeClient.connect(nodes[node]!);
      await client.store(id, [parts[j]!], { length: partLength, chunkSize: 64 * KiB });
    })
  ));
  return { parts, blocks };
}

export async function retrieveWhole(address: string, id: string): Promise<Uint8Array> {
  using client = await DataNodeClient.connect(address);
  const chunks: Uint8Array[] = [];
  await client.retrieve(id, (chunk) => void chunks.push(chunk.slice()));
  return concatBytes(chunks);
}

/** Every coded block of the object on its node equals the in-process result. */
export async function assertCodedBlocks(
  module: CodingModule,
  nodes: readonly string[],
  objectId: string,
  expected: Map<string, Uint8Array>,
): Promise<void> {
  await Promise.all(module.coded.map(async ({ block, node }, i) => {
    const id = expandBlockName(block, objectId);
    const want = expected.get(`${node}/${id}`);
    assert.ok(want !== undefined, `runLocal wrote no ${node}/${id}`);
    const got = await retrieveWhole(nodes[node]!, id);
    assert.equal(got.length, want.length, `coded block ${i} length`);
    assert.ok(Buffer.from(got).equals(Buffer.from(want)), `coded block ${i} differs`);
  }));
}

export function request(
  module: CodingModule,
  nodes: readonly string[],
  program: string,
  objectId: string,
  run: string,
  chunkSize: number,
  extra: Partial<CodingRequest> = {},
): CodingRequest {
  return {
    op: "CODING",
    module: module.name,
    program,
    object: objectId,
    run,
    nodes: [...nodes],
    chunkSize,
    ...extra,
  };
}

/** Runs a program on its node through runCoding. */
export async function runProgram(
  nodes: readonly string[],
  module: CodingModule,
  req: CodingRequest,
  handlers: CodingHandlers = {},
): Promise<CodingResult> {
  const program = req.inline?.[req.program] as { node: number } | undefined ??
    module.programs[req.program]!;
  using client = await DataNodeClient.connect(nodes[program.node]!);
  return await runCoding(client, req, handlers);
}

export async function codedBlocksAnywhere(nodes: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  await Promise.all(nodes.map(async (address, i) => {
    using client = await DataNodeClient.connect(address, { connectTimeoutMs: 2000 });
    for await (const entry of client.listAll()) {
      if (/\.coded\d+$/.test(entry.block)) found.push(`${i}/${entry.block}`);
    }
  }));
  return found;
}

/** Polls a node's STATS until `done` holds for them; fails after 20 s. */
export async function statsWhen(
  address: string,
  done: (stats: StatsResponse) => boolean,
  run?: string,
): Promise<StatsResponse> {
  const until = Date.now() + 20_000;
  while (true) {
    using client = await DataNodeClient.connect(address);
    const stats = await client.stats(run);
    if (done(stats)) return stats;
    if (Date.now() > until) {
      throw new Error(`STATS of ${address} never satisfied: ${JSON.stringify(stats)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until no node holds a coded block of `objectId`; returns what is left. */
export async function leftovers(nodes: readonly string[], objectId: string): Promise<string[]> {
  let left: string[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    left = (await codedBlocksAnywhere(nodes)).filter((b) => b.includes(objectId));
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return left;
}

/** Asserts that a coding error names node `index` at `address` first. */
export function assertNamesNode(error: unknown, index: number, address: string): void {
  assert.ok(error instanceof CdfsError, `expected a CdfsError, got ${error}`);
  assert.match(error.message, new RegExp(`^node ${index} \\(${address.replace(/\./g, "\\.")}\\)`));
}

/** How a run with a frozen node ended: its error, and how long after the freeze it came. */
export interface FrozenRun {
  readonly error: unknown;
  readonly ms: number;
}

/** Asserts a stall's error: TIMEOUT, naming node `index` at `address` first. */
export function assertStallBlames(error: unknown, index: number, address: string): void {
  assert.ok(error instanceof CdfsError, `expected a CdfsError, got ${error}`);
  assert.equal(error.code, "TIMEOUT", error.message);
  assertNamesNode(error, index, address);
}

/**
 * A stall of a 4 MiB + 1 object's run: places the object's parts, runs `req` and freezes node
 * `victim` (SIGSTOP) as soon as the entry node's start reply arrives, resumes it (SIGCONT) when
 * the run has ended, and asserts that the run failed with TIMEOUT naming the victim and left
 * no coded block behind. Frozen this early (with parts of a few MiB), the victim cannot have
 * sent its prepared reply, so nothing may be committed: in pull mode the requests have yet to
 * reach the pipeline's first nodes and the data to flow through them, in push mode the
 * prepared reply comes from the chain's end through every node.
 *
 * @example
 * ```ts ignore
 * const { ms } = await runFreezing(processes, rapidraid, request(...), 7);
 * ```
 *
 * @returns How the run ended (its error, and how long after the freeze).
 */
export async function runFreezing(
  processes: readonly DataNodeProcess[],
  module: CodingModule,
  req: CodingRequest,
  victim: number,
): Promise<FrozenRun> {
  const nodes = processes.map((p) => p.address);
  await placeParts(module, nodes, req.object, 4 * MiB + 1);
  let frozenAt: number | undefined;
  let run: FrozenRun | undefined;
  try {
    await runProgram(nodes, module, req, {
      onResponse: () => {
        processes[victim]!.child.kill("SIGSTOP");
        frozenAt = performance.now();
      },
    });
  } catch (error) {
    assert.ok(frozenAt !== undefined, `the run failed before it started: ${error}`);
    run = { error, ms: performance.now() - frozenAt };
  } finally {
    if (frozenAt !== undefined) processes[victim]!.child.kill("SIGCONT");
  }
  if (run === undefined) throw new Error(`the run succeeded although node ${victim} was frozen`);
  assertStallBlames(run.error, victim, nodes[victim]!);
  assert.deepEqual(await leftovers(nodes, req.object), []);
  return run;
}

/**
 * One step per victim: {@linkcode runFreezing} on object `objFrozen<victim>` with the request
 * `makeRequest` makes for it, which must fail within 3 s of the freeze.
 *
 * @example
 * ```ts ignore
 * await freezeEachInTurn(t, [0, 7, 15], processes, rapidraid, (id) => request(...));
 * ```
 */
export async function freezeEachInTurn(
  t: Deno.TestContext,
  victims: readonly number[],
  processes: readonly DataNodeProcess[],
  module: CodingModule,
  makeRequest: (objectId: string) => CodingRequest,
): Promise<void> {
  for (const victim of victims) {
    await t.step(`node ${victim}`, async () => {
      const req = makeRequest(`objFrozen${victim}`);
      const { ms } = await runFreezing(processes, module, req, victim);
      assert.ok(ms < 3000, `failed ${Math.round(ms)} ms after the freeze`);
    });
  }
}

/** Starts the 16 datanodes of a CODING test, with short timeouts (3 s). */
export async function startCodingNodes(): Promise<DataNodeProcess[]> {
  return await Promise.all(
    Array.from(
      { length: NODES },
      () => DataNodeProcess.start({ args: ["--frame-timeout", "3000", "--idle-timeout", "3000"] }),
    ),
  );
}
