import assert from "node:assert/strict";
import {
  assignLinks,
  congestedCount,
  parseCongestSpec,
  parseDuration,
  parseRate,
  pickNodes,
  seededRandom,
  validateLink,
} from "../../src/emulation/link_spec.ts";
import { isCdfsError } from "../../src/core/errors.ts";

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e) => isCdfsError(e, "USAGE") && pattern.test(e.message));
}

Deno.test("parseRate reads tc bit units with SI prefixes, any case", () => {
  assert.equal(parseRate("1gbit"), 1_000_000_000);
  assert.equal(parseRate("200mbit"), 200_000_000);
  assert.equal(parseRate("100Mbit"), 100_000_000);
  assert.equal(parseRate("2.5mbit"), 2_500_000);
  assert.equal(parseRate("64kbit"), 64_000);
  assert.equal(parseRate("8000bit"), 8000);
});

Deno.test("parseRate rejects byte units, missing units, tiny rates and junk", () => {
  for (const text of ["100mbps", "100", "mbit", "1 gbit", "-1mbit", "1e3mbit", "", "1gbits"]) {
    usageError(() => parseRate(text, "--rate"), /^--rate /);
  }
  usageError(() => parseRate("7kbit"), /8kbit\.\.1tbit/);
  usageError(() => parseRate("1.5tbit"), /8kbit\.\.1tbit/);
  assert.equal(parseRate("1tbit"), 1e12);
});

Deno.test("parseDuration needs a unit and returns milliseconds", () => {
  assert.equal(parseDuration("1ms"), 1);
  assert.equal(parseDuration("10ms"), 10);
  assert.equal(parseDuration("250us"), 0.25);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("0ms"), 0);
  for (const text of ["10", "ms", "10 ms", "10min", "-1ms"]) {
    usageError(() => parseDuration(text, "--delay"), /^--delay /);
  }
  usageError(() => parseDuration("2h"), /unit/);
  usageError(() => parseDuration("3601s"), /more than an hour/);
});

Deno.test("parseCongestSpec reads P%:RATE:DELAY[:JITTER]", () => {
  assert.deepEqual(parseCongestSpec("25%:500mbit:100ms:10ms"), {
    fraction: 0.25,
    link: { rateBitsPerSecond: 500_000_000, delayMs: 100, jitterMs: 10 },
  });
  assert.deepEqual(parseCongestSpec("100%:1gbit:0ms"), {
    fraction: 1,
    link: { rateBitsPerSecond: 1e9, delayMs: 0, jitterMs: 0 },
  });
  assert.equal(parseCongestSpec("12.5%:1mbit:1ms").fraction, 0.125);
});

Deno.test("parseCongestSpec names the wrong part", () => {
  usageError(() => parseCongestSpec("25%:500mbit"), /expected P%:RATE:DELAY/);
  usageError(() => parseCongestSpec("25%:500mbit:1ms:1ms:1ms"), /expected P%:RATE:DELAY/);
  usageError(() => parseCongestSpec("25:500mbit:100ms"), /not a percentage/);
  usageError(() => parseCongestSpec("101%:500mbit:100ms"), /not a percentage/);
  usageError(() => parseCongestSpec("25%:500mb:100ms"), /--congest rate/);
  usageError(() => parseCongestSpec("25%:500mbit:100"), /--congest delay/);
  usageError(() => parseCongestSpec("25%:500mbit:10ms:20ms"), /jitter must be between/);
});

Deno.test("validateLink rejects negative delays and jitter above the delay", () => {
  validateLink({ rateBitsPerSecond: 1e9, delayMs: 1, jitterMs: 1 }, "x");
  usageError(() => validateLink({ delayMs: -1, jitterMs: 0 }, "x"), /delay/);
  usageError(() => validateLink({ delayMs: 1, jitterMs: 2 }, "x"), /jitter/);
  usageError(() => validateLink({ delayMs: Number.NaN, jitterMs: 0 }, "x"), /delay/);
  usageError(
    () => validateLink({ rateBitsPerSecond: 1.5e6 + 0.5, delayMs: 0, jitterMs: 0 }, "x"),
    /rate/,
  );
});

Deno.test("congestedCount rounds, but picks at least one node for a fraction above 0", () => {
  assert.equal(congestedCount(16, 0.25), 4);
  assert.equal(congestedCount(10, 0.25), 3); // 2.5 rounds up
  assert.equal(congestedCount(3, 0.1), 1);
  assert.equal(congestedCount(3, 0), 0);
  assert.equal(congestedCount(3, 1), 3);
  assert.equal(congestedCount(0, 0.5), 0);
});

Deno.test("pickNodes picks distinct indices in range, the same ones for the same seed", () => {
  for (let seed = 0; seed < 50; seed++) {
    const picked = pickNodes(16, 5, seed);
    assert.equal(picked.length, 5);
    assert.equal(new Set(picked).size, 5);
    assert.ok(picked.every((i) => Number.isInteger(i) && i >= 0 && i < 16));
    assert.deepEqual(picked, [...picked].sort((a, b) => a - b));
    assert.deepEqual(pickNodes(16, 5, seed), picked);
  }
  assert.deepEqual(pickNodes(4, 4, 9), [0, 1, 2, 3]);
  assert.deepEqual(pickNodes(4, 0, 9), []);
});

Deno.test("pickNodes spreads its choices over every node across seeds", () => {
  const counts = new Array(8).fill(0);
  for (let seed = 0; seed < 4000; seed++) for (const i of pickNodes(8, 2, seed)) counts[i]++;
  // Each node is picked with probability 1/4: 1000 times expected.
  for (const count of counts) assert.ok(count > 850 && count < 1150, `counts ${counts}`);
});

Deno.test("seededRandom repeats for a seed and stays in [0, 1)", () => {
  const a = seededRandom(123);
  const b = seededRandom(123);
  const c = seededRandom(124);
  const first = Array.from({ length: 100 }, () => a());
  assert.deepEqual(Array.from({ length: 100 }, () => b()), first);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c()), first);
  assert.ok(first.every((x) => x >= 0 && x < 1));
});

Deno.test("assignLinks gives the congested settings to the seeded choice, the base to the rest", () => {
  const base = { rateBitsPerSecond: 1e9, delayMs: 1, jitterMs: 0 };
  const congest = parseCongestSpec("25%:500mbit:100ms:10ms");
  const links = assignLinks({ nodes: 16, base, congest, seed: 5 });
  assert.equal(links.length, 16);
  const congested = links.flatMap((node, i) => node.congested ? [i] : []);
  assert.deepEqual(congested, pickNodes(16, 4, 5));
  for (const node of links) assert.deepEqual(node.link, node.congested ? congest.link : base);
  assert.ok(assignLinks({ nodes: 4, base }).every((node) => !node.congested));
  usageError(() => assignLinks({ nodes: 4, base: { delayMs: 1, jitterMs: 5 } }), /jitter/);
});
