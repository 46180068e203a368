import assert from "node:assert/strict";
import {
  canonicalAddress,
  validateCodeName,
  validateDigest,
  validateFileName,
  validateRole,
} from "../../../src/namenode/meta/validate_fields.ts";
import { cdfsError } from "../../helpers/assert_error.ts";

Deno.test("file names: any Unicode text of at most 1024 UTF-8 bytes, no control characters", () => {
  assert.equal(validateFileName("a/b c/\u4e2d\u6587.txt"), "a/b c/\u4e2d\u6587.txt");
  assert.equal(validateFileName("x".repeat(1024)).length, 1024);
  assert.throws(
    () => validateFileName("\u4e2d".repeat(342)),
    cdfsError("BAD_REQUEST", /1026 bytes/),
  );
  assert.throws(() => validateFileName("a\u0085b"), cdfsError("BAD_REQUEST", /control character/));
  assert.throws(() => validateFileName("a\u007f"), cdfsError("BAD_REQUEST", /control character/));
  assert.throws(
    () => validateFileName(7),
    cdfsError("BAD_REQUEST", /must be a string, got number/),
  );
});

Deno.test("addresses are canonical; roles, digests and code names are bounded", () => {
  assert.equal(canonicalAddress("[::1]:13100"), "[::1]:13100");
  assert.throws(() => canonicalAddress("h:0"), cdfsError("BAD_REQUEST", /datanode address/));
  assert.throws(() => validateRole({ kind: "parity", index: 0 }), cdfsError("BAD_REQUEST", /kind/));
  assert.throws(
    () => validateRole({ kind: "part", index: 65536 }),
    cdfsError("BAD_REQUEST", /0 to 65535/),
  );
  assert.throws(
    () => validateRole({ kind: "part", index: 1.5 }),
    cdfsError("BAD_REQUEST", /integer/),
  );
  assert.throws(
    () => validateDigest("ABCDEF0123456789"),
    cdfsError("BAD_REQUEST", /lowercase hex/),
  );
  assert.equal(validateDigest("abcdef0123456789"), "abcdef0123456789");
  assert.throws(() => validateCodeName("x".repeat(65)), cdfsError("BAD_REQUEST", /65 characters/));
});
