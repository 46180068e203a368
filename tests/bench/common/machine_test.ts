import assert from "node:assert/strict";
import {
  busyFraction,
  cpuSecondsBetween,
  parseProcStat,
  processCpuTimes,
  readCpuTicks,
  warmFreeMemory,
} from "../../../bench/common/machine.ts";

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

Deno.test("processCpuTimes: a millisecond of work shows, below the 10 ms clock tick", async () => {
  const before = await processCpuTimes(Deno.pid);
  const until = performance.now() + 1;
  let spins = 0;
  while (performance.now() < until) spins++;
  const after = await processCpuTimes(Deno.pid);
  assert.ok(spins > 0);
  const seconds = cpuSecondsBetween(before, after);
  assert.ok(seconds > 0, `measured ${seconds} s`);
  assert.ok(seconds < 10, `measured ${seconds} s`);
});

Deno.test("cpuSecondsBetween: per thread, never negative when a thread ends", () => {
  const before = new Map([["1", 2], ["2", 5]]);
  const after = new Map([["1", 2.5], ["3", 0.25]]);
  assert.equal(cpuSecondsBetween(before, after), 0.75);
  assert.equal(cpuSecondsBetween(after, after), 0);
  assert.equal(cpuSecondsBetween(new Map([["1", 3]]), new Map([["1", 1]])), 0);
});

Deno.test("warmFreeMemory writes what it is asked to through the page cache, then leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // wchar counts the bytes handed to write(2): all of them, whatever the chunking.
    const written = async () =>
      Number(/^wchar: (\d+)$/m.exec(await Deno.readTextFile("/proc/self/io"))![1]);
    const before = await written();
    await warmFreeMemory(dir, (3 << 20) + 5);
    assert.ok(await written() - before >= (3 << 20) + 5);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
