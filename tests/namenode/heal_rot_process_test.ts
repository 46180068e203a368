/**
 * Rot, found and healed without a command, against real processes: a `cdfs namenode serve`
 * child (automatic repair on, `--repair-delay 0s`) and 17 `cdfs datanode serve` children, each
 * scrubbing in the background (`--scrub-rate 64MiB/s --scrub-pause 200ms`), holding archived
 * RapidRAID files, replicated RapidRAID files (parts with copies) and an archived replication
 * file. One byte is flipped on disk in 5 stored blocks of 5 files on 5 datanodes. Then:
 *
 * - every flipped block is quarantined by the time its datanode has finished one scrub pass
 *   begun after the flip (a read may find it first: either way it is out of the namespace);
 * - the namenode repairs every affected file by itself (`repair-finished` for each), and fsck
 *   reports every file healthy with every block on a live datanode;
 * - every file read (what `get` runs) in a loop all along, flip, quarantine and repairs, is
 *   byte-identical each time, and `cdfs get` of every file is at the end;
 * - no quarantined copy was a repair's input: each rebuilt block holds exactly the bytes the
 *   block held before the flip (a rebuild fed the flipped byte would differ), and each
 *   quarantined file is untouched (still the flipped bytes).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { readFile } from "../../src/client/files/read.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import type { FileView } from "../../src/namenode/responses.ts";
import { QUARANTINE_DIR, quarantinedFiles } from "../../src/store/quarantine.ts";
import { flipBlockBytes, retrieveBlock, statBlock } from "../helpers/in_process_cluster.ts";
import { waitFor } from "../helpers/wait.ts";
import {
  cdfs,
  fsckStatuses,
  logRecords,
  putRandomFile,
  QUICK_NAMENODE_ARGS,
  startProcesses,
} from "./_processes.ts";

const DATANODES = 17;
const FLIPS = 5;

/** The scrub pass number and whether one runs, of a datanode. */
async function scrubState(address: string): Promise<{ pass: number; running: boolean }> {
  using client = await DataNodeClient.connect(address);
  const { scrub } = await client.stats();
  assert.ok(scrub !== undefined, `${address} reports no scrub`);
  return { pass: scrub.pass, running: scrub.running };
}

