import assert from "node:assert/strict";
import { parseSchemes, rotate, SCHEMES } from "../../../bench/rapidraid/rapidraid.ts";
import { loadCodingModule } from "../../../src/coding/lang/loader.ts";
import { isCdfsError } from "../../../src/core/errors.ts";

Deno.test("parseSchemes keeps the order asked for", () => {
  assert.deepEqual(parseSchemes("rs,pull"), ["rs", "pull"]);
  assert.deepEqual(parseSchemes(" push , rs "), ["push", "rs"]);
});

Deno.test("parseSchemes refuses unknown, repeated and empty lists as usage errors", () => {
  for (
    const [text, pattern] of [["pull,raid6", /unknown scheme 'raid6'/], ["rs,rs", /twice/], [
      ",",
      /at least one/,
    ]] as const
  ) {
    assert.throws(
      () => parseSchemes(text),
      (e) => isCdfsError(e, "USAGE") && pattern.test(e.message),
    );
  }
});

Deno.test("rotate: logical node i of object o is cluster node (i + o) mod n", () => {
  assert.deepEqual(rotate(["a", "b", "c", "d"], 0), ["a", "b", "c", "d"]);
  assert.deepEqual(rotate(["a", "b", "c", "d"], 3), ["d", "a", "b", "c"]);
  assert.deepEqual(rotate(["a", "b", "c", "d"], 5), ["b", "c", "d", "a"]);
});

Deno.test("the schemes' shapes match their coding modules", async () => {
  const rapidraid = await loadCodingModule(SCHEMES.pull.module);
  const rs = await loadCodingModule(SCHEMES.rs.module);
  assert.deepEqual(SCHEMES.pull.shape, { kind: "pipeline", nodes: rapidraid.n });
  assert.equal(SCHEMES.push.module, SCHEMES.pull.module);
  assert.deepEqual(SCHEMES.rs.shape, { kind: "coordinator", k: rs.k, m: rs.n - rs.k });
  // RS's coordinator is node k: the program that reads the parts runs there.
  const encode = Array.isArray(rs.encode) ? rs.encode : [rs.encode];
  assert.equal(rs.programs[encode[0]!]!.node, rs.k);
});
