import assert from "node:assert/strict";
import { busyFraction, parseProcStat, readCpuTicks } from "../../../bench/common/machine.ts";

Deno.test("parseProcStat: busy is all but idle and iowait; guest time is not added twice", () => {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const text = "cpu  100 20 30 800 50 5 7 3 40 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n";
  assert.deepEqual(parseProcStat(text), { busy: 165, total: 1015 });
});

Deno.test("parseProcStat refuses text without a cpu line", () => {
  assert.throws(() => parseProcStat("intr 1 2 3\n"), /cpu/);
});

Deno.test("busyFraction: the busy share of the ticks between two readings, clamped to 0..1", () => {
  assert.equal(busyFraction({ busy: 100, total: 400 }, { busy: 250, total: 600 }), 0.75);
  assert.equal(busyFraction({ busy: 5, total: 5 }, { busy: 5, total: 5 }), 0);
  assert.equal(busyFraction({ busy: 0, total: 0 }, { busy: 10, total: 5 }), 1);
});

Deno.test("readCpuTicks reads this machine's counters, which only grow", async () => {
  const first = await readCpuTicks();
  const second = await readCpuTicks();
  assert.ok(first.total > 0 && first.busy <= first.total);
  assert.ok(second.total >= first.total && second.busy >= first.busy);
});
