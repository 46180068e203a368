// deno-lint-ignore-file no-console
/**
 * Measures the network emulation for docs/netem.md (needs root): the TCP goodput that `tbf` and
 * `htb` give at 1 Gbit/s, 200 Mbit/s and 100 Mbit/s, and the round trips through the delay
 * relay at several delays, next to the round trip of the same path with no relay.
 *
 * ```sh
 * deno run -A tests/emulation/netem_measure.ts [--quick] [--only=rates|delays|relay-rate]
 * ```
 *
 * Everything runs between namespaces this script creates (cluster `measure<pid>`) and is
 * removed at the end, also when a step fails. Prints a Markdown report on standard output.
 *
 * @module
 */
import { assignLinks, type LinkSettings } from "../../src/emulation/link_spec.ts";
import { EmulatedNetwork } from "../../src/emulation/netns.ts";
import { netnsSupport } from "../../src/emulation/netns_support.ts";
import { NodeRelay } from "../../src/emulation/node_relay.ts";
import type { RelayStats } from "../../src/emulation/relay.ts";
import { Probe } from "./net_probe_process.ts";

const quick = Deno.args.includes("--quick");
const TRANSFER_SECONDS = quick ? 1.5 : 3;
const RUNS = quick ? 1 : 3;
const ROUND_TRIPS = quick ? 100 : 400;
const PORT = 5000;

