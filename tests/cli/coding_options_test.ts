/**
 * The options the coding commands pass to the object operations: `--timeout` (the stall
 * timeout of the coding runs) and `encode --drop-replicas`, checked on real datanodes that
 * their values reach the library, and `parseTimeout`'s forms and range.
 *
 * @module
 */
import assert from "node:assert/strict";
import { EXIT_FAILURE, EXIT_USAGE } from "../../src/cli/app.ts";
import { parseTimeout } from "../../src/cli/command.ts";
import { DelayRelay } from "../../src/emulation/relay.ts";
import { parseNodeAddress } from "../../src/core/address.ts";
import { CdfsError } from "../../src/core/errors.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";

function assertOneLineError(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.err}`);
  assert.match(run.err, /^cdfs: error: [^\n]+\n$/);
  assert.match(run.err, pattern);
}

Deno.test("parseTimeout: 10s, 500ms, 2m, plain milliseconds; the range is checked", () => {
  assert.equal(parseTimeout("10s", "--timeout"), 10_000);
  assert.equal(parseTimeout("500ms", "--timeout"), 500);
  assert.equal(parseTimeout("2m", "--timeout"), 120_000);
  assert.equal(parseTimeout("1500", "--timeout"), 1500);
  assert.equal(parseTimeout("1.5S", "--timeout"), 1500);
  assert.equal(parseTimeout("24h", "--timeout"), 86_400_000);
  const range = { min: 100, max: 86_400_000 };
  for (
    const [text, message] of [
      ["", "--timeout: expected a duration like 10s, 500ms, 2m or plain milliseconds, got ''"],
      [
        "10x",
        "--timeout: expected a duration like 10s, 500ms, 2m or plain milliseconds, got '10x'",
      ],
      [
        "-1s",
        "--timeout: expected a duration like 10s, 500ms, 2m or plain milliseconds, got '-1s'",
      ],
      ["50ms", "--timeout: 50ms is outside 100ms..24h"],
      ["25h", "--timeout: 25h is outside 100ms..24h"],
    ] as const
  ) {
    assert.throws(
      () => parseTimeout(text, "--timeout", range),
      (e) => e instanceof CdfsError && e.code === "USAGE" && e.message === message,
      text,
    );
  }
});

Deno.test("--timeout of the coding commands: a usage error before anything is sent", async () => {
  const nodes = "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3";
  for (
    const command of [["object", "encode"], ["object", "decode"], [
      "object",
      "repair",
      "--block",
      "0",
    ]]
  ) {
    const run = await runCdfs([
      ...command,
      "--code",
      "replication",
      "--nodes",
      nodes,
      "--timeout",
      "5x",
      "obj",
    ]);
    assertOneLineError(run, EXIT_USAGE, /--timeout: expected a duration like 10s/);
  }
  const put = await runCdfs([
    "object",
    "put-parts",
    "--code",
    "replication",
    "--nodes",
    nodes,
    "--timeout",
    "50ms",
    "no-such-file",
    "obj",
  ]);
  assertOneLineError(put, EXIT_USAGE, /--timeout: 50ms is outside 100ms\.\.24h/);
});

Deno.test("--timeout reaches the run; --drop-replicas drops the parts once encoded", async () => {
  await using n0 = await DataNodeProcess.start();
  await using n1 = await DataNodeProcess.start();
  await using n2 = await DataNodeProcess.start();
  const dir = await Deno.makeTempDir();
  // Node 0 behind a relay that holds its answers for a second: slower than the timeout.
  const relay = DelayRelay.listen({
    listen: { hostname: "127.0.0.1", port: 0 },
    target: parseNodeAddress(n0.address),
    toPeer: { delayMs: 1000, jitterMs: 0 },
  });
  try {
    const file = `${dir}/object`;
    await Deno.writeFile(file, crypto.getRandomValues(new Uint8Array(50_000)));
    const nodes = `${n0.address},${n1.address},${n2.address}`;
    const put = await runCdfs([
      "object",
      "put-parts",
      "--code",
      "replication",
      "--nodes",
      nodes,
      file,
      "obj",
    ]);
    assert.equal(put.code, 0, put.err);

    const slowNode = `127.0.0.1:${relay.addr.port}`;
    const slow = await runCdfs([
      "object",
      "encode",
      "--nodes",
      `${slowNode},${n1.address},${n2.address}`,
      "--timeout",
      "300ms",
      "obj",
    ]);
    assertOneLineError(
      slow,
      EXIT_FAILURE,
      new RegExp(`node ${slowNode.replaceAll(".", "\\.")}: .*within 300 ms \\(TIMEOUT\\)`),
    );

    // Without a manifest there is nothing to record the archive in: refused, so the option
    // reached the encode.
    const bare = await runCdfs([
      "object",
      "encode",
      "--code",
      "replication",
      "--nodes",
      nodes,
      "--drop-replicas",
      "other",
    ]);
    assertOneLineError(bare, EXIT_FAILURE, /has no manifest: its part replicas cannot be dropped/);

    const encoded = await runCdfs([
      "object",
      "encode",
      "--nodes",
      nodes,
      "--drop-replicas",
      "--timeout",
      "30s",
      "--json",
      "obj",
    ]);
    assert.equal(encoded.code, 0, encoded.err);
    const result = JSON.parse(encoded.out);
    assert.ok(result.archive.dropped.length > 0, encoded.out);
    assert.deepEqual(result.archive.kept, []);
    // The encode is recorded and the object still decodes, from the coded blocks alone.
    const decoded = await runCdfs([
      "object",
      "decode",
      "--nodes",
      nodes,
      "--timeout",
      "30s",
      "-o",
      `${dir}/copy`,
      "obj",
    ]);
    assert.equal(decoded.code, 0, decoded.err);
    assert.deepEqual(await Deno.readFile(`${dir}/copy`), await Deno.readFile(file));
  } finally {
    await relay.close();
    await Deno.remove(dir, { recursive: true });
  }
});
