/**
 * Test helper: small TCP tools that the network emulation tests (and the measurements of
 * docs/netem.md) run inside network namespaces, `ip netns exec NS deno run --allow-net
 * tests/emulation/net_probe.ts MODE ...`. Each prints one line of JSON on standard output:
 *
 * - `echo HOST:PORT`: echoes every connection back; prints `{"listening":"HOST:PORT"}` once
 *   it listens, then runs until killed.
 * - `sink HOST:PORT`: prints `{"listening":...}`, takes one connection, counts its bytes until
 *   the end and prints `{"bytes":N,"seconds":S}`, S from the first byte to the end, so the
 *   connection set-up is not counted.
 * - `source HOST:PORT SECONDS`: sends zeros for SECONDS, closes, prints `{"bytes":N}`.
 * - `rtt HOST:PORT COUNT SIZE`: one connection; COUNT times sends SIZE bytes and waits for
 *   them to come back; prints `{"roundTripsMs":[...]}`.
 * - `connect HOST:PORT TIMEOUT_MS`: tries to connect; prints `{"connected":true}` or
 *   `{"connected":false,"error":"..."}`.
 *
 * @module
 */

function print(value: unknown): void {
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(value) + "\n"));
}

function address(text: string): { hostname: string; port: number } {
  const colon = text.lastIndexOf(":");
  return { hostname: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

async function echo(listenOn: string): Promise<void> {
  const listener = Deno.listen(address(listenOn));
  print({ listening: `${listener.addr.hostname}:${listener.addr.port}` });
  for await (const conn of listener) {
    conn.setNoDelay(true);
    (async () => {
      const buffer = new Uint8Array(65536);
      try {
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) break;
          let written = 0;
          while (written < n) written += await conn.write(buffer.subarray(written, n));
        }
      } catch {
        // The peer went away.
      } finally {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
    })();
  }
}

async function sink(listenOn: string): Promise<void> {
  const listener = Deno.listen(address(listenOn));
  print({ listening: `${listener.addr.hostname}:${listener.addr.port}` });
  const conn = await listener.accept();
  listener.close();
  const buffer = new Uint8Array(256 * 1024);
  let bytes = 0;
  let first = 0;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    if (bytes === 0) first = performance.now();
    bytes += n;
  }
  const seconds = (performance.now() - first) / 1000;
  conn.close();
  print({ bytes, seconds });
}

async function source(target: string, seconds: number): Promise<void> {
  const conn = await Deno.connect(address(target));
  const buffer = new Uint8Array(256 * 1024);
  const end = performance.now() + seconds * 1000;
  let bytes = 0;
  while (performance.now() < end) bytes += await conn.write(buffer);
  conn.close();
  print({ bytes });
}

async function rtt(target: string, count: number, size: number): Promise<void> {
  const conn = await Deno.connect(address(target));
  conn.setNoDelay(true);
  const message = new Uint8Array(size).fill(7);
  const reply = new Uint8Array(size);
  const roundTripsMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    let written = 0;
    while (written < size) written += await conn.write(message.subarray(written));
    let got = 0;
    while (got < size) {
      const n = await conn.read(reply.subarray(got));
      if (n === null) throw new Error("the echo closed early");
      got += n;
    }
    roundTripsMs.push(performance.now() - start);
  }
  conn.close();
  print({ roundTripsMs });
}

async function connect(target: string, timeoutMs: number): Promise<void> {
  try {
    const conn = await Deno.connect({ ...address(target), signal: AbortSignal.timeout(timeoutMs) });
    conn.close();
    print({ connected: true });
  } catch (e) {
    print({ connected: false, error: `${(e as Error).name}: ${(e as Error).message}` });
  }
}

if (import.meta.main) {
  const [mode, target, a, b] = Deno.args;
  switch (mode) {
    case "echo":
      await echo(target!);
      break;
    case "sink":
      await sink(target!);
      break;
    case "source":
      await source(target!, Number(a));
      break;
    case "rtt":
      await rtt(target!, Number(a), Number(b));
      break;
    case "connect":
      await connect(target!, Number(a));
      break;
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}
