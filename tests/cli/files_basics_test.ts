/**
 * The file commands' everyday use and their refusals: `ls`, `stat`, `rm`; every bad input a
 * clear one-line error that changes nothing (an unknown file, a taken name, a put the namenode
 * cannot place, a malformed name, no namenode named); where the namenode is found
 * (`--namenode`, `$CDFS_NAMENODE`, a cluster file's `namenode.address`); and the notes of the
 * old spellings of the commands that moved into the `block` and `object` groups.
 *
 * @module
 */
import assert from "node:assert/strict";
import { writeClusterFile } from "../../src/cluster/cluster_file_io.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "../../src/cli/app.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { statBlock } from "../helpers/in_process_cluster.ts";
import { randomBytes } from "../client/_blocks.ts";
import { type FileCluster, startFileCluster } from "../client/_file_cluster.ts";

/** A failure of one line on stderr, nothing on stdout. */
function assertOneLine(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, run.err);
  assert.equal(run.out, "");
  assert.match(run.err, /^cdfs: error: [^\n]+\n$/);
  assert.match(run.err, pattern);
}

/** Every block on every datanode, as `block@node`. */
async function allBlocks(files: FileCluster): Promise<string[]> {
  const runs = await Promise.all(
    files.cluster.nodes.map((address) => runCdfs(["block", "ls", "--node", address, "--json"])),
  );
  return runs.flatMap((run, i) =>
    JSON.parse(run.out).blocks.map((b: { block: string }) => `${b.block}@${i}`)
  ).sort();
}

