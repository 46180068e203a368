import assert from "node:assert/strict";
import { CdfsError, isCdfsError } from "../../src/core/errors.ts";
import {
  BLOCK_ID_PATTERN,
  isValidBlockId,
  MAX_BLOCK_ID_LENGTH as BLOCK_ID_MAX_LENGTH,
  validateBlockId,
  validateBlockIdFragment,
} from "../../src/core/block_id.ts";

function rejects(id: unknown, pattern: RegExp): void {
  assert.throws(() => validateBlockId(id), (e: unknown) => {
    assert.ok(e instanceof CdfsError, `expected a CdfsError for ${String(id).slice(0, 20)}`);
    assert.equal(e.code, "BAD_REQUEST");
    assert.match(e.message, pattern);
    assert.ok(e.message.length < 200, "the message stays short");
    return true;
  });
}

Deno.test("valid block ids are returned unchanged", () => {
  for (
    const id of ["a", "A-z_0.9", "file.part-03", ".hidden", "a.b.c", "x".repeat(200), "-", "_"]
  ) {
    assert.equal(validateBlockId(id), id);
    assert.ok(BLOCK_ID_PATTERN.test(id));
  }
});

Deno.test("block ids that could escape or misname a path are rejected with the reason", () => {
  rejects("../x", /contains "\/"/);
  rejects("/etc/passwd", /contains "\/"/);
  rejects("", /empty/);
  rejects("a/b", /contains "\/"/);
  rejects("x".repeat(10_000), /10000 characters long, the limit is 200/);
  rejects("x".repeat(201), /201 characters/);
  rejects("..", /must not be "\.\."/);
  rejects(".", /must not be "\."/);
  rejects("a..b", /must not contain "\.\."/);
  rejects("...", /must not contain "\.\."/);
  rejects("a\\b", /contains "\\\\"/);
  rejects("a b", /contains " "/);
  rejects("a\u0000b", /contains "\\u0000"/);
  rejects("é", /contains "é"/);
  rejects("a\nb", /contains "\\n"/);
});

Deno.test("non-string block ids are rejected naming the type", () => {
  rejects(undefined, /must be a string, got undefined/);
  rejects(null, /got null/);
  rejects(7, /got number/);
  rejects(["a"], /got array/);
  rejects({}, /got object/);
});

Deno.test("fragments (LIST prefix/after) allow '' and '..' but not other characters", () => {
  assert.equal(validateBlockIdFragment("", "prefix", 0), "");
  assert.equal(validateBlockIdFragment("a..", "prefix", 0), "a..");
  assert.throws(() => validateBlockIdFragment("", "after", 1), /after is empty/);
  assert.throws(() => validateBlockIdFragment("a/", "prefix"), /contains "\/"/);
  assert.throws(() => validateBlockIdFragment("y".repeat(201), "prefix"), /201 characters/);
  assert.throws(() => validateBlockIdFragment(3, "prefix"), /must be a string/);
});

const VALID = [
  "a",
  "b1",
  "file1.part-03",
  "stripe_7.data-0",
  "A.b",
  ".hidden",
  "-rf",
  "x".repeat(BLOCK_ID_MAX_LENGTH),
  "a.b.c",
];

const INVALID: unknown[] = [
  "",
  ".",
  "..",
  "../x",
  "a/../b",
  "a..b",
  "..hidden",
  "/etc/passwd",
  "a/b",
  "a\\b",
  "a b",
  "a\nb",
  "a\0b",
  "ü",
  "x".repeat(BLOCK_ID_MAX_LENGTH + 1),
  "x".repeat(10_000),
  undefined,
  null,
  42,
  ["a"],
  { id: "a" },
];

Deno.test("validateBlockId accepts ids of the allowed characters and returns them", () => {
  for (const id of VALID) {
    assert.equal(validateBlockId(id), id);
    assert.equal(isValidBlockId(id), true, id);
  }
});

Deno.test("validateBlockId rejects empty, dot, dot-dot, paths, other characters, long ids", () => {
  for (const id of INVALID) {
    assert.equal(isValidBlockId(id), false, String(id));
    assert.throws(
      () => validateBlockId(id),
      (e) => isCdfsError(e, "BAD_REQUEST"),
      `expected BAD_REQUEST for ${JSON.stringify(id)?.slice(0, 50)}`,
    );
  }
});

Deno.test("validateBlockId keeps its message short for a huge id", () => {
  try {
    validateBlockId("y".repeat(10_000));
    assert.fail("no error");
  } catch (e) {
    assert.ok(isCdfsError(e, "BAD_REQUEST"));
    assert.ok(e.message.length < 200, e.message);
    assert.match(e.message, /10000 characters/);
  }
});
