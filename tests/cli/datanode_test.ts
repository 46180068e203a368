/**
 * `cdfs datanode serve` as a command: option validation (in process, no server started),
 * `--listen` parsing, and a real process logging to a file with `--log FILE`.
 */
import assert from "node:assert/strict";
import { parseNodeAddress } from "../../src/address.ts";
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
      [["--data", dir, "--bogus"], /Unknown option/],
      [["--data", dir, "extra"], /unexpected argument 'extra'/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCdfs(["datanode", "serve", ...args]);
      assert.equal(run.code, 2, args.join(" "));
      assert.match(run.err, pattern);
      assert.equal(run.out, "");
    }
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
  for (const option of ["--data", "--listen", "--id", "--idle-timeout", "--max-memory", "--log"]) {
    assert.ok(help.includes(option), option);
  }
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
      "PING",
      "shutdown",
      "stopped",
    ]);
    assert.equal(records[1].result, "ok");
    assert.equal(records[1].node, "dn7");
  } finally {
    await Deno.remove(logDir, { recursive: true });
  }
});