Deno.test("ls, stat, rm of files; bad input is one line and changes nothing", async (t) => {
  await using files = await startFileCluster(4);
  const cdfs = (...args: string[]) => runCdfs(args, { env: files.env });
  const work = await Deno.makeTempDir({ prefix: "cdfs-files-basics-" });
  const replication = ["--code", "replication", "--chunk-size", "4096"];
  try {
    const bytes = randomBytes(10_000);
    await Deno.writeFile(`${work}/a`, bytes);
    for (const name of ["docs/a", "docs/b", "z"]) {
      const put = await cdfs("put", ...replication, `${work}/a`, name);
      assert.equal(put.code, 0, put.err);
    }

    await t.step("ls: every file, or those under a prefix; --json", async () => {
      const all = await cdfs("ls");
      assert.equal(all.code, 0, all.err);
      assert.equal(
        all.out,
        [
          "9.8 KiB  replicated  replication  docs/a",
          "9.8 KiB  replicated  replication  docs/b",
          "9.8 KiB  replicated  replication  z",
          "",
        ].join("\n"),
      );
      const docs = await cdfs("ls", "docs/");
      assert.deepEqual(docs.out.split("\n").map((l) => l.split("  ").pop()), [
        "docs/a",
        "docs/b",
        "",
      ]);
      const json = JSON.parse((await cdfs("ls", "--json", "z")).out);
      assert.deepEqual(json.files.map((f: { name: string }) => f.name), ["z"]);
      assert.equal(json.files[0].length, 10_000);
      assert.equal((await cdfs("ls", "nothing/")).out, "");
    });

    await t.step("stat: the record, every block with its datanode", async () => {
      const stat = await cdfs("stat", "docs/b");
      assert.equal(stat.code, 0, stat.err);
      const file = await files.client.getFile("docs/b");
      const block = file.blocks[0]!;
      assert.equal(
        stat.out,
        [
          "name       docs/b",
          `file       ${file.fileId} (blocks ${file.objectId}.*)`,
          "code       replication",
          "state      replicated",
          "length     10000 (9.8 KiB)",
          `sha256     ${file.digest}`,
          `created    ${file.created}`,
          `committed  ${file.committed}`,
          "blocks     1 copy",
          `  ${block.block}  part 0  ${block.node}  ${block.address}  alive  stored`,
          "",
        ].join("\n"),
      );
      assert.deepEqual(JSON.parse((await cdfs("stat", "--json", "docs/b")).out), file);
    });

    await t.step("rm: the record, then the blocks", async () => {
      const file = await files.client.getFile("z");
      const rm = await cdfs("rm", "z");
      assert.equal(rm.code, 0, rm.err);
      assert.equal(rm.out, "removed z (9.8 KiB): 1 block copy deleted\n");
      assert.equal(await statBlock(file.blocks[0]!.address!, file.blocks[0]!.block), undefined);
      assert.doesNotMatch((await cdfs("ls")).out, / z\n/);
      assertOneLine(await cdfs("rm", "z"), EXIT_FAILURE, /there is no file "z" \(NOT_FOUND\)/);
    });

    await t.step(
      "on a terminal, put and get draw a progress bar on stderr and clear it",
      async () => {
        const terminal = { env: files.env, isTerminal: true };
        const put = await runCdfs(["put", ...replication, `${work}/a`, "tty"], terminal);
        assert.equal(put.code, 0, put.err);
        assert.match(put.err, /^\rput tty \[/);
        assert.match(put.err, /\r +\r$/);
        const got = await runCdfs(
          ["get", "-o", `${work}/tty.out`, "--chunk-size", "4K", "tty"],
          terminal,
        );
        assert.equal(got.code, 0, got.err);
        assert.match(got.err, /^\rget tty \[.* \/ 9\.8 KiB /);
        assert.match(got.err, /\r +\r$/);
        assert.deepEqual(await Deno.readFile(`${work}/tty.out`), bytes);
        // Into a pipe: no bar.
        assert.equal((await cdfs("rm", "tty")).err, "");
      },
    );

    await t.step("an unknown file: each command says so in one line", async () => {
      const before = await allBlocks(files);
      for (const command of ["get", "stat", "rm", "archive", "repair"]) {
        assertOneLine(
          await cdfs(command, "nope"),
          EXIT_FAILURE,
          /^cdfs: error: there is no file "nope" \(NOT_FOUND\)\n$/,
        );
      }
      // fsck's exit status for a failed check is 2 (1 means degraded).
      assertOneLine(await cdfs("fsck", "nope"), 2, /there is no file "nope" \(NOT_FOUND\)/);
      assert.deepEqual(await allBlocks(files), before);
    });

    await t.step("a taken name: refused, the file and the datanodes unchanged", async () => {
      const file = await files.client.getFile("docs/a");
      const before = await allBlocks(files);
      await Deno.writeFile(`${work}/other`, randomBytes(5000));
      assertOneLine(
        await cdfs("put", ...replication, `${work}/other`, "docs/a"),
        EXIT_FAILURE,
        /^cdfs: error: file "docs\/a" already exists \(EXISTS\)\n$/,
      );
      assert.deepEqual(await files.client.getFile("docs/a"), file);
      assert.deepEqual(await allBlocks(files), before);
    });

    await t.step("a put the namenode cannot place: refused with its numbers", async () => {
      const before = await allBlocks(files);
      assertOneLine(
        await cdfs("put", "--code", "rapidraid", `${work}/a`, "big"),
        EXIT_FAILURE,
        /^cdfs: error: cannot place the blocks of file "big": the layout needs 16 distinct live datanodes, 4 are available \(UNAVAILABLE\)\n$/,
      );
      assert.deepEqual(await allBlocks(files), before);
      assertOneLine(await cdfs("stat", "big"), EXIT_FAILURE, /NOT_FOUND/);
    });

    await t.step("a put when the datanodes lack the space: refused, nothing stored", async () => {
      await using small = await startFileCluster(3, { free: 4096 });
      assertOneLine(
        await runCdfs(["put", ...replication, `${work}/a`, "a"], { env: small.env }),
        EXIT_FAILURE,
        /^cdfs: error: cannot place the blocks of file "a": the layout needs 1 distinct live datanodes with at least 9\.8 KiB free; 3 are available, 0 of them with that much free \(UNAVAILABLE\)\n$/,
      );
      assert.deepEqual(await allBlocks(small), []);
      assert.equal((await runCdfs(["ls"], { env: small.env })).out, "");
    });

    await t.step("malformed arguments are usage errors, before any connection", async () => {
      assertOneLine(
        await cdfs("put", `${work}/a`, "bad\nname"),
        EXIT_USAGE,
        /^cdfs: error: file name "bad\\nname" contains the control character "\\n"\n$/,
      );
      assertOneLine(
        await cdfs("put", "--code", "nope", `${work}/a`, "x"),
        EXIT_USAGE,
        /unknown coding module 'nope'/,
      );
      assertOneLine(
        await cdfs("archive", "--code", "rs", "docs/a"),
        EXIT_USAGE,
        /^cdfs: error: --code rs: file "docs\/a" was put with replication\n$/,
      );
      assertOneLine(
        await cdfs("get", "--json", "docs/a"),
        EXIT_USAGE,
        /--json needs -o FILE/,
      );
      assertOneLine(
        await runCdfs(["ls"]),
        EXIT_USAGE,
        /^cdfs: error: --namenode HOST:PORT or --cluster FILE is required \(or set CDFS_NAMENODE or CDFS_CLUSTER\)\n$/,
      );
      assertOneLine(
        await runCdfs(["ls", "--namenode", "nowhere"]),
        EXIT_USAGE,
        /--namenode/,
      );
    });

    await t.step("the namenode of a cluster file, and of the environment", async () => {
      const path = `${work}/cluster.json`;
      const cluster = {
        version: 1,
        name: "t",
        state: "up",
        created: "2026-11-25T00:00:00.000Z",
        stateDir: work,
        dataDir: work,
        removeData: false,
        nodeArgs: [],
        launcher: { pid: 4242, startTime: "100", detached: true },
        nodes: [],
      } as const;
      await writeClusterFile(path, cluster);
      const noNamenode = await runCdfs(["ls", "--cluster", path]);
      assertOneLine(noNamenode, EXIT_USAGE, /names no namenode/);
      await writeClusterFile(path, {
        ...cluster,
        namenode: { address: files.namenode.address, meta: `sqlite:${work}/meta.db` },
      });
      const viaOption = await runCdfs(["ls", "--cluster", path]);
      const viaEnv = await runCdfs(["ls"], { env: { CDFS_CLUSTER: path } });
      const direct = await runCdfs(["ls", "--namenode", files.namenode.address]);
      assert.equal(direct.code, 0, direct.err);
      assert.equal(viaOption.code, 0, viaOption.err);
      assert.match(direct.out, /docs\/a\n/);
      assert.equal(viaOption.out, direct.out);
      assert.equal(viaEnv.out, direct.out);
      // Both variables set: refused, as for the node lists.
      assertOneLine(
        await runCdfs(["ls"], { env: { ...files.env, CDFS_CLUSTER: path } }),
        EXIT_USAGE,
        /CDFS_NAMENODE and CDFS_CLUSTER are both set/,
      );
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("the old spellings of block and object commands run them, with a note", async () => {
  await using files = await startFileCluster(1);
  const node = files.cluster.nodes[0]!;
  const ping = await runCdfs(["ping", "--node", node]);
  assert.equal(ping.code, 0, ping.err);
  assert.equal(ping.err, "cdfs: note: 'cdfs ping' is now 'cdfs block ping'\n");
  assert.match(ping.out, /^127\.0\.0\.1:\d+: node dn0, /);
  const stored = await runCdfs(["store", "--node", node, "--chunk-size", "4K", "b1", "-"], {
    stdin: new Uint8Array([1, 2, 3]),
  });
  assert.equal(stored.err, "cdfs: note: 'cdfs store' is now 'cdfs block store'\n");
  const retrieved = await runCdfs(["retrieve", "--node", node, "b1"]);
  assert.deepEqual(retrieved.stdout, new Uint8Array([1, 2, 3]));
  assert.equal(retrieved.err, "cdfs: note: 'cdfs retrieve' is now 'cdfs block retrieve'\n");
  const stats = await runCdfs(["stats", "--node", node, "--json"]);
  assert.equal(stats.err, "cdfs: note: 'cdfs stats' is now 'cdfs block stats'\n");
  const encode = await runCdfs(["encode", "--code", "replication", "--nodes", node, "obj"]);
  assert.match(encode.err, /^cdfs: note: 'cdfs encode' is now 'cdfs object encode'\ncdfs: error: /);
  const decode = await runCdfs(["decode", "--code", "replication", "--nodes", node, "obj"]);
  assert.match(decode.err, /^cdfs: note: 'cdfs decode' is now 'cdfs object decode'\n/);
  const putParts = await runCdfs(["put-parts", "--code", "rs", "--nodes", node, "f", "obj"]);
  assert.match(putParts.err, /^cdfs: note: 'cdfs put-parts' is now 'cdfs object put-parts'\n/);
  // An old spelling's help is the command's, spelled the old way; it is not listed.
  const help = await runCdfs(["store", "--help"]);
  assert.match(help.out, /^Usage: cdfs store --node HOST:PORT /);
  assert.match(help.out, /\n {2}cdfs store --node 127\.0\.0\.1:13100 photo\.jpg\.0 photo\.jpg\n/);
  const list = (await runCdfs(["--help"])).out;
  assert.match(list, /\n {2}block store +Store a file/);
  assert.doesNotMatch(list, /\n {2}store /);
  // The words that are file commands now say where the block commands went.
  assert.match((await runCdfs(["ls", "--help"])).out, /'cdfs block ls'/);
  assert.match((await runCdfs(["stat", "--help"])).out, /'cdfs block stat'/);
  assert.match((await runCdfs(["rm", "--help"])).out, /'cdfs block rm'/);
  assert.match((await runCdfs(["repair", "--help"])).out, /'cdfs object repair'/);
  const oldLs = await runCdfs(["ls", "--node", node]);
  assert.equal(oldLs.code, EXIT_USAGE);
  // The old block-level spelling is pointed to the block command that has the option.
  assert.equal(
    oldLs.err,
    "cdfs: error: ls: unknown option '--node' (did you mean 'cdfs block ls --node'? list the " +
      "blocks of a datanode); see 'cdfs ls --help'\n",
  );
});
