// deno-lint-ignore-file no-console
/**
 * What TLS costs: the same work over plain TCP and over TLS, measured in the same run, as
 * ratios TLS / plain. (1) STORE and RETRIEVE of one block between `DataNodeClient` and a
 * `cdfs datanode serve` child process, one plain node and one TLS node, alternating run by run.
 * (2) The 16-node RapidRAID pipelined encode on loopback (`encodeObject`, as
 * `bench/coding/coding_loopback.ts` times it): 16 plain nodes and 16 TLS nodes, encodes
 * alternating between the two clusters. The certificates are `cdfs cert dev`'s (ECDSA P-256).
 * Prints a Markdown table and writes `bench/out/datanode_tls.json`.
 *
 * Run with `deno run -A bench/run.ts datanode-tls [--size 256M] [--runs 3] [--encode-size 32M]
 * [--encode-runs 3] [--no-encode]`.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { codingModule as rapidraid } from "../../coding/rapidraid.ts";
import { DataNodeClient } from "../../src/client/datanode_client.ts";
import { encodeObject } from "../../src/client/objects/encode.ts";
import { putParts } from "../../src/client/objects/put_parts.ts";
import { parseSize } from "../../src/cli/command.ts";
import { writeDevCerts } from "../../src/cluster/dev_certs.ts";
import { setDefaultTls, type TlsClientConfig } from "../../src/protocol/tls.ts";
import { DataNodeProcess } from "../../tests/helpers/datanode_process.ts";
import { repoPath } from "../common/paths.ts";
import { median } from "../common/stats.ts";

const MIB = 1 << 20;
const CHUNK = MIB;

interface Options {
  size: number;
  runs: number;
  encodeSize: number;
  encodeRuns: number;
  encode: boolean;
}

function parseOptions(args: string[]): Options | null {
  const { values } = parseArgs({
    args,
    options: {
      size: { type: "string", default: "256M" },
      runs: { type: "string", default: "3" },
      "encode-size": { type: "string", default: "32M" },
      "encode-runs": { type: "string", default: "3" },
      "no-encode": { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return null;
  return {
    size: parseSize(values.size, "--size"),
    runs: parseSize(values.runs, "--runs"),
    encodeSize: parseSize(values["encode-size"], "--encode-size"),
    encodeRuns: parseSize(values["encode-runs"], "--encode-runs"),
    encode: values["no-encode"] !== true,
  };
}

/** `length` bytes of a repeated random MiB, produced as `store` asks for them. */
function* pattern(length: number): Generator<Uint8Array> {
  const mib = new Uint8Array(MIB);
  for (let i = 0; i < MIB; i += 65536) crypto.getRandomValues(mib.subarray(i, i + 65536));
  for (let sent = 0; sent < length; sent += MIB) {
    yield mib.subarray(0, Math.min(MIB, length - sent));
  }
}

