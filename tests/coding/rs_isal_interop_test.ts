/**
 * Interoperability of the `rs` family with Intel ISA-L (Debian's libisal-dev): a small C program
 * (`tests/fixtures/isal_interop.c`), compiled here with gcc against `-lisal`, uses ISA-L's own
 * `gf_gen_cauchy1_matrix`, `ec_encode_data` and `gf_invert_matrix`. For each (k, m):
 * - the generator that symbolic execution reads back from `rs:k=K,m=M`'s programs is ISA-L's
 *   matrix, row for row;
 * - cdfs encodes random parts on the in-process cluster (`runLocal`, this process's default
 *   WebAssembly kernels, not ISA-L) and ISA-L finds the same parity and decodes the parts from
 *   k blocks that include parity;
 * - ISA-L encodes random data and cdfs's derived decode program (on `runLocal`) rebuilds the
 *   parts from k blocks that include parity.
 * Skipped, saying why, where gcc or the ISA-L headers or library are missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { generatorMatrix } from "../../src/coding/analysis/symbolic.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { codingModule as rs } from "../../coding/rs.ts";
import { decodeLocal, encodeLocal, randomBytes, rng } from "./code_harness.ts";

const SOURCE = fromFileUrl(new URL("../fixtures/isal_interop.c", import.meta.url));
const HEADER = "/usr/include/isa-l/erasure_code.h";
/** (k, m) pairs; the last is the plain `rs` module's shape. */
const CODES: readonly (readonly [number, number])[] = [[4, 2], [6, 3], [10, 4], [11, 5]];
/** Not a multiple of ISA-L's 16/32/64-byte vectors, several chunks of CHUNK. */
const LENGTH = 5000 + 13;
const CHUNK = 1024;

async function run(command: string, args: string[]): Promise<Deno.CommandOutput | null> {
  try {
    return await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  } catch {
    return null;
  }
}

/** Why the ISA-L side cannot run here, or undefined when gcc, the headers and libisal are present. */
async function missing(): Promise<string | undefined> {
  const hint = "install them with `apt-get install -y gcc libisal-dev`";
  if (!(await run("gcc", ["--version"]))?.success) return `gcc is missing; ${hint}`;
  try {
    await Deno.stat(HEADER);
  } catch {
    return `the ISA-L headers are missing (${HEADER}); ${hint}`;
  }
  // gcc prints the bare name back when no library directory holds it.
  const lib = await run("gcc", ["-print-file-name=libisal.so"]);
  const path = new TextDecoder().decode(lib?.stdout ?? new Uint8Array()).trim();
  if (!path.startsWith("/")) return `the ISA-L library (libisal.so) is missing; ${hint}`;
  return undefined;
}

const skip = await missing();
function named(name: string): string {
  return skip === undefined ? name : `${name}: skipped: ${skip}`;
}

/** Compiles the C side into `dir`; returns the binary's path. */
async function build(dir: string): Promise<string> {
  const binary = join(dir, "isal_interop");
  const built = await run("gcc", ["-O2", "-Wall", "-o", binary, SOURCE, "-lisal"]);
  assert.ok(built?.success, `gcc could not build ${SOURCE}:\n${decode(built?.stderr)}`);
  return binary;
}

function decode(bytes: Uint8Array | undefined): string {
  return new TextDecoder().decode(bytes ?? new Uint8Array());
}

/** Runs the C side; asserts it succeeded and returns its stdout. */
async function isal(binary: string, args: (string | number)[]): Promise<string> {
  const out = await run(binary, args.map(String));
  assert.ok(out !== null, `could not start ${binary}`);
  assert.equal(out.code, 0, `isal_interop ${args.join(" ")}: ${decode(out.stderr).trim()}`);
  return decode(out.stdout);
}

