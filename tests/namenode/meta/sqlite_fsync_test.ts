/**
 * What the SQLite store asks of the disk, counted with `strace` on a child process: a creation
 * alone does not wait for an fsync (one in FILE_ID_RESERVE + 1 does, when the reservation of ids
 * moves on), a commit does. Skipped, saying why, where `strace` cannot run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { FILE_ID_RESERVE } from "../../../src/namenode/meta/sqlite_file_ids.ts";
import { tempDir } from "../../helpers/temp_dir.ts";

const WORKLOAD = new URL("./_fsync_workload.ts", import.meta.url).pathname;

/** Why strace cannot trace a child here, or null when it can. */
async function straceMissing(): Promise<string | null> {
  try {
    const { success } = await new Deno.Command("strace", {
      args: ["-f", "-qq", "-e", "trace=none", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success ? null : "strace cannot trace a child process here";
  } catch {
    return "strace is not installed (Debian: strace)";
  }
}

const missing = await straceMissing();

/** The fsync and fdatasync calls of the workload run on a fresh database. */
async function fsyncsOf(dir: string, count: number, mode: "create" | "put"): Promise<number> {
  const log = `${dir}/${mode}.strace`;
  const { success, stderr } = await new Deno.Command("strace", {
    args: [
      "-f",
      "-qq",
      "-e",
      "trace=fsync,fdatasync",
      "-o",
      log,
      Deno.execPath(),
      "run",
      "-A",
      WORKLOAD,
      `${dir}/${mode}.db`,
      String(count),
      mode,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
  return (await Deno.readTextFile(log)).split("\n").filter((l) => /\bf(data)?sync\(/.test(l))
    .length;
}

Deno.test({
  name: `sqlite store: a creation alone commits without an fsync, a commit with one${
    missing === null ? "" : `: skipped: ${missing}`
  }`,
  ignore: missing !== null,
  async fn() {
    await using dir = await tempDir("cdfs-fsync-");
    const count = 300;
    const creations = await fsyncsOf(dir.path, count, "create");
    const puts = await fsyncsOf(dir.path, count, "put");
    // Creations: the reservation moves on every FILE_ID_RESERVE + 1 ids (a synced creation
    // each), plus the opening, the datanode's registration, checkpoints and the close.
    assert.ok(
      creations < count / 10,
      `${creations} fsyncs for ${count} creations (a reservation of ${FILE_ID_RESERVE} ids)`,
    );
    // Puts: one per commit at least.
    assert.ok(puts >= count, `${puts} fsyncs for ${count} puts`);
  },
});
