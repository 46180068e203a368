/**
 * `cdfs datanode serve` as a command: option validation (in process, no server started),
 * `--listen` parsing, and a real process logging to a file with `--log FILE`.
 */
import assert from "node:assert/strict";
import { parseNodeAddress } from "../../src/core/address.ts";
import { runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { pingFresh } from "../datanode/_client.ts";

Deno.test("--listen takes HOST:PORT and [IPV6]:PORT, port 0 included", () => {
  const listen = (text: string) =>
    parseNodeAddress(text, { what: "--listen", allowPortZero: true });
  assert.deepEqual(listen("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(listen("0.0.0.0:13100"), { hostname: "0.0.0.0", port: 13100 });
  assert.deepEqual(listen("[::1]:80"), { hostname: "::1", port: 80 });
  assert.deepEqual(listen("node-7.example:1"), { hostname: "node-7.example", port: 1 });
  for (const bad of ["127.0.0.1", ":80", "host:65536", "::1:80", "host:port", "a b:1", ""]) {
    assert.throws(() => listen(bad), /--listen "/, bad);
  }
  assert.throws(() => parseNodeAddress("h:0"), /outside 1\.\.65535/);
});

Deno.test("datanode serve rejects bad options with a usage error before serving", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string[], RegExp][] = [
      [[], /--data DIR is required/],
      [["--data", dir, "--listen", "nope"], /--listen/],
      [["--data", dir, "--id", "a b"], /--id: node id/],
      [["--data", dir, "--chunk-size", "1000"], /--chunk-size must be 4096/],
      [["--data", dir, "--chunk-size", "32M"], /--chunk-size must be/],
      [["--data", dir, "--max-memory", "512K"], /smaller than one chunk/],
      [["--data", dir, "--idle-timeout", "0"], /--idle-timeout must be a positive/],
      [["--data", dir, "--frame-timeout", "x"], /--frame-timeout/],
      [["--data", dir, "--scrub-pause", "soon"], /--scrub-pause: expected a duration like 10s/],
      [["--data", dir, "--scrub-pause", "1ms"], /--scrub-pause: 1ms is outside 10ms\.\.24h/],
      [["--data", dir, "--bogus"], /datanode serve: unknown option '--bogus'/],
      [["--data", dir, "extra"], /unexpected argument 'extra'/],
      [
        ["--data", dir, "--peers", "dn1.example:13100"],
        /--peers "dn1\.example:13100": a peer is a literal IP:PORT/,
      ],
      [["--data", dir, "--peers", "10.0.0.1"], /--peers "10\.0\.0\.1": no port/],
      [["--data", `${dir}/d`, "--peers-file", `${dir}/missing`], /--peers-file .*missing: /],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCdfs(["datanode", "serve", ...args]);
      assert.equal(run.code, 2, args.join(" "));
      assert.match(run.err, pattern);
      assert.equal(run.out, "");
    }
    // Refused before the data directory was made.
    assert.equal(await Deno.stat(`${dir}/d`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("datanode serve fails clearly when the port is taken", async () => {
  const dir = await Deno.makeTempDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const run = await runCdfs([
      "datanode",
      "serve",
      "--data",
      dir,
      "--listen",
      `127.0.0.1:${taken.addr.port}`,
    ]);
    assert.equal(run.code, 1);
    assert.match(run.err, /cannot listen on 127\.0\.0\.1:\d+: .*\(UNAVAILABLE\)/);
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("datanode serve --help lists its options", async () => {
  const run = await runCdfs(["datanode", "serve", "--help"]);
  assert.equal(run.code, 0);
  const help = run.out;
  for (
    const option of [
      "--data",
      "--listen",
      "--id",
      "--idle-timeout",
      "--max-memory",
      "--log",
      "--peers",
      "--peers-file",
    ]
  ) {
    assert.ok(help.includes(option), option);
  }
  assert.match(help.replace(/\s+/g, " "), /host names are never resolved for a request/);
});

Deno.test("datanode serve --log FILE appends JSON lines to the file", async () => {
  const logDir = await Deno.makeTempDir();
  const logPath = `${logDir}/node.log`;
  try {
    await using node = await DataNodeProcess.start({ args: ["--log", logPath, "--id", "dn7"] });
    assert.equal((await pingFresh(node.port)).node, "dn7");
    assert.equal((await node.stop()).code, 0);
    assert.deepEqual(node.logRecords(), []); // nothing on stderr
    const records = (await Deno.readTextFile(logPath)).trimEnd().split("\n").map((line) =>
      JSON.parse(line)
    );
    assert.deepEqual(records.map((r) => r.event ?? r.op), [
      "listening",
      "gf-backend",
      "PING",
      "shutdown",
      "stopped",
    ]);
    assert.equal(records[2].result, "ok");
    assert.equal(records[2].node, "dn7");
  } finally {
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("datanode serve: an unusable --data or a busy port is one line, and nothing is created", async () => {
  const work = await Deno.makeTempDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = `127.0.0.1:${taken.addr.port}`;
  try {
    const file = `${work}/a-file`;
    await Deno.writeTextFile(file, "not a directory");
    const fresh = `${work}/fresh`;
    const log = `${work}/node.log`;
    const cases: [string, string[], RegExp][] = [
      // Any free port (the default 13100 may be taken on this machine: that is another case).
      [
        "a file as --data",
        ["--data", file, "--listen", "127.0.0.1:0"],
        /^data directory \S+\/a-file: not a directory$/,
      ],
      [
        "a file on the --data path",
        ["--data", `${file}/sub`, "--listen", "127.0.0.1:0"],
        /a-file\/sub: not a directory$/,
      ],
      // /sys takes no new directories, whoever asks (root gets EPERM, others EACCES).
      [
        "no permission",
        ["--data", `/sys/cdfs-test-${crypto.randomUUID()}`, "--listen", "127.0.0.1:0"],
        /^data directory \/sys\/\S+: (operation not permitted|permission denied)$/,
      ],
      ["a busy port", ["--data", fresh, "--listen", busy], /^cannot listen on \S+: address /],
      [
        "a busy --metrics port",
        ["--data", fresh, "--listen", "127.0.0.1:0", "--metrics", busy, "--log", log],
        new RegExp(`^--metrics: cannot listen on ${busy}: address already in use$`),
      ],
    ];
    for (const [what, args, pattern] of cases) {
      const run = await runCdfs(["datanode", "serve", ...args]);
      assert.equal(run.code, 1, `${what}: ${run.err}`);
      const match = /^cdfs: error: ([^\n]+) \(UNAVAILABLE\)\n$/.exec(run.err);
      assert.ok(match, `${what}: one line with its code once: ${JSON.stringify(run.err)}`);
      assert.match(match[1]!, pattern, what);
      assert.equal(run.out, "", `${what}: no 'listening' line`);
    }
    // Nothing was created: no data directory for the busy ports, no log file.
    assert.deepEqual((await Array.fromAsync(Deno.readDir(work))).map((e) => e.name), ["a-file"]);
  } finally {
    taken.close();
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("datanode serve: a busy --metrics port stops a real process before 'listening'", async () => {
  const work = await Deno.makeTempDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const main = new URL("../../main.ts", import.meta.url).pathname;
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        main,
        "datanode",
        "serve",
        "--data",
        `${work}/data`,
        "--listen",
        "127.0.0.1:0",
        "--metrics",
        `127.0.0.1:${taken.addr.port}`,
      ],
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 1);
    assert.equal(new TextDecoder().decode(run.stdout), "");
    assert.equal(
      new TextDecoder().decode(run.stderr),
      `cdfs: error: --metrics: cannot listen on 127.0.0.1:${taken.addr.port}: address already ` +
        "in use (UNAVAILABLE)\n",
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(work)), []);
  } finally {
    taken.close();
    await Deno.remove(work, { recursive: true });
  }
});
