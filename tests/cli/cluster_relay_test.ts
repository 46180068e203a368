/**
 * `cdfs cluster relay`: the hidden sub-command a compiled cdfs runs as each node's delay relay.
 * A real `deno run -A main.ts cluster relay ...` process forwards a TCP connection and stops
 * when its standard input ends; its options reach the relay whole; `cdfs --help` does not
 * list it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runCdfs } from "../helpers/cli.ts";
import { EXIT_USAGE, formatMainHelp, resolveCommand } from "../../src/cli/app.ts";
import type { Command } from "../../src/cli/command.ts";
import { COMMANDS } from "../../src/cli/commands.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Reads exactly `length` bytes. */
async function readExactly(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await conn.read(buffer.subarray(got));
    if (n === null) throw new Error(`connection ended after ${got} of ${length} bytes`);
    got += n;
  }
  return buffer;
}

Deno.test("cdfs cluster relay (a process) forwards a connection and stops when stdin ends", async () => {
  // The target: echoes what it reads, once.
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echoing = (async () => {
    using conn = await target.accept();
    const bytes = await readExactly(conn, 5);
    await conn.write(bytes);
  })();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "cluster",
      "relay",
      "--listen",
      "127.0.0.1:0",
      "--target",
      `127.0.0.1:${target.addr.port}`,
      "--delay",
      "1ms",
      "--local",
      "127.0.0.2",
      "--local",
      "127.0.0.3",
      "--exit-with-stdin",
    ],
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!/^listening \S+\n/m.test(out)) {
      const next = await lines.read();
      if (next.done) assert.fail(`no listening line; stderr: ${await stderr}`);
      out += next.value;
    }
    const [hostname, port] = /^listening (\S+)\n/m.exec(out)![1]!.split(":");
    {
      using conn = await Deno.connect({ hostname: hostname!, port: Number(port) });
      await conn.write(new TextEncoder().encode("hello"));
      assert.equal(new TextDecoder().decode(await readExactly(conn, 5)), "hello");
    }
    await echoing;
    // Its launcher "dies": standard input ends, and the relay stops and reports.
    await child.stdin.close();
    const status = await child.status;
    for (let next = await lines.read(); !next.done; next = await lines.read()) out += next.value;
    assert.equal(status.code, 0, await stderr);
    const stats = JSON.parse(/^stats (\{.*\})$/m.exec(out)![1]!);
    assert.equal(stats.accepted, 1);
    assert.equal(stats.bytesToTarget, 5);
    assert.equal(stats.bytesToPeer, 5);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited, as it should.
    }
    await child.status;
    await stderr;
    target.close();
  }
});

Deno.test("cdfs cluster relay: every option reaches the relay, repeated ones included", async () => {
  const base = ["cluster", "relay", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:9"];
  // A fault in the second of two --peer options is found: both were passed on.
  const second = await runCdfs([...base, "--peer", "10.0.0.1=1ms", "--peer", "10.0.0.2"]);
  assert.equal(second.code, EXIT_USAGE);
  assert.match(second.err, /--peer "10\.0\.0\.2": expected ADDRESS=D\[:J\]/);
  // --delay and --jitter arrive together (the jitter may not exceed the delay).
  const jitter = await runCdfs([...base, "--delay", "1ms", "--jitter", "2ms"]);
  assert.equal(jitter.code, EXIT_USAGE);
  assert.match(jitter.err, /jitter must not exceed the delay/);
  // Values that look like options survive the round trip.
  const odd = await runCdfs([...base, "--peer-default=-1ms"]);
  assert.equal(odd.code, EXIT_USAGE);
  assert.match(odd.err, /--peer-default/);
  const stray = await runCdfs([...base, "extra"]);
  assert.equal(stray.code, EXIT_USAGE);
  assert.match(stray.err, /unexpected argument 'extra'/);
  const missing = await runCdfs(["cluster", "relay", "--listen", "127.0.0.1:0"]);
  assert.equal(missing.code, EXIT_USAGE);
  assert.match(missing.err, /--listen HOST:PORT and --target HOST:PORT are required/);

  // In this process, standard input that ends at once stops a relay that started fine.
  const ended = await runCdfs([...base, "--exit-with-stdin"], {
    stdin: { read: () => Promise.resolve(null) },
  });
  assert.equal(ended.code, 0, ended.err);
  assert.match(ended.out, /^listening 127\.0\.0\.1:\d+\nstats \{/);
});

Deno.test("cdfs --help does not list cluster relay; it still resolves and has its own help", async () => {
  const help = await runCdfs(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /\n {2}cluster stats +/);
  assert.doesNotMatch(help.out, /cluster relay/);
  const unknown = await runCdfs(["cluster", "nonsense"]);
  assert.match(unknown.err, /'cluster' takes one of: up, down, status, stats,/);
  assert.doesNotMatch(unknown.err, /relay/);
  // The words a compiled binary's relay launcher uses (`defaultRelayLauncher`) find it.
  const found = resolveCommand(COMMANDS, ["cluster", "relay", "--listen", "127.0.0.1:0"]);
  assert.equal(found?.command.name, "cluster relay");
  assert.deepEqual(found?.rest, ["--listen", "127.0.0.1:0"]);
  const own = await runCdfs(["cluster", "relay", "--help"]);
  assert.equal(own.code, 0);
  assert.match(own.out, /^Usage: cdfs cluster relay --listen HOST:PORT --target HOST:PORT/);
});

Deno.test("formatMainHelp leaves out hidden commands only", () => {
  const command = (name: string, hidden?: boolean): Command => ({
    name,
    summary: `does ${name}`,
    usage: `cdfs ${name}`,
    options: {},
    ...(hidden === undefined ? {} : { hidden }),
    run: () => Promise.resolve(0),
  });
  const text = formatMainHelp([command("shown"), command("secret", true), command("also", false)]);
  assert.match(text, /shown +does shown/);
  assert.match(text, /also +does also/);
  assert.doesNotMatch(text, /secret/);
});