Deno.test({
  name:
    "heal, processes: 5 blocks rotten on disk are found by the scrub, quarantined, and rebuilt by the namenode with no command; every read byte-identical throughout",
}, async () => {
  const started = Date.now();
  await using processes = await startProcesses({
    prefix: "cdfs-heal-rot-",
    datanodes: DATANODES,
    namenodeArgs: [...QUICK_NAMENODE_ARGS, "--no-auto-gc"],
    datanodeArgs: ["--scrub-rate", "64MiB/s", "--scrub-pause", "200ms"],
  });
  const { work, log, address, dataDirs, datanodes } = processes;
  let reading = true;
  let reader: Promise<number> | null = null;
  try {
    const sources = new Map<string, Uint8Array>();
    const put = async (name: string, code: string, bytes: number, archive: boolean) => {
      const path = await putRandomFile(address, work, name, code, bytes, archive);
      sources.set(name, await Deno.readFile(path));
    };
    await put("coded0", "rapidraid", 150_000, true);
    await put("coded1", "rapidraid", 120_000 + 777, true);
    await put("parts0", "rapidraid", 90_000 + 333, false);
    await put("parts1", "rapidraid", 60_000 + 11, false);
    await put("copies0", "replication", 30_000 + 5, true);

    using client = await NameNodeClient.connect(address);
    // One stored block of each file, each on its own datanode. The files on the fewest
    // datanodes choose first (the 3 copies of a replicated file could otherwise all be on
    // datanodes taken already: placement is random).
    const victims: { name: string; block: string; node: number; before: Uint8Array }[] = [];
    const files: FileView[] = [];
    for (const name of sources.keys()) files.push(await client.getFile(name));
    const spread = (file: FileView) =>
      new Set(file.blocks.filter((b) => b.state === "stored").map((b) => b.node)).size;
    files.sort((a, b) => spread(a) - spread(b));
    for (const file of files) {
      const name = file.name;
      const pick = file.blocks.find((b) =>
        b.state === "stored" && !victims.some((v) => `dn${v.node}` === b.node)
      );
      assert.ok(pick !== undefined, `${name}: no stored block on a datanode not chosen yet`);
      const node = Number(pick.node.slice(2));
      victims.push({
        name,
        block: pick.block,
        node,
        before: await retrieveBlock(datanodes[node]!.address, pick.block),
      });
    }
    assert.equal(new Set(victims.map((v) => v.node)).size, FLIPS);

    // Reads all along: every file, round after round, each byte-identical.
    const modules = new Map<string, Awaited<ReturnType<typeof loadCodingModule>>>();
    let rounds = 0;
    const readAll = async (): Promise<number> => {
      while (reading) {
        for (const [name, bytes] of sources) {
          const file = await client.getFile(name);
          let module = modules.get(file.code);
          if (module === undefined) {
            modules.set(file.code, module = await loadCodingModule(file.code));
          }
          const output = join(work, `${name}.read`);
          await readFile({ file, module, output, tempDir: work });
          assert.deepEqual(
            await Deno.readFile(output),
            bytes,
            `read of ${name} in round ${rounds}`,
          );
        }
        rounds++;
      }
      return rounds;
    };
    // A failed read ends the reader: every wait below fails with that read's error at once.
    let readFailure: unknown = undefined;
    const readerFailed = () => {
      if (readFailure !== undefined) throw readFailure;
      return false;
    };
    reader = readAll();
    reader.catch((error) => readFailure = error ?? new Error("a read failed"));

    // The flip: one byte each, the scrub's pass number noted after it.
    const roundsAtFlip = rounds;
    const flipped = new Map<string, Uint8Array>();
    for (const [i, v] of victims.entries()) {
      // The file as flipped, from the flip itself: the reads under way may find the rot and
      // have the file quarantined (moved) at once.
      const at = Math.min(1000 * i + 7, v.before.length - 1);
      flipped.set(v.block, await flipBlockBytes(dataDirs[v.node]!, v.block, at, 1));
    }
    const passes = await Promise.all(victims.map((v) => scrubState(datanodes[v.node]!.address)));
    // One pass begun after the flip, finished: the pass after the one under way is over.
    await waitFor(
      "one scrub pass begun after the flip finished on each flipped datanode",
      async () => {
        readerFailed();
        const now = await Promise.all(victims.map((v) => scrubState(datanodes[v.node]!.address)));
        return now.every((s, i) =>
          s.pass >= passes[i]!.pass + 2 || (s.pass === passes[i]!.pass + 1 && !s.running)
        );
      },
      30_000,
    );
    const quarantined = new Map<string, string>();
    for (const v of victims) {
      const kept = (await quarantinedFiles(dataDirs[v.node]!)).filter((f) =>
        f.startsWith(`${v.block}.`)
      );
      assert.equal(kept.length, 1, `${v.block} quarantined on dn${v.node}`);
      quarantined.set(v.block, join(dataDirs[v.node]!, QUARANTINE_DIR, kept[0]!));
    }

    // Repaired with no command: every file healthy, every block on a live datanode.
    await waitFor(
      "every file healthy again",
      async () => readerFailed() || (await fsckStatuses(address)).every((s) => s === "healthy"),
      60_000,
    );
    // At least one whole round of reads begun after the flip (reads ran all along the heal).
    await waitFor(
      "a round of reads begun after the flip",
      () => readerFailed() || rounds >= roundsAtFlip + 2,
      60_000,
    );
    reading = false;
    await reader;
    reader = null;
    // The record follows the repair's last MOVE_BLOCK (fsck may say healthy just before it).
    await waitFor("a repair-finished record for each affected file", async () => {
      const repaired = new Set(
        (await logRecords(log)).filter((r) => r.event === "repair-finished").map((r) => r.name),
      );
      return victims.every((v) => repaired.has(v.name));
    }, 30_000);
    for (const name of sources.keys()) {
      const file = await client.getFile(name);
      for (const b of file.blocks.filter((b) => b.state === "stored")) {
        assert.ok(b.alive, `${name}: ${b.block} on ${b.node}, a live datanode`);
        assert.ok(await statBlock(b.address!, b.block), `${name}: ${b.block} held by ${b.node}`);
      }
    }
    // Rebuilt from good inputs only: the same bytes as before the flip; the quarantined
    // copies untouched.
    for (const v of victims) {
      const file = await client.getFile(v.name);
      const copies = file.blocks.filter((b) => b.block === v.block && b.state === "stored");
      assert.ok(copies.length >= 1, `${v.block} placed again`);
      for (const copy of copies) {
        assert.deepEqual(
          await retrieveBlock(copy.address!, v.block),
          v.before,
          `${v.block} on ${copy.node}`,
        );
      }
      assert.deepEqual(await Deno.readFile(quarantined.get(v.block)!), flipped.get(v.block));
    }
    for (const [name, bytes] of sources) {
      const copy = join(work, `${name}.get`);
      await cdfs(address, "get", name, "-o", copy);
      assert.deepEqual(await Deno.readFile(copy), bytes, `get ${name}`);
    }
    const fsck = await cdfs(address, "fsck");
    assert.equal(fsck.code, 0);
    // deno-lint-ignore no-console
    console.log(`${rounds} read rounds while healing; whole scenario ${Date.now() - started} ms`);
  } catch (error) {
    // What the repair loop said, to tell why.
    const said = await logRecords(log).catch(() => []);
    // deno-lint-ignore no-console
    console.log(said.filter((r) => /^(repair|block|datanode|error)/.test(String(r.event))));
    throw error;
  } finally {
    reading = false;
    await reader?.catch(() => {});
  }
});
