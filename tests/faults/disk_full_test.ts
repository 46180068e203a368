/**
 * Fault injection: a datanode process whose disk fills, on a small tmpfs (needs root and
 * `mount`; skipped with the reason otherwise). A STORE that declares more than the free space
 * is refused up front with `NO_SPACE`; a STORE of unknown length that runs the disk full fails
 * with `NO_SPACE` naming the node, and nothing of it is left (no listed block, no temporary
 * file); the node keeps serving: the blocks it had read back whole, and a STORE that fits
 * succeeds once there is space again.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { randomBytes } from "../helpers/bytes.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { tempDir } from "../helpers/temp_dir.ts";
import { readBlock, sha256Hex } from "./_scan.ts";

/** The size of the tmpfs. */
const DISK_BYTES = 4 << 20;

/** Mounts a tmpfs of `bytes` on `dir`; the reason it cannot, or undefined when mounted. */
async function mountTmpfs(dir: string, bytes: number): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "needs root (mount -t tmpfs)";
  try {
    const out = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      return `mount -t tmpfs failed: ${new TextDecoder().decode(out.stderr).trim()}`;
    }
  } catch (error) {
    return `mount not runnable: ${(error as Error).message}`;
  }
  return undefined;
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir], stdout: "null", stderr: "null" }).output();
}

const mountPoint = await Deno.makeTempDir({ prefix: "cdfs-diskfull-probe-" });
const cannotMount = await mountTmpfs(mountPoint, 1 << 20);
if (cannotMount === undefined) await unmount(mountPoint);
await Deno.remove(mountPoint);

Deno.test({
  name: cannotMount === undefined
    ? "disk full: NO_SPACE up front or when the disk fills, nothing half-written"
    : `disk full: skipped: ${cannotMount}`,
  ignore: cannotMount !== undefined,
  fn: async () => {
    await using dir = await tempDir("cdfs-diskfull-");
    const reason = await mountTmpfs(dir.path, DISK_BYTES);
    assert.equal(reason, undefined);
    try {
      await using node = await DataNodeProcess.start({ dataDir: dir.path });
      using client = await DataNodeClient.connect(node.address);
      const kept = randomBytes(1 << 20);
      await client.store("kept", [kept], { chunkSize: 64 * 1024 });

      // Declared too long: refused before any byte is read.
      const declared = new Uint8Array(8 << 20);
      await assert.rejects(
        client.store("declared", [declared], { length: declared.length, chunkSize: 1 << 20 }),
        (e) => isCdfsError(e, "NO_SPACE") && e.message.includes(node.address),
      );

      // Unknown length, more than the disk holds: fails as the disk fills.
      const big = randomBytes(6 << 20);
      const chunks = Array.from({ length: 96 }, (_, i) => big.subarray(i << 16, (i + 1) << 16));
      using streaming = await DataNodeClient.connect(node.address);
      const error = await streaming.store("streamed", chunks, { chunkSize: 64 * 1024 }).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(isCdfsError(error, "NO_SPACE"), `NO_SPACE, got ${error}`);
      assert.ok(error.message.includes(node.address), error.message);

      // Nothing half-written: no block, no temporary file; what was there reads back whole.
      const listed = (await Array.fromAsync(client.listAll())).map((e) => e.block);
      assert.deepEqual(listed, ["kept"]);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(`${dir.path}/tmp`)), []);
      assert.equal(await sha256Hex(await readBlock(client, "kept")), await sha256Hex(kept));
      // And the node stores what fits.
      const small = randomBytes(512 * 1024);
      await client.store("small", [small], { chunkSize: 64 * 1024 });
      assert.equal(await sha256Hex(await readBlock(client, "small")), await sha256Hex(small));
      await node.stop();
    } finally {
      await unmount(dir.path);
    }
  },
});
