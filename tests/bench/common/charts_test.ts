import assert from "node:assert/strict";
import { encodeTimeChart, timelineChart } from "../../../bench/common/charts.ts";

/** Checks that every tag closes in order and that no raw `<` or `&` hides in text. */
function assertWellFormed(svg: string): void {
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let at = 0;
  while (at < svg.length) {
    const next = svg.indexOf("<", at);
    const text = svg.slice(at, next === -1 ? svg.length : next);
    assert.doesNotMatch(text, /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i, `raw & in ${text}`);
    if (next === -1) break;
    tag.lastIndex = next;
    const m = tag.exec(svg);
    assert.ok(m !== null, `malformed tag at ${svg.slice(next, next + 80)}`);
    const [whole, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClosing) stack.push(name!);
    at = next + whole.length;
  }
  assert.deepEqual(stack, [], "unclosed elements");
}

interface Shape {
  label: string;
  x: number;
  width: number;
}

/** The bars of a Vega SVG: their aria labels, left edges and widths. */
function bars(svg: string): Shape[] {
  return [...svg.matchAll(
    /<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="bar" d="M([-\d.e]+),[-\d.e]+h([-\d.e]+)/g,
  )].map((m) => ({ label: m[1]!, x: Number(m[2]), width: Number(m[3]) }));
}

/** The whiskers (rule marks): left edge and length. */
function whiskers(svg: string): Shape[] {
  return [...svg.matchAll(
    /<line aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="rule mark" transform="translate\(([-\d.e]+),[-\d.e]+\)" x2="([-\d.e]+)"/g,
  )].map((m) => ({ label: m[1]!, x: Number(m[2]), width: Number(m[3]) }));
}

function near(actual: number, expected: number): void {
  assert.ok(
    Math.abs(actual - expected) < 1e-6 * Math.max(1, Math.abs(expected)),
    `${actual} != ${expected}`,
  );
}

Deno.test("encodeTimeChart: one bar per value, lengths proportional, whiskers from min to max", async () => {
  const svg = await encodeTimeChart([
    { group: "loopback · one encode", label: "RapidRAID pull", median: 1, min: 0.5, max: 1.5 },
    { group: "loopback · one encode", label: "RS(16,11)", median: 3, min: 2, max: 4 },
    { group: "netns · 16 at once", label: "RapidRAID pull", median: 20, min: 19, max: 25 },
  ]);
  assertWellFormed(svg);
  const found = bars(svg);
  assert.equal(found.length, 3);
  const [pull, rs] = found;
  assert.ok(pull!.label.includes("RapidRAID pull") && rs!.label.includes("RS(16,11)"));
  assert.equal(pull!.x, 0);
  near(rs!.width / pull!.width, 3);
  // The first panel's pixels per second, from its bars: the whiskers use the same scale.
  const scale = pull!.width / 1;
  const [pullWhisker, rsWhisker] = whiskers(svg);
  near(pullWhisker!.x, 0.5 * scale);
  near(pullWhisker!.width, 1 * scale);
  near(rsWhisker!.x, 2 * scale);
  near(rsWhisker!.width, 2 * scale);
  assert.ok(svg.includes("netns · 16 at once"));
});

Deno.test("encodeTimeChart escapes labels and titles", async () => {
  const svg = await encodeTimeChart(
    [{ group: `a "b" <c>`, label: "R<S>&P", median: 1, min: 1, max: 1 }],
    "x < y & z",
  );
  assertWellFormed(svg);
  assert.ok(svg.includes("R&lt;S&gt;&amp;P"));
  assert.ok(svg.includes("x &lt; y &amp; z"));
  assert.ok(!svg.includes("R<S>") && !svg.includes("<c>"));
});

Deno.test("timelineChart: a request bar and a step bar per node with times, to scale", async () => {
  const svg = await timelineChart([{
    title: "RapidRAID push, loopback",
    nodes: [
      { node: 0, requestStart: 0, requestEnd: 100, stepsStart: 10, stepsEnd: 60 },
      { node: 1, requestStart: 5, requestEnd: 105, stepsStart: 20, stepsEnd: 45 },
    ],
  }]);
  assertWellFormed(svg);
  const found = bars(svg);
  assert.equal(found.length, 4);
  const request = found.filter((b) => / end: 10[05]$/.test(b.label));
  const steps = found.filter((b) => / end: (60|45)$/.test(b.label));
  assert.equal(request.length, 2);
  assert.equal(steps.length, 2);
  const perMs = request[0]!.width / 100;
  near(request[1]!.x, 5 * perMs);
  near(steps[0]!.x, 10 * perMs);
  near(steps[0]!.width, 50 * perMs);
  near(steps[1]!.width, 25 * perMs);
  assert.ok(!svg.includes("no times"));
});

Deno.test("timelineChart draws nothing for nodes without times and says which", async () => {
  const svg = await timelineChart([{
    title: "RapidRAID pull",
    nodes: [{ node: 0 }, { node: 1, requestStart: 0, requestEnd: 10 }, { node: 2 }],
  }]);
  assertWellFormed(svg);
  assert.equal(bars(svg).length, 1);
  assert.ok(svg.includes("no times from nodes 0, 2"));
});

Deno.test("timelineChart without any encode is still a chart that says so", async () => {
  const svg = await timelineChart([]);
  assertWellFormed(svg);
  assert.equal(bars(svg).length, 0);
  assert.ok(svg.includes("no pipelined encode was measured"));
});
