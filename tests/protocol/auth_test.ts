/**
 * The signing and checking of requests (src/protocol/auth.ts) on their own: what a verifier
 * accepts and refuses, with a clock the test controls.
 */
import assert from "node:assert/strict";
import { authorize, checkSecret, RequestSigner, RequestVerifier } from "../../src/protocol/auth.ts";
import { cdfsError } from "../helpers/assert_error.ts";

const SECRET = "a".repeat(32) + "b".repeat(32);
const READ = "r".repeat(64);
const encoder = new TextEncoder();
const request = encoder.encode('{"op":"DELETE","block":"b1"}');

function verifierAt(now: { t: number }, options: { maxNonces?: number } = {}): RequestVerifier {
  return new RequestVerifier({ full: SECRET, read: READ }, {
    clock: () => now.t,
    windowMs: 60_000,
    ...options,
  });
}

Deno.test("auth: a signed request is accepted once, with the access of its key", () => {
  const now = { t: 1_700_000_000_000 };
  const verifier = verifierAt(now);
  const auth = new RequestSigner(SECRET, "full", () => now.t).sign(request);
  assert.equal(verifier.verify(verifier.admit(auth), request), "full");
  // The same AUTH frame again: a replay.
  assert.throws(
    () => verifier.verify(verifier.admit(auth), request),
    cdfsError("UNAUTHENTICATED", /replayed/),
  );
  const read = new RequestSigner(READ, "read", () => now.t).sign(request);
  assert.equal(verifier.verify(verifier.admit(read), request), "read");
});

Deno.test("auth: a missing AUTH, a wrong secret, another request, a stale time are refused", () => {
  const now = { t: 1_700_000_000_000 };
  const verifier = verifierAt(now);
  assert.throws(() => verifier.admit(null), cdfsError("UNAUTHENTICATED", /not signed/));
  const wrong = new RequestSigner("w".repeat(64), "full", () => now.t).sign(request);
  assert.throws(
    () => verifier.verify(verifier.admit(wrong), request),
    cdfsError("UNAUTHENTICATED", /signature does not match/),
  );
  // A read-only key presented as the full one.
  const promoted = new RequestSigner(READ, "full", () => now.t).sign(request);
  assert.throws(
    () => verifier.verify(verifier.admit(promoted), request),
    cdfsError("UNAUTHENTICATED", /signature/),
  );
  // A valid AUTH frame moved in front of another request.
  const auth = new RequestSigner(SECRET, "full", () => now.t).sign(request);
  const other = encoder.encode('{"op":"DELETE","block":"b2"}');
  assert.throws(
    () => verifier.verify(verifier.admit(auth), other),
    cdfsError("UNAUTHENTICATED", /signature/),
  );
  for (const skew of [-61_000, 61_000]) {
    const stale = new RequestSigner(SECRET, "full", () => now.t + skew).sign(request);
    assert.throws(() => verifier.admit(stale), cdfsError("UNAUTHENTICATED", /±60 s/));
  }
  const noRead = new RequestVerifier({ full: SECRET }, { clock: () => now.t });
  const read = new RequestSigner(READ, "read", () => now.t).sign(request);
  assert.throws(() => noRead.admit(read), cdfsError("UNAUTHENTICATED", /no read key/));
  for (const bad of ["{}", "[]", "x", '{"key":"full","time":1,"nonce":"zz","mac":"00"}']) {
    assert.throws(() => verifier.admit(encoder.encode(bad)), cdfsError("UNAUTHENTICATED", /./));
  }
});

Deno.test("auth: nonces are forgotten after the window, and bounded", () => {
  const now = { t: 1_700_000_000_000 };
  const verifier = verifierAt(now, { maxNonces: 3 });
  const signer = new RequestSigner(SECRET, "full", () => now.t);
  for (let i = 0; i < 3; i++) verifier.verify(verifier.admit(signer.sign(request)), request);
  assert.throws(
    () => verifier.verify(verifier.admit(signer.sign(request)), request),
    cdfsError("UNAVAILABLE", /more than 3 requests/),
  );
  assert.equal(verifier.nonces, 3);
  now.t += 60_001; // every nonce so far is past its window
  verifier.verify(verifier.admit(signer.sign(request)), request);
  assert.equal(verifier.nonces, 1);
});

Deno.test("auth: a read-only credential is FORBIDDEN the ops outside the read-only set", () => {
  const reads = new Set(["PING", "RETRIEVE"]);
  authorize("read", "RETRIEVE", reads);
  authorize("full", "DELETE", reads);
  assert.throws(() => authorize("read", "DELETE", reads), cdfsError("FORBIDDEN", /DELETE/));
});

Deno.test("auth: secrets must be long and printable; the read secret must differ", () => {
  assert.throws(() => checkSecret("short", "--secret-file s"), cdfsError("USAGE", /at least 32/));
  assert.throws(() => checkSecret("a b".repeat(20), "X"), cdfsError("USAGE", /printable/));
  assert.throws(
    () => new RequestVerifier({ full: SECRET, read: SECRET }),
    cdfsError("USAGE", /must differ/),
  );
});
