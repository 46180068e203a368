import assert from "node:assert/strict";
import {
  formatNodeAddress,
  isLoopbackAddress,
  literalNodeAddress,
  parseNodeAddress,
} from "../../src/core/address.ts";
import { CdfsError } from "../../src/core/errors.ts";

function rejects(text: string, pattern: RegExp, code = "USAGE"): void {
  assert.throws(() => parseNodeAddress(text, { what: "--node" }), (e: unknown) => {
    assert.ok(e instanceof CdfsError, `expected a CdfsError for ${text}`);
    assert.equal(e.code, code);
    assert.match(e.message, /^--node "/);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
}

Deno.test("parses host names, IPv4 and bracketed IPv6 with a port", () => {
  assert.deepEqual(parseNodeAddress("localhost:13100"), { hostname: "localhost", port: 13100 });
  assert.deepEqual(parseNodeAddress("127.0.0.1:1"), { hostname: "127.0.0.1", port: 1 });
  assert.deepEqual(parseNodeAddress("dn-1.rack2.example.org:65535"), {
    hostname: "dn-1.rack2.example.org",
    port: 65535,
  });
  assert.deepEqual(parseNodeAddress("[::1]:13100"), { hostname: "::1", port: 13100 });
  assert.deepEqual(parseNodeAddress("[fe80::1:2]:80"), { hostname: "fe80::1:2", port: 80 });
  assert.deepEqual(parseNodeAddress("[::ffff:10.0.0.1]:9"), {
    hostname: "::ffff:10.0.0.1",
    port: 9,
  });
});

Deno.test("rejects the malformed addresses with the reason", () => {
  rejects("nohost", /no port/);
  rejects("h:99999", /port 99999 is outside 1\.\.65535/);
  rejects("h:-1", /port "-1" is not a number/);
  rejects(":1", /no host/);
  rejects("h:", /no port after ":"/);
  rejects("h:0", /port 0 is outside/);
  rejects("h:1x", /port "1x" is not a number/);
  rejects("h: 1", /not a number/);
  rejects("::1:13100", /IPv6 address must be in brackets/);
  rejects("[::1]", /no port after "\]"/);
  rejects("[::1:80", /unclosed/);
  rejects("[zz::1]:80", /not an IPv6 address/);
  rejects("[]:80", /no host/);
  rejects("[127.0.0.1]:80", /not an IPv6 address/);
  rejects("a..b:1", /not a host name/);
  rejects("-a:1", /not a host name/);
  rejects("a_b:1", /not a host name/);
  rejects("http://h:1", /no scheme or path/);
  rejects("h:1/x", /no scheme or path/);
  rejects(`${"a".repeat(300)}:1`, /limit is 253/);
  rejects("", /no port/);
});

Deno.test("a peer's address can be rejected as BAD_REQUEST", () => {
  assert.throws(
    () => parseNodeAddress("x", { code: "BAD_REQUEST" }),
    (e: unknown) =>
      e instanceof CdfsError && e.code === "BAD_REQUEST" && /^node address/.test(e.message),
  );
});

Deno.test("formatting round-trips through parsing", () => {
  for (const text of ["h:1", "10.1.2.3:13100", "[::1]:13100", "[2001:db8::7]:5"]) {
    assert.equal(formatNodeAddress(parseNodeAddress(text)), text);
  }
});

Deno.test("literal addresses: canonical IP:PORT; names and ambiguous forms are none", () => {
  assert.equal(literalNodeAddress("10.1.2.3:13100"), "10.1.2.3:13100");
  assert.equal(literalNodeAddress("[0:0:0:0:0:0:0:1]:5"), "[::1]:5");
  assert.equal(literalNodeAddress("[2001:DB8::7]:5"), "[2001:db8::7]:5");
  // Host names, and forms a resolver may read as another IP (octal, short, out of range).
  for (
    const text of ["localhost:1", "h:1", "0177.0.0.1:1", "127.1:1", "256.0.0.1:1", "01.2.3.4:1"]
  ) {
    assert.equal(literalNodeAddress(text), undefined, text);
  }
  assert.equal(literalNodeAddress("not an address"), undefined);
  assert.ok(isLoopbackAddress("127.0.0.1:1") && isLoopbackAddress("127.255.0.9:1"));
  assert.ok(isLoopbackAddress("[::1]:1"));
  for (const text of ["localhost:1", "10.0.0.1:1", "0.0.0.0:1", "[::]:1", "128.0.0.1:1"]) {
    assert.equal(isLoopbackAddress(text), false, text);
  }
});
