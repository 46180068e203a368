import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultOutDir } from "../../../bench/common/out_dir.ts";

Deno.test("results go to bench/out/rapidraid inside the source tree, else ./cdfs-bench-rapidraid", () => {
  const root = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");
  assert.equal(defaultOutDir(root), join(root, "bench/out/rapidraid"));
  assert.equal(defaultOutDir(join(root, "src")), join(root, "bench/out/rapidraid"));
  assert.equal(defaultOutDir("/somewhere/else"), "/somewhere/else/cdfs-bench-rapidraid");
});
