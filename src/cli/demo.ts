/**
 * `cdfs demo`: the main job on an embedded default, told by file name. It starts a local
 * cluster of as many datanodes as the code needs (16 for RapidRAID) on loopback with its
 * namenode, then `put`s a generated sample file, `archive`s it (the pipelined encode, then the
 * replicas go), stops 5 datanodes whose loss is decodable, shows `fsck` degraded, `get`s the
 * file decoded from the survivors (SHA-256 checked), `repair`s it, shows `fsck` healthy and
 * `get`s it again with the datanodes still down; it reports times and bytes moved per
 * datanode (`src/cluster/demo.ts`). The cluster, its metadata and its data are removed at the
 * end, also on failure.
 *
 * @module
 */
import { join } from "node:path";
import { defaultStateRoot } from "../cluster/state_root.ts";
import { formatClusterDemoReport, runClusterDemo } from "../cluster/demo.ts";
import { LocalCluster } from "../cluster/local.ts";
import { selfLauncher } from "../cluster/node_process.ts";
import { moduleNodeCount } from "../client/objects/target.ts";
import { loadCodingModule } from "../coding/lang/loader.ts";
import { CdfsError } from "../core/errors.ts";
import {
  type CliContext,
  type Command,
  integerOption,
  type ParsedArgs,
  stringOption,
} from "./command.ts";
import { jsonOption } from "./options.ts";
import { createProgress } from "./progress.ts";

/**
 * The `demo` command.
 */
export const demoCommand: Command = {
  name: "demo",
  summary: "Start a local cluster and namenode; put, archive, lose 5 datanodes, get, repair",
  usage: "cdfs demo [--code rapidraid] [--size 64M] [--seed N] [--json]",
  description: [
    "Starts a namenode and one datanode per node of the code on 127.0.0.1 (16 for",
    "rapidraid), then does what these commands do: 'cdfs put' a generated sample file as",
    "sample.bin, 'cdfs archive' it, 'cdfs cluster stop-node' the 5 datanodes of a loss that",
    "can be decoded, 'cdfs fsck' (degraded), 'cdfs get' (decoded from the survivors, SHA-256",
    "compared with the sample's), 'cdfs repair', 'cdfs fsck' (healthy) and 'cdfs get' again",
    "with the datanodes still down. Prints each step's time and the bytes each datanode",
    "moved. Everything it started or wrote is removed at the end.",
  ].join("\n"),
  options: {
    code: {
      type: "string",
      value: "NAME",
      description: "the coding module",
      default: "rapidraid",
    },
    size: {
      type: "string",
      value: "N",
      description: "bytes of the sample file, e.g. 64M",
      default: "64M",
    },
    seed: {
      type: "string",
      value: "N",
      description: "chooses which decodable set of datanodes is stopped",
      default: 1,
    },
    ...jsonOption("print the report as JSON"),
  },
  arguments: [],
  examples: ["cdfs demo", "cdfs demo --code rs --size 16M --json"],
  run: runDemo,
};

async function runDemo(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) {
    throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
  }
  const module = await loadCodingModule(stringOption(args, "code") ?? "rapidraid");
  const size = integerOption(args, "size", 64 * 1024 * 1024);
  const seed = integerOption(args, "seed", 1);
  const dir = await Deno.makeTempDir({ prefix: "cdfs-demo-" });
  try {
    const sampleFile = join(dir, "sample.bin");
    await writeSample(sampleFile, size);
    ctx.err(`starting a namenode and ${moduleNodeCount(module)} datanodes on 127.0.0.1 ...\n`);
    await using cluster = await LocalCluster.start({
      nodes: moduleNodeCount(module),
      name: `demo-${Deno.pid}`,
      stateRoot: defaultStateRoot(ctx.env),
      launcher: selfLauncher(ctx.env),
      tempDir: dir,
      // Its metadata in SQLite under the cluster's state directory, removed with it.
      namenode: {},
    });
    let progress: ReturnType<typeof createProgress> | undefined;
    const report = await runClusterDemo({
      clusterFile: cluster.path,
      sampleFile,
      module,
      name: "sample.bin",
      seed,
      onStep: (step, done) => {
        if (done === undefined) {
          progress?.finish();
          progress = createProgress(ctx, { label: step });
          ctx.err(ctx.isTerminal ? "" : `${step} ...\n`);
        } else {
          progress?.setTotal(done.total);
          progress?.update(done.done);
        }
      },
    });
    progress?.finish();
    ctx.out(
      args.values.json === true
        ? JSON.stringify(report, null, 2) + "\n"
        : formatClusterDemoReport(report),
    );
    return report.verified ? 0 : 1;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A sample of `size` pseudo-random bytes (random 1 MiB blocks, so nothing compresses). */
async function writeSample(path: string, size: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const block = new Uint8Array(1 << 20);
  for (let written = 0; written < size;) {
    const n = Math.min(block.length, size - written);
    for (let o = 0; o < n; o += 65536) {
      crypto.getRandomValues(block.subarray(o, Math.min(n, o + 65536)));
    }
    let sent = 0;
    while (sent < n) sent += await file.write(block.subarray(sent, n));
    written += n;
  }
}
