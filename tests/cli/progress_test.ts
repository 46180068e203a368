import assert from "node:assert/strict";
import {
  createProgress,
  formatDuration,
  formatProgressLine,
  formatSummaryRate,
} from "../../src/cli/progress.ts";

function fakeTerminal(isTerminal: boolean) {
  const err: string[] = [];
  const out: string[] = [];
  return {
    err,
    out,
    ctx: {
      out: (t: string) => void out.push(t),
      err: (t: string) => void err.push(t),
      isTerminal,
      env: () => undefined,
    },
  };
}

Deno.test("on a terminal: bytes, percentage, rate and ETA, redrawn in place", () => {
  const term = fakeTerminal(true);
  let clock = 5000;
  const mib = 1 << 20;
  const progress = createProgress(term.ctx, {
    label: "store b1",
    total: 100 * mib,
    now: () => clock,
  });
  clock += 1000;
  progress.update(25 * mib);
  assert.equal(term.err.length, 1);
  const line = term.err[0]!;
  assert.ok(line.startsWith("\rstore b1 ["));
  assert.match(line, / 25% /);
  assert.match(line, /25\.0 MiB \/ 100\.0 MiB/);
  assert.match(line, /25\.0 MiB\/s/); // 25 MiB in 1 s
  assert.match(line, /ETA 0:03/); // 75 MiB left at 25 MiB/s
  assert.ok(!line.includes("\n"));
  assert.equal(term.out.length, 0, "progress never goes to stdout");
});

Deno.test("redraws at most every 100 ms and clears its line when finished", () => {
  const term = fakeTerminal(true);
  let clock = 0;
  const progress = createProgress(term.ctx, { label: "x", total: 1000, now: () => clock });
  for (let i = 1; i <= 100; i++) {
    clock += 10; // 1 s of updates every 10 ms
    progress.update(i * 10);
  }
  assert.ok(term.err.length >= 9 && term.err.length <= 11, `${term.err.length} redraws`);
  const drawn = term.err.length;
  progress.finish();
  assert.equal(term.err.length, drawn + 1);
  const clear = term.err.at(-1)!;
  assert.match(clear, /^\r +\r$/);
  // The clearing line covers the widest line drawn.
  const widest = Math.max(...term.err.slice(0, -1).map((l) => l.length - 1));
  assert.equal(clear.length - 2, widest);
  progress.update(1000);
  progress.finish();
  assert.equal(term.err.length, drawn + 1, "nothing after finish");
});

Deno.test("a shorter line is padded over the previous one", () => {
  const term = fakeTerminal(true);
  let clock = 0;
  const progress = createProgress(term.ctx, { label: "x", now: () => clock });
  clock = 1;
  progress.update(1 << 30); // "1.0 GiB  ..."
  clock = 1000;
  progress.update(5); // a much shorter line
  assert.equal(term.err[1]!.length, term.err[0]!.length);
});

Deno.test("a total learnt later adds the bar", () => {
  const term = fakeTerminal(true);
  let clock = 0;
  const progress = createProgress(term.ctx, { label: "get", now: () => clock });
  clock = 500;
  progress.update(10);
  assert.ok(!term.err[0]!.includes("%"));
  progress.setTotal(20);
  clock = 1000;
  progress.update(10);
  assert.match(term.err[1]!, / 50% /);
});

Deno.test("silent when standard error is not a terminal", () => {
  const term = fakeTerminal(false);
  let clock = 0;
  const progress = createProgress(term.ctx, { label: "x", total: 10, now: () => clock });
  for (let i = 0; i <= 10; i++) {
    clock += 1000;
    progress.update(i);
  }
  progress.finish();
  assert.deepEqual(term.err, []);
  assert.deepEqual(term.out, []);
});

Deno.test("line formatting: unknown total, zero total, stalled rate", () => {
  assert.equal(formatProgressLine("put", 3 << 20, undefined, 2000), "put  3.0 MiB  1.5 MiB/s");
  assert.match(formatProgressLine("put", 0, 0, 10), /\[#{24}\] 100%/);
  assert.match(formatProgressLine("put", 0, 100, 0), /ETA --:--/);
  assert.match(formatProgressLine("put", 50, 100, 1000), /\[#{12}-{12}\] {2}50%/);
});

Deno.test("durations", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(59.2), "1:00");
  assert.equal(formatDuration(3600), "1:00:00");
  assert.equal(formatDuration(3725), "1:02:05");
});

Deno.test("a summary's rate is the rate its progress bar shows for the same bytes and time", () => {
  // encode: 11 parts of 13.3 MiB each in 1.0 s. Both the bar and the summary count the
  // object's bytes (k parts), so both say 146.3 MiB/s: not 13.3 for the bar (one coded block).
  const bytes = 11 * Math.round(13.3 * (1 << 20));
  const line = formatProgressLine("encode big", bytes, bytes, 1000);
  assert.ok(line.includes("  146.3 MiB/s  "), line);
  assert.equal(formatSummaryRate(bytes, 1), ", 1.00 s, 146.3 MiB/s");
  for (const [done, ms] of [[1, 1], [5 << 20, 3000], [123_456_789, 4321]] as const) {
    const rate = / (\S+ \S+\/s) /.exec(formatProgressLine("x", done, done, ms))![1]!;
    assert.ok(formatSummaryRate(done, ms / 1000).endsWith(`, ${rate}`), `${done} in ${ms} ms`);
  }
  assert.equal(formatSummaryRate(0, 1), "", "nothing moved");
  assert.equal(formatSummaryRate(10, 0), "", "no time");
});
