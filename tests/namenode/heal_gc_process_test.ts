/**
 * Garbage, collected by the namenode's periodic GC (`--gc-grace 6s`) against real processes: a
 * `cdfs namenode serve` child and 4 `cdfs datanode serve` children, a committed file, and what a
 * crashed put leaves: a pending file (CREATE_FILE) with two of its copies stored and no commit,
 * and a block of a file id that names no file, stored directly on a datanode. Each is still on
 * its datanode up to a second before its grace is over, gone soon after, with a `gc-removed`
 * record; the committed file keeps every copy and reads back byte-identical.
 *
 * (A returning datanode's stale copies: auto_repair_process_test.ts.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { layoutOfModule } from "../../src/namenode/layout.ts";
import { statBlock } from "../helpers/in_process_cluster.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  cdfs,
  logRecords,
  putRandomFile,
  QUICK_NAMENODE_ARGS,
  startProcesses,
} from "./_processes.ts";

const GRACE_MS = 6_000;

async function store(address: string, block: string, bytes: Uint8Array): Promise<void> {
  using client = await DataNodeClient.connect(address);
  await client.store(block, [bytes]);
}

Deno.test("heal, processes: a crashed put's blocks and a stray block are removed by the periodic GC after --gc-grace, never before; a file's blocks never", async () => {
  await using processes = await startProcesses({
    prefix: "cdfs-heal-gc-",
    datanodes: 4,
    namenodeArgs: [...QUICK_NAMENODE_ARGS, "--gc-grace", `${GRACE_MS / 1000}s`],
  });
  const { work, log, address, datanodes } = processes;
  const source = await putRandomFile(address, work, "keep", "replication", 50_000, true);
  using client = await NameNodeClient.connect(address);
  const kept = (await client.getFile("keep")).blocks.filter((b) => b.state === "stored");

  // A crashed put: the file created, two copies stored, then nothing.
  const module = await loadCodingModule("replication");
  const created = await client.createFile({
    name: "half",
    code: "replication",
    length: 4000,
    layout: layoutOfModule(module, "parts"),
    blockLength: 4000,
  });
  const written = created.file.blocks.slice(0, 2);
  for (const b of written) await store(b.address!, b.block, new Uint8Array(4000).fill(7));
  // A block of no file (a put that died before its CREATE_FILE was answered, say).
  const stray = { block: "f999.part0", address: datanodes[0]!.address, node: "dn0" };
  await store(stray.address, stray.block, new Uint8Array(100).fill(9));
  let firstSeen = NaN;
  await waitFor("the stray block reported", async () => {
    const { orphans } = await client.orphans({ graceMs: 0 });
    const o = orphans.find((o) => o.block === stray.block && o.node === stray.node);
    if (o !== undefined) firstSeen = Date.parse(o.firstSeen);
    return o !== undefined;
  }, 30_000);
  const createdAt = Date.parse(created.file.created);

  // Never before the grace: every look until a second before it finds them all.
  const deadline = Math.min(firstSeen, createdAt) + GRACE_MS - 1_000;
  let looks = 0;
  while (Date.now() < deadline) {
    for (const b of [...written, stray]) {
      assert.ok(
        await statBlock(b.address!, b.block),
        `${b.block} on ${b.node} removed ${deadline + 1_000 - Date.now()} ms before its grace`,
      );
    }
    looks++;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(looks >= 1);
  // After it: gone, each with its record; the pending file aborted.
  await waitFor("the orphans removed", async () => {
    for (const b of [...written, stray]) {
      if (await statBlock(b.address!, b.block)) return false;
    }
    return true;
  }, 30_000);
  await waitFor("the removals logged", async () => {
    const removed = (await logRecords(log)).filter((r) => r.event === "gc-removed");
    return [...written, stray].every((b) =>
      removed.some((r) => r.block === b.block && r.node === b.node)
    );
  }, 30_000);
  await assert.rejects(
    client.getFileById(created.file.fileId),
    (e) => isCdfsError(e, "NOT_FOUND"),
  );
  // The committed file: every copy where it was, byte-identical.
  for (const b of kept) assert.ok(await statBlock(b.address!, b.block), `${b.block} kept`);
  const copy = join(work, "keep.get");
  await cdfs(address, "get", "keep", "-o", copy);
  assert.deepEqual(await Deno.readFile(copy), await Deno.readFile(source));
});