/** The wall time of `run`, seconds. */
async function seconds(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/** Median of TLS / plain throughput ratios of alternating runs. */
interface Ratios {
  plain: number[];
  tls: number[];
  ratios: number[];
}

function row(what: string, r: Ratios, unit: string, toRate: (s: number) => number): string {
  const fmt = (values: number[]) => median(values.map(toRate)).toFixed(2);
  return `| ${what} | ${fmt(r.plain)} ${unit} | ${fmt(r.tls)} ${unit} | ` +
    `${median(r.ratios).toFixed(2)} | ${r.ratios.map((v) => v.toFixed(2)).join(", ")} |`;
}

/**
 * Runs the TLS cost benchmark.
 *
 * @param args The command-line options.
 */
export async function runDatanodeTlsBench(args: string[]): Promise<void> {
  const options = parseOptions(args);
  if (options === null) {
    console.log(
      "usage: deno run -A bench/run.ts datanode-tls [--size 256M] [--runs 3] " +
        "[--encode-size 32M] [--encode-runs 3] [--no-encode]",
    );
    return;
  }
  const work = await Deno.makeTempDir({ prefix: "cdfs-bench-tls-" });
  const processes: DataNodeProcess[] = [];
  try {
    const files = await writeDevCerts(join(work, "tls"), ["127.0.0.1"]);
    const tls: TlsClientConfig = { caCerts: [await Deno.readTextFile(files.ca)] };
    const tlsArgs = ["--tls-cert", files.cert, "--tls-key", files.key, "--tls-ca", files.ca];
    const start = (name: string, secure: boolean) =>
      DataNodeProcess.start({
        dataDir: join(work, name),
        args: ["--id", name, ...(secure ? tlsArgs : [])],
      }).then((p) => (processes.push(p), p));
    const [plainNode, tlsNode] = await Promise.all([start("plain", false), start("tls", true)]);
    const address = (p: DataNodeProcess) => `${p.hostname}:${p.port}`;
    const store: Ratios = { plain: [], tls: [], ratios: [] };
    const retrieve: Ratios = { plain: [], tls: [], ratios: [] };
    console.log(`STORE/RETRIEVE of ${options.size / MIB} MiB, ${options.runs} runs each`);
    for (let run = 0; run < options.runs; run++) {
      const times: Record<string, { store: number; retrieve: number }> = {};
      for (const mode of run % 2 === 0 ? ["plain", "tls"] : ["tls", "plain"]) {
        const node = mode === "tls" ? tlsNode : plainNode;
        using client = await DataNodeClient.connect(address(node), {
          tls: mode === "tls" ? tls : null,
        });
        const block = `b${run}`;
        const stored = await seconds(() =>
          client.store(block, pattern(options.size), { chunkSize: CHUNK })
        );
        let received = 0;
        const read = await seconds(() =>
          client.retrieve(block, (c) => void (received += c.length))
        );
        if (received !== options.size) throw new Error(`retrieved ${received} bytes`);
        await client.delete(block);
        times[mode] = { store: stored, retrieve: read };
      }
      for (const [what, r] of [["store", store], ["retrieve", retrieve]] as const) {
        r.plain.push(times.plain![what]);
        r.tls.push(times.tls![what]);
        r.ratios.push(times.plain![what] / times.tls![what]);
      }
      console.log(
        `  run ${run + 1}: STORE tls/plain ${store.ratios.at(-1)!.toFixed(2)}, ` +
          `RETRIEVE tls/plain ${retrieve.ratios.at(-1)!.toFixed(2)}`,
      );
    }
    const encode: Ratios = { plain: [], tls: [], ratios: [] };
    if (options.encode) {
      console.log(
        `16-node RapidRAID encode of ${options.encodeSize / MIB} MiB, ` +
          `${options.encodeRuns} runs each`,
      );
      const clusters: Record<string, string[]> = {};
      for (const mode of ["plain", "tls"]) {
        const nodes = await Promise.all(
          Array.from({ length: 16 }, (_, i) => start(`${mode}${i}`, mode === "tls")),
        );
        clusters[mode] = nodes.map(address);
      }
      const file = join(work, "object");
      using out = await Deno.open(file, { write: true, create: true });
      for (const chunk of pattern(options.encodeSize)) await out.write(chunk);
      const target = (mode: string) => ({
        module: rapidraid,
        nodes: clusters[mode]!,
        objectId: `obj-${mode}`,
        chunkSize: CHUNK,
      });
      const encodeOnce = async (mode: string) => {
        const before = setDefaultTls(mode === "tls" ? tls : null);
        try {
          return await seconds(() => encodeObject({ ...target(mode), overwrite: true }));
        } finally {
          setDefaultTls(before);
        }
      };
      for (const mode of ["plain", "tls"]) {
        const before = setDefaultTls(mode === "tls" ? tls : null);
        try {
          await putParts({ ...target(mode), file });
        } finally {
          setDefaultTls(before);
        }
        await encodeOnce(mode); // untimed
      }
      for (let run = 0; run < options.encodeRuns; run++) {
        const times: Record<string, number> = {};
        for (const mode of run % 2 === 0 ? ["plain", "tls"] : ["tls", "plain"]) {
          times[mode] = await encodeOnce(mode);
        }
        encode.plain.push(times.plain!);
        encode.tls.push(times.tls!);
        encode.ratios.push(times.plain! / times.tls!);
        console.log(`  run ${run + 1}: encode tls/plain ${encode.ratios.at(-1)!.toFixed(2)}`);
      }
    }
    const gbps = (size: number) => (s: number) => size / s / 1e9;
    const table = [
      "| measurement | plain TCP | TLS | TLS / plain (median) | per run |",
      "| --- | --- | --- | --- | --- |",
      row(`STORE ${options.size / MIB} MiB`, store, "GB/s", gbps(options.size)),
      row(`RETRIEVE ${options.size / MIB} MiB`, retrieve, "GB/s", gbps(options.size)),
      ...(options.encode
        ? [row(
          `RapidRAID encode, 16 nodes, ${options.encodeSize / MIB} MiB`,
          encode,
          "GB/s",
          gbps(options.encodeSize),
        )]
        : []),
    ].join("\n");
    console.log(`\n${table}\n`);
    await Deno.mkdir(repoPath("bench/out"), { recursive: true });
    await Deno.writeTextFile(
      repoPath("bench/out/datanode_tls.json"),
      JSON.stringify({ options, store, retrieve, encode }, null, 2) + "\n",
    );
  } finally {
    await Promise.all(processes.map((p) => p[Symbol.asyncDispose]()));
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}
