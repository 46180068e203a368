import assert from "node:assert/strict";
import { describeOsError } from "../../src/format/os_error.ts";

Deno.test("describeOsError: Deno's text without the error number, lower-case first", async () => {
  const missing = await Deno.readFile("/nonexistent/cdfs-file").catch((e) => e);
  assert.ok(missing instanceof Deno.errors.NotFound);
  assert.equal(describeOsError(missing), "no such file or directory");
  const file = await Deno.makeTempFile();
  try {
    const notDir = await Deno.mkdir(`${file}/sub`).catch((e) => e);
    assert.equal(describeOsError(notDir), "not a directory");
  } finally {
    await Deno.remove(file);
  }
  assert.equal(
    describeOsError(new Error("Address already in use (os error 98)")),
    "address already in use",
  );
  assert.equal(describeOsError(new Error("EOF reached")), "EOF reached");
  assert.equal(describeOsError("plain"), "plain");
  assert.equal(describeOsError(new Error("first line\nsecond")), "first line");
});
