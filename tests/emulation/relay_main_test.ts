import assert from "node:assert/strict";
import {
  parseRelayArguments,
  relayArguments,
  type RelayProcessSettings,
  runRelayProcess,
} from "../../src/emulation/relay_main.ts";
import { isCdfsError } from "../../src/core/errors.ts";

Deno.test("relayArguments and parseRelayArguments agree", () => {
  const settings: RelayProcessSettings = {
    relay: {
      listen: { hostname: "10.213.0.10", port: 13100 },
      target: { hostname: "127.0.0.1", port: 13101 },
      toPeer: { delayMs: 1.5, jitterMs: 0.25 },
      toTargetByPeer: new Map([
        ["10.213.0.11", { delayMs: 100, jitterMs: 10 }],
        ["10.213.0.12", { delayMs: 1, jitterMs: 0 }],
      ]),
      toTargetDefault: { delayMs: 2, jitterMs: 1 },
      localAddresses: ["10.213.0.10", "127.0.0.1"],
      maxBufferedBytes: 1 << 20,
    },
    exitWithStdin: true,
  };
  assert.deepEqual(parseRelayArguments(relayArguments(settings)), settings);
  const minimal: RelayProcessSettings = {
    relay: {
      listen: { hostname: "127.0.0.1", port: 0 },
      target: { hostname: "127.0.0.1", port: 1 },
      toPeer: { delayMs: 0, jitterMs: 0 },
    },
    exitWithStdin: false,
  };
  assert.deepEqual(parseRelayArguments(relayArguments(minimal)), minimal);
});

Deno.test("parseRelayArguments names what is wrong", () => {
  const base = ["--listen", "127.0.0.1:0", "--target", "127.0.0.1:1"];
  const cases: [string[], RegExp][] = [
    [["--target", "127.0.0.1:1"], /--listen HOST:PORT and --target HOST:PORT are required/],
    [[...base, "--delay", "10"], /--delay/],
    [[...base, "--delay", "1ms", "--jitter", "2ms"], /jitter must not exceed/],
    [[...base, "--peer", "10.213.0.11"], /expected ADDRESS=D\[:J\]/],
    [[...base, "--peer", "10.213.0.11=1ms:2ms"], /jitter must not exceed/],
    [[...base, "--peer-default", "1ms:0ms:3ms"], /expected DELAY\[:JITTER\]/],
    [[...base, "--max-buffered", "1000"], /--max-buffered/],
    [[...base, "--bogus"], /relay: /],
    [["--listen", "nowhere", "--target", "127.0.0.1:1"], /--listen/],
  ];
  for (const [args, pattern] of cases) {
    assert.throws(
      () => parseRelayArguments(args),
      (e) => isCdfsError(e, "USAGE") && pattern.test(e.message),
      args.join(" "),
    );
  }
});

Deno.test("runRelayProcess prints its address, relays, and prints its counters when stopped", async () => {
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await target.accept();
    const buffer = new Uint8Array(16);
    const n = await conn.read(buffer);
    await conn.write(buffer.subarray(0, n ?? 0));
    conn.close();
  })();
  const lines: string[] = [];
  const controller = new AbortController();
  let listening: (address: string) => void;
  const address = new Promise<string>((resolve) => listening = resolve);
  const running = runRelayProcess(
    ["--listen", "127.0.0.1:0", "--target", `127.0.0.1:${target.addr.port}`, "--delay", "1ms"],
    {
      out(text) {
        lines.push(text);
        const match = /^listening (\S+)\n$/.exec(text);
        if (match !== null) listening(match[1]!);
      },
      signal: controller.signal,
    },
  );
  const [hostname, port] = (await address).split(":");
  const conn = await Deno.connect({ hostname: hostname!, port: Number(port) });
  await conn.write(new Uint8Array([1, 2, 3, 4]));
  const reply = new Uint8Array(4);
  let got = 0;
  while (got < 4) got += (await conn.read(reply.subarray(got))) ?? 4;
  assert.deepEqual([...reply], [1, 2, 3, 4]);
  conn.close();
  await serving;
  target.close();
  controller.abort();
  assert.equal(await running, 0);
  const stats = JSON.parse(lines.at(-1)!.replace(/^stats /, ""));
  assert.equal(stats.accepted, 1);
  assert.equal(stats.bytesToTarget, 4);
  assert.equal(stats.bytesToPeer, 4);
});

Deno.test("runRelayProcess reports an address it cannot listen on as UNAVAILABLE", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await assert.rejects(
      runRelayProcess(
        ["--listen", `127.0.0.1:${busy.addr.port}`, "--target", "127.0.0.1:1"],
        { out: () => {} },
      ),
      (e) => isCdfsError(e, "UNAVAILABLE") && /cannot listen/.test(e.message),
    );
  } finally {
    busy.close();
  }
});

Deno.test("a relay process stopping on the end of its input and on SIGTERM at once still prints its counters", async () => {
  // As a cluster launcher stops it: standard input closed and SIGTERM, whichever comes first.
  for (let round = 0; round < 5; round++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        new URL("../../src/emulation/relay_main.ts", import.meta.url).pathname,
        "--listen",
        "127.0.0.1:0",
        "--target",
        "127.0.0.1:9",
        "--exit-with-stdin",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errors = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const next = await reader.read();
      if (next.done) break;
      text += next.value;
    }
    if (!/^listening 127\.0\.0\.1:\d+\n/.test(text)) {
      assert.fail(`no 'listening' line: ${text}${await errors}`);
    }
    await child.stdin.getWriter().close();
    // SIGTERM again and again while it stops: none may kill it before its counters.
    let exited = false;
    const status = child.status.finally(() => exited = true);
    while (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        break; // exited meanwhile
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += next.value;
    const { code, signal } = await status;
    assert.match(
      text,
      /\nstats \{.*"accepted":0.*\}\n$/,
      `round ${round}: exit ${code}, signal ${signal}: ${await errors}`,
    );
  }
});
