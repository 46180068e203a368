import assert from "node:assert/strict";
import { libc } from "../../src/core/libc.ts";

Deno.test("libc: glibc's functions, opened once", () => {
  if (Deno.build.os !== "linux" || Deno.build.env !== "gnu") {
    assert.throws(() => libc());
    return;
  }
  const first = libc();
  assert.equal(libc(), first);
  // malloc_trim says whether it released memory: 0 or 1.
  assert.ok([0, 1].includes(first.malloc_trim(0n)));
});