/** Asserts two lists of blocks are equal, naming the first differing byte (no slow diff). */
function assertSameBlocks(actual: Uint8Array[], expected: Uint8Array[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: block count`);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    assert.equal(a.length, e.length, `${what}: block ${i} length`);
    const at = e.findIndex((byte, x) => a[x] !== byte);
    assert.equal(at, -1, `${what}: block ${i} differs at byte ${at}: ${a[at]} != ${e[at]}`);
  });
}

/** k surviving blocks with every parity (listed first): the data blocks outside from..from+m-1. */
function survivorsWithParity(k: number, m: number, from: number): number[] {
  const data = Array.from({ length: k }, (_, j) => j).filter((j) => j < from || j >= from + m);
  return [...Array.from({ length: Math.min(m, k) }, (_, p) => k + p), ...data].slice(0, k);
}

Deno.test("rs: rs:k=11,m=5 is the plain rs module (same programs, same bytes)", async () => {
  const member = await loadCodingModule("rs:k=11,m=5");
  const { name: _a, description: _b, ...mine } = member;
  const { name: _c, description: _d, ...plain } = rs;
  assert.deepEqual(mine, plain);
});

Deno.test({
  name: named("rs family ⇄ ISA-L gf_gen_cauchy1_matrix: same generator, both directions"),
  ignore: skip !== undefined,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "cdfs_isal_interop_" });
    try {
      const binary = await build(dir);
      await t.step("the generator of every member is ISA-L's matrix", async () => {
        for (const [k, m] of [...CODES, [1, 1], [3, 13], [32, 8], [200, 56]] as const) {
          const module = await loadCodingModule(`rs:k=${k},m=${m}`);
          const mine = generatorMatrix(module).map((row) => Array.from(row).join(" "));
          const theirs = (await isal(binary, ["matrix", k, m])).trimEnd().split("\n");
          assert.deepEqual(mine, theirs, `rs:k=${k},m=${m}`);
        }
      });
      for (const [index, [k, m]] of CODES.entries()) {
        const code = `rs:k=${k},m=${m}`;
        const module = await loadCodingModule(code);
        await t.step(`${code}: cdfs encodes, ISA-L finds the same parity and decodes`, async () => {
          const work = await Deno.makeTempDir({ dir, prefix: `cdfs_${k}_${m}_` });
          const next = rng(100 + index);
          const parts = Array.from({ length: k }, () => randomBytes(next, LENGTH));
          const coded = await encodeLocal(module, "obj", parts, CHUNK);
          assert.equal(coded.length, k + m);
          for (const [j, p] of parts.entries()) await Deno.writeFile(join(work, `part${j}`), p);
          for (const [i, c] of coded.entries()) await Deno.writeFile(join(work, `coded${i}`), c);
          const survivors = survivorsWithParity(k, m, 0);
          assert.ok(survivors.some((i) => i >= k));
          const out = await isal(binary, ["check", k, m, LENGTH, work, survivors.join(",")]);
          assert.equal(out.trim(), "ok");
        });
        await t.step(`${code}: ISA-L encodes, cdfs decodes from blocks with parity`, async () => {
          const work = await Deno.makeTempDir({ dir, prefix: `isal_${k}_${m}_` });
          assert.equal(
            (await isal(binary, ["encode", k, m, LENGTH, work, 7 + index])).trim(),
            "ok",
          );
          const read = (name: string) => Deno.readFile(join(work, name));
          const parts = await Promise.all(Array.from({ length: k }, (_, j) => read(`part${j}`)));
          const coded = await Promise.all(
            Array.from({ length: k + m }, (_, i) => read(`coded${i}`)),
          );
          // A middle run of data blocks lost; the parities in their place, listed first.
          const survivors = survivorsWithParity(k, m, Math.max(0, Math.floor((k - m) / 2)));
          assert.ok(survivors.some((i) => i >= k));
          for (const output of ["parts", "stream"] as const) {
            const decoded = await decodeLocal(module, "obj", coded, survivors, output, CHUNK);
            assertSameBlocks(decoded, parts, `${output} from ${survivors.join(",")}`);
          }
          // And cdfs's own encode of ISA-L's data is ISA-L's coded blocks.
          assertSameBlocks(await encodeLocal(module, "obj", parts, CHUNK), coded, "cdfs encode");
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