/** Goodput n0 -> `target` (a sink in n1 at `sinkAt`), Mbit/s, timed by the receiver. */
async function goodput(network: EmulatedNetwork, sinkAt: string, target: string): Promise<number> {
  const sink = new Probe(network.nodes[1]!.namespace, ["sink", sinkAt]);
  try {
    await sink.next();
    const source = new Probe(network.nodes[0]!.namespace, [
      "source",
      target,
      String(TRANSFER_SECONDS),
    ]);
    await source.next();
    await source.stop();
    const result = await sink.next<{ bytes: number; seconds: number }>();
    return result.bytes * 8 / result.seconds / 1e6;
  } finally {
    await sink.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function withNetwork<T>(
  base: LinkSettings,
  shaper: "tbf" | "htb",
  body: (network: EmulatedNetwork) => Promise<T>,
): Promise<T> {
  await using network = await EmulatedNetwork.create({
    cluster: `measure${Deno.pid}`,
    links: assignLinks({ nodes: 2, base }),
    shaper,
  });
  return await body(network);
}

async function rates(): Promise<string[]> {
  const lines = [
    "| shaper | rate | TCP goodput, Mbit/s (runs) | median | share of the rate |",
    "|---|---|---|---|---|",
  ];
  for (const shaper of ["tbf", "htb"] as const) {
    for (const mbit of [1000, 200, 100]) {
      const runs = await withNetwork(
        { rateBitsPerSecond: mbit * 1e6, delayMs: 0, jitterMs: 0 },
        shaper,
        async (network) => {
          const results: number[] = [];
          for (let i = 0; i < RUNS; i++) {
            const at = `${network.nodes[1]!.address}:${PORT}`;
            results.push(await goodput(network, at, at));
          }
          return results;
        },
      );
      const m = median(runs);
      lines.push(
        `| ${shaper} | ${mbit} Mbit/s | ${runs.map((r) => r.toFixed(1)).join(", ")} | ` +
          `${m.toFixed(1)} | ${(m / mbit * 100).toFixed(1)}% |`,
      );
    }
  }
  return lines;
}

/** Round trips of 100-byte messages n0 -> n1 (echo), direct or through n1's relay. */
async function roundTrips(
  delayMs: number,
  jitterMs: number,
  relayed: boolean,
): Promise<{ rtts: number[]; stats: RelayStats | undefined }> {
  return await withNetwork({ delayMs, jitterMs }, "tbf", async (network) => {
    const n0 = network.nodes[0]!;
    const n1 = network.nodes[1]!;
    const echoAt = relayed ? `127.0.0.1:${PORT}` : `${n1.address}:${PORT}`;
    const echo = new Probe(n1.namespace, ["echo", echoAt]);
    await echo.next();
    const relay = relayed ? await NodeRelay.start(network.nodes, 1, { port: PORT }) : undefined;
    try {
      const target = relay?.address ?? `${n1.address}:${PORT}`;
      const rtt = new Probe(n0.namespace, ["rtt", target, String(ROUND_TRIPS), "100"]);
      const result = await rtt.next<{ roundTripsMs: number[] }>();
      await rtt.stop();
      await relay?.stop();
      // The first round trips include ARP and the JIT warming up.
      return { rtts: result.roundTripsMs.slice(10), stats: relay?.stats };
    } finally {
      await relay?.stop();
      await echo.stop();
    }
  });
}

async function delays(): Promise<string[]> {
  const lines = [
    "| path | configured round trip | median | p10 | p90 | max | median - configured | " +
    "relay's release error per hold, mean / max |",
    "|---|---|---|---|---|---|---|---|",
  ];
  const cases: [string, number, number, boolean][] = [
    ["direct, no relay", 0, 0, false],
    ["relay, 0 ms", 0, 0, true],
    ["relay, 1 ms each way", 1, 0, true],
    ["relay, 10 ms each way", 10, 0, true],
    ["relay, 50 ms each way", 50, 0, true],
    ["relay, 10 ± 5 ms each way", 10, 5, true],
  ];
  for (const [label, delayMs, jitterMs, relayed] of cases) {
    const { rtts, stats } = await roundTrips(delayMs, jitterMs, relayed);
    const lateness = stats === undefined || stats.heldChunks === 0
      ? "-"
      : `${(stats.releaseErrorMsTotal / stats.heldChunks).toFixed(3)} / ` +
        stats.releaseLateMsMax.toFixed(2);
    const configured = 2 * delayMs;
    const m = median(rtts);
    lines.push(
      `| ${label} | ${configured} ms | ${m.toFixed(2)} | ${quantile(rtts, 0.1).toFixed(2)} | ` +
        `${quantile(rtts, 0.9).toFixed(2)} | ${Math.max(...rtts).toFixed(2)} | ` +
        `${(m - configured).toFixed(2)} | ${lateness} |`,
    );
  }
  return lines;
}

/** Goodput n0 -> relay -> n1 at a few rates and delays (each way). */
async function relayThroughput(): Promise<string[]> {
  const lines = ["| path | rate | delay each way | goodput, Mbit/s (runs) |", "|---|---|---|---|"];
  const cases: [number, number][] = [[1000, 0], [1000, 1], [1000, 10], [500, 100]];
  for (const [mbit, delayMs] of cases) {
    const runs = await withNetwork(
      { rateBitsPerSecond: mbit * 1e6, delayMs, jitterMs: 0 },
      "tbf",
      async (network) => {
        const relay = await NodeRelay.start(network.nodes, 1, { port: PORT, targetPort: PORT + 1 });
        try {
          const results: number[] = [];
          for (let i = 0; i < RUNS; i++) {
            results.push(await goodput(network, `127.0.0.1:${PORT + 1}`, relay.address));
          }
          return results;
        } finally {
          await relay.stop();
        }
      },
    );
    lines.push(
      `| n0 -> relay -> n1 | ${mbit} Mbit/s | ${delayMs} ms | ` +
        `${runs.map((r) => r.toFixed(1)).join(", ")} |`,
    );
  }
  return lines;
}

const only = Deno.args.find((arg) => arg.startsWith("--only="))?.slice(7);

if (import.meta.main) {
  const support = await netnsSupport();
  if (!support.ok) {
    console.error(`cannot measure: ${support.reason}`);
    Deno.exit(1);
  }
  console.log(`load average before: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`);
  if (only === undefined || only === "rates") console.log((await rates()).join("\n") + "\n");
  if (only === undefined || only === "delays") console.log((await delays()).join("\n") + "\n");
  if (only === undefined || only === "relay-rate") {
    console.log((await relayThroughput()).join("\n") + "\n");
  }
  console.log(`load average after: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}
