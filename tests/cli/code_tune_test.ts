/**
 * `cdfs code tune`: the printed counts, the module it writes (loaded back, analysed), JSON, and
 * the one-line usage errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXIT_USAGE } from "../../src/cli/app.ts";
import { analyze } from "../../src/coding/analysis/symbolic.ts";
import { loadCodingModule } from "../../src/coding/lang/loader.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";

function assertOneLineError(run: CliRun, pattern: RegExp): void {
  assert.equal(run.code, EXIT_USAGE, `exit code; stderr: ${run.err}`);
  assert.match(run.err, /^cdfs: error: [^\n]+\n$/);
  assert.match(run.err, pattern);
  assert.equal(run.out, "");
}

Deno.test("code tune rapidraid:n=8,k=5 reaches the floor and writes a module that loads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-tune-" });
  try {
    const out = join(dir, "rr85_tuned.ts");
    const run = await runCdfs([
      "code",
      "tune",
      "--field",
      "8",
      "--iterations",
      "100",
      "--seed",
      "5",
      "--out",
      out,
      "rapidraid:n=8,k=5",
    ]);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^structural +0 /m);
    assert.match(run.out, /^before +2 undecodable/m);
    const after = Number(/^after +(\d+) undecodable/m.exec(run.out)![1]);
    assert.equal(after, 0);
    assert.match(run.out, /stopped: reached the structural floor/);
    assert.match(run.err, /^tune: best 0 undecodable/m); // progress on stderr
    const module = await loadCodingModule("rr85_tuned", { codingDirs: [dir] });
    assert.equal(module.name, "rr85_tuned");
    assert.equal(analyze(module).undecodableSubsets.length, after);
    const xis = /^xis +([\d ]+)$/m.exec(run.out)![1]!.split(" ").map(Number);
    const built = await Deno.readTextFile(out);
    assert.ok(built.includes(`xis: "${xis.join(" ")}"`));
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), [
      "rr85_tuned.ts",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("code tune --json: the counts, the structural subsets and the tables", async () => {
  const run = await runCdfs([
    "code",
    "tune",
    "--json",
    "--field",
    "16",
    "--iterations",
    "50",
    "rapidraid:n=8,k=4",
  ]);
  assert.equal(run.code, 0, run.err);
  const shown = JSON.parse(run.out);
  assert.equal(shown.code, "rapidraid:n=8,k=4");
  assert.equal(shown.field, 16);
  assert.equal(shown.subsetCount, 70);
  assert.deepEqual(shown.structuralSubsets, [[0, 1, 4, 5]]);
  assert.equal(shown.after, 1);
  assert.ok(shown.structuralErrorBound < 1e-12);
  assert.equal(shown.tables.xis.length, 8);
});

Deno.test("code tune: bad arguments are one-line usage errors", async () => {
  const tune = (...args: string[]) => runCdfs(["code", "tune", ...args]);
  assertOneLineError(await tune("rapidraid:n=8,k=5"), /--field 8\|16 is required/);
  assertOneLineError(await tune("--field", "9", "rapidraid:n=8,k=5"), /--field must be 8 or 16/);
  assertOneLineError(
    await tune("--field", "8", "--seconds", "0", "rapidraid:n=8,k=5"),
    /--seconds must be an integer in 1\.\.3600, got '0'/,
  );
  assertOneLineError(
    await tune("--field", "8", "--seed", "x", "rapidraid:n=8,k=5"),
    /--seed must be an integer/,
  );
  assertOneLineError(await tune("--field", "8", "rapidraid"), /give a family spec/);
  assertOneLineError(
    await tune("--field", "8", "rs:k=6,m=3"),
    /'rs' has no free coefficients to tune/,
  );
  assertOneLineError(await tune("--field", "8", "nosuch:n=3"), /unknown code family 'nosuch'/);
  assertOneLineError(
    await tune("--field", "8", "rapidraid:n=20,k=5"),
    /parameter n must be in k\+1\.\.2k/,
  );
  assertOneLineError(
    await tune("--field", "8", "--out", "/tmp/Bad Name.ts", "rapidraid:n=8,k=5"),
    /--out \/tmp\/Bad Name\.ts: must be NAME\.ts/,
  );
  assertOneLineError(
    await tune("--field", "8", "rapidraid:n=24,k=12"),
    /exceed the tuning limit/,
  );
  assertOneLineError(await tune("--field", "8"), /missing argument: expected CODE/);
});
