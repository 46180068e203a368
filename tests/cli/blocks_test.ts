import assert from "node:assert/strict";
import { EXIT_FAILURE, EXIT_USAGE } from "../../src/cli/app.ts";
import { formatBytes } from "../../src/format/bytes.ts";
import { iterableReader } from "../../src/client/byte_io.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { concatBytes } from "../helpers/bytes.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { type CdfsOptions, type CliRun, runCdfs } from "../helpers/cli.ts";
import { randomBytes, sha256, sha256File, unusedPort, writeRandomFile } from "../client/_blocks.ts";

/**
 * Runs `cdfs ARGS` in this process; its binary standard output takes at most 300,000 bytes a
 * write, as a pipe may take less than it is offered.
 */
function cdfs(args: string[], options: CdfsOptions = {}): Promise<CliRun> {
  return runCdfs(args, { maxWrite: 300_000, ...options });
}

/** Asserts a failure reported as exactly one line on stderr, with the exit code. */
function assertOneLineError(run: CliRun, code: number, ...patterns: RegExp[]): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.err}`);
  assert.match(run.err, /^cdfs: error: [^\n]+\n$/);
  for (const pattern of patterns) assert.match(run.err, pattern);
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("store and retrieve through the commands: files, stdin, stdout, ranges", async (t) => {
  await using node = await DataNodeProcess.start();
  const work = await Deno.makeTempDir();
  const n = ["--node", node.address];
  try {
    for (const size of [0, 1, (1 << 20) + 1]) {
      await t.step(`${size} bytes: store FILE, retrieve -o and to stdout`, async () => {
        const path = `${work}/in-${size}`;
        const digest = await writeRandomFile(path, size);
        const stored = await cdfs(["block", "store", ...n, `f${size}`, path]);
        assert.equal(stored.code, 0, stored.err);
        assert.match(
          stored.out,
          new RegExp(`^stored f${size} on ${node.address}: ${formatBytes(size)}, digest `),
        );
        assert.equal(stored.err, "", "no progress output when not a terminal");
        const copy = `${work}/out-${size}`;
        const retrieved = await cdfs(["block", "retrieve", ...n, "-o", copy, `f${size}`]);
        assert.equal(retrieved.code, 0, retrieved.err);
        assert.match(retrieved.out, /digest verified/);
        assert.equal(await sha256File(copy), digest);
        const piped = await cdfs(["block", "retrieve", ...n, `f${size}`]);
        assert.equal(piped.code, 0, piped.err);
        assert.equal(piped.out, "");
        assert.equal(sha256(piped.stdout), digest);
      });
    }
    await t.step("store from standard input with -, and only with -", async () => {
      const data = randomBytes(2_500_000);
      const run = await cdfs(["block", "store", ...n, "stdin-dash", "-"], { stdin: data });
      assert.equal(run.code, 0, run.err);
      const back = await cdfs(["block", "retrieve", ...n, "stdin-dash"]);
      assert.equal(sha256(back.stdout), sha256(data));
      // Without FILE standard input is not read (issue 10: a forgotten id stored an empty block).
      const implicit = await cdfs(["block", "store", ...n, "stdin-implicit"], { stdin: data });
      assertOneLineError(implicit, EXIT_USAGE, /missing FILE: expected ID FILE, or ID -/);
      assertOneLineError(
        await cdfs(["block", "stat", ...n, "stdin-implicit"]),
        EXIT_FAILURE,
        /NOT_FOUND/,
      );
    });
    await t.step("--offset and --length select a range", async () => {
      const data = randomBytes(3_000_000);
      await cdfs(["block", "store", ...n, "ranged", "-"], { stdin: data });
      const cases: [string[], Uint8Array][] = [
        [["--offset", "1048570", "--length", "20"], data.subarray(1048570, 1048590)],
        [["--offset", "2999999"], data.subarray(2999999)],
        [["--length", "1K"], data.subarray(0, 1024)],
      ];
      for (const [range, expected] of cases) {
        const run = await cdfs(["block", "retrieve", ...n, ...range, "ranged"]);
        assert.equal(run.code, 0, run.err);
        assert.deepEqual(run.stdout, expected, range.join(" "));
      }
      const json = await cdfs(
        [
          "block",
          "retrieve",
          ...n,
          "--offset",
          "10",
          "--length",
          "5",
          "-o",
          `${work}/r`,
          "--json",
          "ranged",
        ],
      );
      const summary = JSON.parse(json.out);
      assert.equal(summary.offset, 10);
      assert.equal(summary.length, 5);
      assert.equal(summary.blockLength, 3_000_000);
      assert.equal(summary.verified, false);
      assert.deepEqual(await Deno.readFile(`${work}/r`), data.subarray(10, 15));
      const outside = await cdfs(["block", "retrieve", ...n, "--offset", "3000001", "ranged"]);
      assertOneLineError(outside, EXIT_FAILURE, /BAD_REQUEST/, new RegExp(node.address));
    });
    await t.step("store --json, stat --json and --sha256", async () => {
      const data = randomBytes(1_234_567);
      const path = `${work}/for-stat`;
      await Deno.writeFile(path, data);
      const stored = JSON.parse(
        (await cdfs(["block", "store", ...n, "--json", "--chunk-size", "64K", "st", path])).out,
      );
      assert.equal(stored.block, "st");
      assert.equal(stored.length, data.length);
      assert.equal(stored.chunks, Math.ceil(data.length / 65536));
      assert.equal(stored.node, node.address);
      const stat = await cdfs(["block", "stat", ...n, "--json", "st"]);
      assert.equal(stat.code, 0);
      const info = JSON.parse(stat.out);
      assert.equal(info.block, "st");
      assert.equal(info.length, data.length);
      assert.equal(info.chunkSize, 65536);
      assert.equal(info.digest, stored.digest);
      assert.ok(Math.abs(Date.parse(info.created) - Date.now()) < 60_000);
      assert.equal(info.sha256, undefined);
      const withSha = JSON.parse(
        (await cdfs(["block", "stat", ...n, "--json", "--sha256", "st"])).out,
      );
      assert.equal(withSha.sha256, sha256(data));
      assert.equal(withSha.sha256ComputedBy, "client");
      const text = await cdfs(["block", "stat", ...n, "--sha256", "st"]);
      assert.match(
        text.out,
        new RegExp(`^sha256 +${sha256(data)} \\(computed by this client`, "m"),
      );
      assert.match(text.out, new RegExp(`^digest +${stored.digest}`, "m"));
      // Values are flush left in one column, whatever their length.
      const valueColumns = new Set(
        text.out.trimEnd().split("\n").map((line) => /^\S+ +/.exec(line)?.[0].length),
      );
      assert.equal(valueColumns.size, 1, text.out);
    });
    await t.step("rm deletes; the block is then NOT_FOUND", async () => {
      const run = await cdfs(["block", "rm", ...n, "f0", "f1"]);
      assert.equal(run.code, 0, run.err);
      for (const id of ["f0", "f1"]) {
        const stat = await cdfs(["block", "stat", ...n, id]);
        assertOneLineError(
          stat,
          EXIT_FAILURE,
          new RegExp(`node ${node.address}: block '${id}' does not exist \\(NOT_FOUND\\)`),
        );
      }
      assertOneLineError(await cdfs(["block", "rm", ...n, "f0"]), EXIT_FAILURE, /NOT_FOUND/);
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a 256 MiB block through store FILE and retrieve -o", async () => {
  await using node = await DataNodeProcess.start();
  const work = await Deno.makeTempDir();
  try {
    const digest = await writeRandomFile(`${work}/big`, 256 << 20);
    const stored = await cdfs(["block", "store", "--node", node.address, "big", `${work}/big`]);
    assert.equal(stored.code, 0, stored.err);
    await Deno.remove(`${work}/big`);
    const run = await cdfs([
      "block",
      "retrieve",
      "--node",
      node.address,
      "-o",
      `${work}/copy`,
      "big",
    ]);
    assert.equal(run.code, 0, run.err);
    assert.equal(await sha256File(`${work}/copy`), digest);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("the real process: store from a stdin pipe, retrieve to a stdout pipe", async () => {
  await using node = await DataNodeProcess.start();
  const data = randomBytes(3_000_001);
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const env = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" };
  const store = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, "block", "store", "--node", node.address, "piped", "-"],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = store.stdin.getWriter();
  await writer.write(data);
  await writer.close();
  const stored = await store.output();
  assert.equal(stored.code, 0, new TextDecoder().decode(stored.stderr));
  assert.equal(new TextDecoder().decode(stored.stderr), "", "no progress bar into a pipe");
  const retrieved = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, "block", "retrieve", "--node", node.address, "piped"],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(retrieved.code, 0, new TextDecoder().decode(retrieved.stderr));
  assert.equal(sha256(retrieved.stdout), sha256(data));
});

Deno.test("EXISTS, and --overwrite replaces", async () => {
  await using node = await DataNodeProcess.start();
  const n = ["--node", node.address];
  assert.equal(
    (await cdfs(["block", "store", ...n, "x", "-"], { stdin: new Uint8Array([1]) })).code,
    0,
  );
  const again = await cdfs(["block", "store", ...n, "x", "-"], { stdin: new Uint8Array([2]) });
  assertOneLineError(
    again,
    EXIT_FAILURE,
    new RegExp(`^cdfs: error: node ${node.address}: block 'x' already exists \\(EXISTS\\)`),
  );
  assert.deepEqual((await cdfs(["block", "retrieve", ...n, "x"])).stdout, new Uint8Array([1]));
  const replaced = await cdfs(["block", "store", ...n, "--overwrite", "x", "-"], {
    stdin: new Uint8Array([2]),
  });
  assert.equal(replaced.code, 0, replaced.err);
  assert.deepEqual((await cdfs(["block", "retrieve", ...n, "x"])).stdout, new Uint8Array([2]));
});

Deno.test("a failed retrieve -o leaves no file, and an existing one untouched", async () => {
  await using node = await DataNodeProcess.start();
  const work = await Deno.makeTempDir();
  const n = ["--node", node.address];
  try {
    // Not found: nothing is created.
    const missing = await cdfs(["block", "retrieve", ...n, "-o", `${work}/out`, "nope"]);
    assertOneLineError(missing, EXIT_FAILURE, /NOT_FOUND/, new RegExp(node.address));
    assert.deepEqual(await listDir(work), []);
    // A failure mid-stream, after chunks were written: a stored chunk that fails verification.
    await cdfs(["block", "store", ...n, "damaged", "-"], { stdin: randomBytes(3 << 20) });
    using file = await Deno.open(`${node.dataDir}/blocks/damaged`, { read: true, write: true });
    await file.seek(4096 + (2 << 20) + 1, Deno.SeekMode.Start);
    await file.write(new Uint8Array([0xaa, 0x55, 0xaa, 0x55]));
    const damaged = await cdfs(["block", "retrieve", ...n, "-o", `${work}/out`, "damaged"]);
    assertOneLineError(damaged, EXIT_FAILURE, /CORRUPT/, /damaged/, new RegExp(node.address));
    assert.deepEqual(await listDir(work), []);
    await Deno.writeTextFile(`${work}/out`, "keep me");
    const again = await cdfs(["block", "retrieve", ...n, "-o", `${work}/out`, "damaged"]);
    assert.equal(again.code, EXIT_FAILURE);
    assert.deepEqual(await listDir(work), ["out"]);
    assert.equal(await Deno.readTextFile(`${work}/out`), "keep me");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("ls: every block, --prefix, and --limit pages continued with --after", async () => {
  await using node = await DataNodeProcess.start();
  const n = ["--node", node.address];
  const ids = Array.from({ length: 10 }, (_, i) => `p${i}`);
  for (const id of ids) {
    assert.equal(
      (await cdfs(["block", "store", ...n, id, "-"], { stdin: new Uint8Array(7) })).code,
      0,
    );
  }
  // An empty block comes from an empty FILE (an empty standard input is refused).
  const empty = await Deno.makeTempFile();
  try {
    assert.equal((await cdfs(["block", "store", ...n, "q", empty])).code, 0);
  } finally {
    await Deno.remove(empty);
  }

  const all = await cdfs(["block", "ls", ...n]);
  assert.equal(all.code, 0, all.err);
  const lines = all.out.trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split(/\s+/).at(-1)), [...ids, "q"]);
  assert.match(lines[0]!, /^\s+7 B\s+\d{4}-\d\d-\d\dT\S+Z\s+p0$/);
  assert.equal(all.err, "");

  // Pages of 3 (more than one page): follow "next" until it is null.
  const seen: string[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const args: string[] = ["block", "ls", ...n, "--json", "--prefix", "p", "--limit", "3"];
    if (after !== null) args.push("--after", after);
    const page = JSON.parse((await cdfs(args)).out);
    assert.ok(page.blocks.length <= 3);
    seen.push(...page.blocks.map((b: { block: string }) => b.block));
    after = page.next;
    pages++;
  } while (after !== null);
  assert.deepEqual(seen, ids);
  assert.ok(pages >= 4, `${pages} pages`);

  const limited = await cdfs(["block", "ls", ...n, "--limit", "4"]);
  assert.equal(limited.out.trimEnd().split("\n").length, 4);
  assert.equal(limited.err, "more blocks follow: continue with --after p3\n");
  const json = JSON.parse((await cdfs(["block", "ls", ...n, "--json"])).out);
  assert.equal(json.blocks.length, 11);
  assert.equal(json.next, null);
  assert.deepEqual(json.blocks[10], { ...json.blocks[10], block: "q", length: 0 });
  assertOneLineError(await cdfs(["block", "ls", ...n, "--limit", "0"]), EXIT_USAGE, /--limit/);
});

Deno.test("ping, text and --json; CDFS_NODE stands in for --node", async () => {
  await using node = await DataNodeProcess.start({ args: ["--id", "dn-ping"] });
  const json = await cdfs(["block", "ping", "--node", node.address, "--json"]);
  assert.equal(json.code, 0, json.err);
  const pong = JSON.parse(json.out);
  assert.equal(pong.node, "dn-ping");
  assert.equal(pong.address, node.address);
  assert.equal(pong.blocks, 0);
  assert.equal(typeof pong.version, "string");
  assert.ok(pong.freeBytes > 0);
  assert.ok(pong.roundTripMs >= 0);
  const text = await cdfs(["block", "ping"], { env: { CDFS_NODE: node.address } });
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, new RegExp(`^${node.address}: node dn-ping, cdfs \\S+, 0 blocks, `));
});

Deno.test("a node that is down: the message says which address could not be reached", async () => {
  const address = `127.0.0.1:${unusedPort()}`;
  for (
    const args of [["block", "ping"], ["block", "stat", "b"], ["block", "store", "b", "-"], [
      "block",
      "ls",
    ]]
  ) {
    const run = await cdfs([...args, "--node", address]);
    assertOneLineError(
      run,
      EXIT_FAILURE,
      new RegExp(
        `^cdfs: error: cannot reach node ${address}: connection refused \\(UNAVAILABLE\\)`,
      ),
    );
  }
});

Deno.test("bad --node values and arguments are usage errors", async () => {
  const cases: [string[], RegExp][] = [
    [["block", "ping", "--node", "nohost"], /--node "nohost": no port/],
    [["block", "ping", "--node", "h:99999"], /port 99999 is outside 1\.\.65535/],
    [["block", "ping", "--node", "h:-1"], /port "-1" is not a number/],
    [["block", "ping", "--node", ":1"], /no host/],
    [["block", "ping"], /--node HOST:PORT is required/],
    [["block", "stat", "--node", "h:1"], /missing argument: expected ID/],
    [["block", "stat", "--node", "h:1", "../x"], /block id "\.\.\/x" contains "\/"/],
    [["block", "retrieve", "--node", "h:1", "--json", "b"], /--json needs -o FILE/],
    [
      ["block", "retrieve", "--node", "h:1", "--offset=-3", "b"],
      /--offset: expected a non-negative integer/,
    ],
    [["block", "store", "--node", "h:1", "a", "b", "c"], /unexpected argument 'c'/],
    [["block", "ls", "--node", "h:1", "--prefix", "a/b"], /--prefix/],
  ];
  for (const [args, pattern] of cases) {
    const run = await cdfs(args);
    assertOneLineError(run, EXIT_USAGE, pattern);
  }
  const fromEnv = await cdfs(["block", "ping"], { env: { CDFS_NODE: "h" } });
  assertOneLineError(fromEnv, EXIT_USAGE, /CDFS_NODE "h": no port/);
  const missingFile = await cdfs([
    "block",
    "store",
    "--node",
    "127.0.0.1:1",
    "b",
    "/nonexistent/file",
  ]);
  assertOneLineError(missingFile, EXIT_FAILURE, /cannot read \/nonexistent\/file/, /NOT_FOUND/);
});

Deno.test("on a terminal, store and retrieve draw a progress bar on stderr and clear it", async () => {
  await using node = await DataNodeProcess.start();
  const data = randomBytes(8 << 20);
  const stored = await cdfs(["block", "store", "--node", node.address, "tty", "-"], {
    stdin: data,
    isTerminal: true,
  });
  assert.equal(stored.code, 0);
  assert.match(stored.err, /^\rstore tty /);
  assert.match(stored.err, /\r +\r$/, "the line is cleared at the end");
  assert.match(stored.out, /^stored tty/);
  const retrieved = await cdfs(["block", "retrieve", "--node", node.address, "tty"], {
    isTerminal: true,
  });
  assert.match(retrieved.err, /^\rretrieve tty /);
  assert.equal(sha256(retrieved.stdout), sha256(data));
});

Deno.test("store refuses a forgotten id, a terminal and an empty standard input, storing nothing", async () => {
  await using node = await DataNodeProcess.start();
  const n = ["--node", node.address];
  const work = await Deno.makeTempDir();
  try {
    const photo = `${work}/photo.jpg`;
    await Deno.writeFile(photo, randomBytes(1000));
    // `cdfs store --node N photo.jpg`: the id was forgotten, FILE would be taken as the id.
    for (const stdin of [new Uint8Array(0), randomBytes(10)]) {
      const forgotten = await cdfs(["block", "store", ...n, photo], { stdin });
      assertOneLineError(
        forgotten,
        EXIT_USAGE,
        new RegExp(`^cdfs: error: missing block id: '${photo}' is the file to store; name `),
      );
      assert.equal(forgotten.out, "");
    }
    const terminal = await cdfs(["block", "store", ...n, "b", "-"], {
      stdin: randomBytes(10),
      stdinIsTerminal: true,
    });
    assertOneLineError(
      terminal,
      EXIT_USAGE,
      /^cdfs: error: standard input is a terminal; pipe data in or name a FILE\n$/,
    );
    const empty = await cdfs(["block", "store", ...n, "b", "-"], { stdin: new Uint8Array(0) });
    assertOneLineError(empty, EXIT_USAGE, /^cdfs: error: standard input is empty: nothing stored/);
    const listed = JSON.parse((await cdfs(["block", "ls", ...n, "--json"])).out);
    assert.deepEqual(listed.blocks, [], "nothing was stored");

    // A standard input that gives its bytes late and in pieces is stored whole.
    const pieces = [new Uint8Array(0), randomBytes(1), new Uint8Array(0), randomBytes(100_000)];
    const slowly = async function* () {
      for (const piece of pieces) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        yield piece;
      }
    };
    const stored = await cdfs(["block", "store", ...n, "slow", "-"], {
      stdin: iterableReader(slowly()),
    });
    assert.equal(stored.code, 0, stored.err);
    assert.match(stored.out, /^stored slow on \S+: 97\.7 KiB, digest /);
    const back = await cdfs(["block", "retrieve", ...n, "slow"]);
    assert.equal(sha256(back.stdout), sha256(concatBytes(pieces)));
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("the real process: a forgotten id, stdin closed or a terminal, stores nothing at once", async () => {
  await using node = await DataNodeProcess.start();
  const work = await Deno.makeTempDir();
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const env = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" };
  try {
    const photo = `${work}/photo.jpg`;
    await Deno.writeFile(photo, randomBytes(1000));
    const closed = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main, "block", "store", "--node", node.address, photo],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(closed.code, EXIT_USAGE);
    assert.match(
      new TextDecoder().decode(closed.stderr),
      /^cdfs: error: missing block id: [^\n]+\n$/,
    );
    // A real terminal on standard input (script(1) runs the command on a pseudo-terminal): the
    // refusal comes at once instead of a wait for typed data.
    const script = await new Deno.Command("script", { args: ["--version"], stdout: "null" })
      .output().then(() => true, () => false);
    if (script) {
      for (
        const [args, pattern] of [
          [["b", "-"], /standard input is a terminal; pipe data in or name a FILE/],
          [[photo], /missing block id/],
        ] as const
      ) {
        const command = [
          Deno.execPath(),
          "run",
          "-A",
          main,
          "block",
          "store",
          "--node",
          node.address,
          ...args,
        ]
          .map((word) => `'${word}'`).join(" ");
        const run = await new Deno.Command("script", {
          args: ["-qec", command, "/dev/null"],
          env,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(30_000),
        }).output();
        const text = new TextDecoder().decode(run.stdout);
        assert.equal(run.code, EXIT_USAGE, text);
        assert.match(text, pattern);
      }
    }
    using client = await DataNodeClient.connect(node.address);
    assert.deepEqual((await client.list()).blocks, [], "nothing was stored");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("ls shows sizes for people, --json the bytes; ping says 1 block", async () => {
  await using node = await DataNodeProcess.start();
  const n = ["--node", node.address];
  assert.equal(
    (await cdfs(["block", "store", ...n, "big", "-"], { stdin: randomBytes(1536 * 1024) })).code,
    0,
  );
  const listed = await cdfs(["block", "ls", ...n]);
  assert.match(listed.out, /^ +1\.5 MiB {2}\d{4}-\S+Z {2}big\n$/);
  const json = JSON.parse((await cdfs(["block", "ls", ...n, "--json"])).out);
  assert.equal(json.blocks[0].length, 1536 * 1024);
  const ping = await cdfs(["block", "ping", ...n]);
  assert.match(ping.out, /, 1 block, /);
});

Deno.test("CDFS_NODE and CDFS_CLUSTER both set: refused unless an option picks the node", async () => {
  const address = `127.0.0.1:${unusedPort()}`;
  const env = { CDFS_NODE: address, CDFS_CLUSTER: "/nonexistent/cluster.json" };
  const both = await cdfs(["block", "ping"], { env });
  assertOneLineError(
    both,
    EXIT_USAGE,
    /^cdfs: error: CDFS_NODE and CDFS_CLUSTER are both set: pick the node with --node HOST:PORT /,
  );
  // --node HOST:PORT picks the node: the command goes on (to a node that is down here).
  const picked = await cdfs(["block", "ping", "--node", address], { env });
  assertOneLineError(picked, EXIT_FAILURE, new RegExp(`cannot reach node ${address}`));
  // --node INDEX picks the cluster of CDFS_CLUSTER.
  const indexed = await cdfs(["block", "ping", "--node", "0"], { env });
  assertOneLineError(indexed, EXIT_FAILURE, /nonexistent\/cluster\.json does not exist/);
  // --cluster picks a cluster: its node is named by index, CDFS_NODE does not count.
  const cluster = await cdfs(["block", "ping", "--cluster", "/other/cluster.json"], {
    env: { CDFS_NODE: address },
  });
  assertOneLineError(cluster, EXIT_USAGE, /name the node of the cluster: --node INDEX/);
  // Each variable alone works as before.
  const alone = await cdfs(["block", "ping"], { env: { CDFS_NODE: address } });
  assertOneLineError(alone, EXIT_FAILURE, new RegExp(`cannot reach node ${address}`));
});
