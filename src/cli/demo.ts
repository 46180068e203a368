/**
 * `cdfs demo`: the main job on an embedded default. Until the DataNode and the coding
 * pipeline exist, it shows the field layer end to end: a systematic Reed-Solomon (k+m) encode
 * of random data in WebAssembly memory, the loss of m blocks, a decode by matrix inversion,
 * and a byte-for-byte check.
 *
 * @module
 */
import { defaultArena } from "../buffer/arena.ts";
import { invert, subMatrix, systematicCauchyGenerator } from "../gf/matrix.ts";
import { CdfsError } from "../errors.ts";
import { type CliContext, type Command, integerOption, type ParsedArgs } from "./command.ts";

/**
 * The `demo` command.
 *
 * @example
 * ```ts
 * import { demoCommand } from "./demo.ts";
 * console.log(demoCommand.name); // "demo"
 * ```
 */
export const demoCommand: Command = {
  name: "demo",
  summary: "Encode random data with RS(k+m), lose m blocks, decode and verify",
  usage: "cdfs demo [--k 11] [--m 5] [--size 4M] [--json]",
  description: [
    "Options:",
    "  --k N       data blocks (default 11)",
    "  --m N       parity blocks, all of which are lost and rebuilt (default 5)",
    "  --size N    bytes per block, e.g. 4M (default 4M)",
    "  --json      print the report as JSON",
  ].join("\n"),
  options: {
    k: { type: "string" },
    m: { type: "string" },
    size: { type: "string" },
    json: { type: "boolean" },
  },
  run: runDemo,
};

function runDemo(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const k = integerOption(args, "k", 11);
  const m = integerOption(args, "m", 5);
  const size = integerOption(args, "size", 4 * 1024 * 1024);
  if (k < 1 || m < 1 || k + m > 256) {
    throw new CdfsError("USAGE", `--k and --m must be >= 1 with k + m <= 256, got k=${k} m=${m}`);
  }
  const arena = defaultArena();
  const kernels = arena.kernels;
  const blocks = Array.from({ length: k + m }, () => arena.alloc(size));
  for (const block of blocks.slice(0, k)) fillRandom(block);

  // Encode: parity rows of the systematic generator times the data blocks.
  const generator = systematicCauchyGenerator(k, m);
  const started = performance.now();
  kernels.dotProduct(blocks.slice(k), generator.slice(k), blocks.slice(0, k));
  const encodeMs = performance.now() - started;

  // Lose m blocks (the first m data blocks: the hardest case), keep the first k survivors.
  const lost = Array.from({ length: m }, (_, i) => i).filter((i) => i < k);
  const survivors = [...Array(k + m).keys()].filter((i) => !lost.includes(i)).slice(0, k);
  const originals = lost.map((i) => blocks[i]!.slice());
  const rebuilt = lost.map(() => arena.alloc(size));
  const decodeStarted = performance.now();
  // Row i of the inverse of the survivors' generator rows rebuilds data block i.
  const decodeMatrix = subMatrix(invert(subMatrix(generator, survivors)), lost);
  kernels.dotProduct(rebuilt, decodeMatrix, survivors.map((i) => blocks[i]!));
  const decodeMs = performance.now() - decodeStarted;
  const identical = rebuilt.every((r, i) => equalBytes(r, originals[i]!));

  const report = {
    code: `RS(${k}+${m})`,
    kernel: kernels.name,
    blockBytes: size,
    lostBlocks: lost,
    encodeMs: round(encodeMs),
    encodeGBps: round((k * size) / encodeMs / 1e6),
    decodeMs: round(decodeMs),
    identical,
  };
  if (args.values.json === true) {
    ctx.out(JSON.stringify(report, null, 2) + "\n");
  } else {
    ctx.out(
      [
        `${report.code} with the ${report.kernel} kernel, ${size} bytes per block`,
        `encode: ${report.encodeMs} ms (${report.encodeGBps} GB/s of data)`,
        `lost blocks ${lost.join(", ")}; decode: ${report.decodeMs} ms`,
        identical ? "verified: every rebuilt block is byte-identical" : "MISMATCH: decode failed",
        "",
      ].join("\n"),
    );
  }
  return Promise.resolve(identical ? 0 : 1);
}

function fillRandom(bytes: Uint8Array): void {
  // getRandomValues fills at most 64 KiB per call and rejects shared memory: fill a plain
  // scratch buffer and copy it in.
  const scratch = new Uint8Array(65536);
  for (let offset = 0; offset < bytes.length; offset += scratch.length) {
    const n = Math.min(scratch.length, bytes.length - offset);
    crypto.getRandomValues(scratch.subarray(0, n));
    bytes.set(scratch.subarray(0, n), offset);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
