/**
 * Code families by parameter: spec parsing, validation of each built-in family's parameters
 * (one-line errors naming the parameter and its range), canonical names, the listing.
 */
import assert from "node:assert/strict";
import { listCodingModules, loadCodingModule } from "../../../src/coding/lang/loader.ts";
import { parseModuleSpec } from "../../../src/coding/lang/family.ts";
import { isCdfsError } from "../../../src/core/errors.ts";
import { CODING_MODULE_SPEC_PATTERN } from "../../../src/core/names.ts";
import { validateCodeName } from "../../../src/namenode/meta/validate_fields.ts";
import { parseRequest } from "../../../src/protocol/request_validation.ts";

Deno.test("family specs build modules named by the canonical spec", async () => {
  const cases: [string, string, number, number][] = [
    ["rs:k=6,m=3", "rs:k=6,m=3", 9, 6],
    ["rs:m=4,k=10", "rs:k=10,m=4", 14, 10],
    ["lrc:k=12,l=2,r=2", "lrc:k=12,l=2,r=2", 16, 12],
    ["lrc:l=3,r=0,k=5", "lrc:k=5,l=3,r=0", 8, 5],
    ["replication:n=3", "replication:n=3", 3, 1],
    ["rapidraid:k=8,n=12", "rapidraid:n=12,k=8", 12, 8],
  ];
  for (const [spec, name, n, k] of cases) {
    const m = await loadCodingModule(spec);
    assert.deepEqual([m.name, m.n, m.k], [name, n, k], spec);
    assert.ok(CODING_MODULE_SPEC_PATTERN.test(m.name));
    // The name round-trips: loading it gives the same module (cached).
    assert.equal(await loadCodingModule(m.name), m);
  }
  // Plain names are the modules they were.
  assert.deepEqual([(await loadCodingModule("rs")).n, (await loadCodingModule("rs")).k], [16, 11]);
  assert.equal((await loadCodingModule("replication")).n, 3);
});

Deno.test("bad family parameters fail in one line naming the parameter and its range", async () => {
  const cases: [string, RegExp][] = [
    ["rs:k=0,m=3", /parameter k must be in 1\.\.255 \(data blocks\), got 0/],
    ["rs:k=6", /parameter m \(parity blocks, 1\.\.255\) is missing/],
    ["rs:k=200,m=100", /k \+ m must be at most 256/],
    ["rs:k=6,m=3,w=8", /unknown parameter w \(rs takes k, m\)/],
    ["rs:k=6,k=7,m=1", /parameter k is given twice/],
    ["rs:k=6,m", /parameter "m" is not key=value/],
    ["lrc:k=4,l=5,r=1", /l must be in 1\.\.k = 1\.\.4/],
    ["lrc:k=4,l=2,r=255", /parameter r must be in 0\.\.254/],
    ["replication:n=0", /parameter n must be in 1\.\.64 \(copies\), got 0/],
    ["rapidraid16:n=16", /'rapidraid16' .* is a module, not a family/],
  ];
  for (const [spec, pattern] of cases) {
    await assert.rejects(loadCodingModule(spec), (e) => {
      assert.ok(isCdfsError(e, "BAD_REQUEST"), `${spec}: ${e}`);
      assert.match((e as Error).message, pattern);
      assert.doesNotMatch((e as Error).message, /\n/);
      return true;
    });
  }
  await assert.rejects(loadCodingModule("nope:k=1"), (e) => isCdfsError(e, "NOT_FOUND"));
  assert.throws(() => parseModuleSpec("Rs:k=1"), /not a module or family name/);
});

Deno.test("spec names cross the wire: CODING requests and namenode records accept them", () => {
  const request = {
    op: "CODING",
    module: "lrc:k=10,l=2,r=2",
    program: "encode_parity",
    object: "obj",
    run: "0".repeat(32),
    nodes: ["127.0.0.1:1"],
    chunkSize: 65536,
  };
  assert.equal(parseRequest(request).op, "CODING");
  assert.throws(() => parseRequest({ ...request, module: "lrc:k=10,l=2," }), /module/);
  assert.equal(validateCodeName("rs:k=6,m=3"), "rs:k=6,m=3");
  assert.throws(() => validateCodeName("rs:k=6;m=3"), /not a code family spec/);
});

Deno.test("the listing shows the families and their parameters", async () => {
  const listed = await listCodingModules();
  const family = (name: string) => listed.find((m) => m.name === name)?.family;
  assert.equal(family("rs"), "rs:k=1..255,m=1..255");
  assert.equal(family("lrc"), "lrc:k=1..254,l=1..254,r=0..254");
  assert.equal(family("replication"), "replication:n=1..64");
  assert.equal(family("rapidraid"), "rapidraid:n=2..32,k=1..31");
  assert.equal(family("rapidraid16"), undefined);
});
