import assert from "node:assert/strict";
import { parseHealArgs } from "../../../bench/namenode/heal_bench.ts";

Deno.test("heal bench: the defaults, and sizes with units", () => {
  assert.deepEqual(parseHealArgs([]), {
    size: 1 << 30,
    files: 16,
    datanodes: 17,
    repairRate: null,
    chunkSize: 1 << 20,
  });
  const s = parseHealArgs(["--size", "256M", "--files", "4", "--repair-rate", "8MiB/s"]);
  assert.deepEqual([s.size, s.files, s.repairRate], [256 << 20, 4, 8 << 20]);
});

Deno.test("heal bench: bad input is refused with one line naming the option", () => {
  const refused: [string[], RegExp][] = [
    [["--size", "lots"], /^--size: expected a size like 1G, 64MiB or 4096, got 'lots'$/],
    [["--size", "0"], /^--size: /],
    [["--files", "0"], /^--files: /],
    [["--datanodes", "16"], /^--datanodes: at least 17 .*got 16$/],
    [["--repair-rate", "fast"], /^--repair-rate: /],
    [["--chunk-size", "1.5X"], /^--chunk-size: /],
    [["--size", "3", "--files", "4"], /^--size 3 is less than a byte per file \(--files 4\)$/],
    [["--sise", "1G"], /sise/],
    [["extra"], /^unexpected argument 'extra'$/],
  ];
  for (const [args, message] of refused) {
    assert.throws(
      () => parseHealArgs(args),
      (e) => e instanceof Error && message.test(e.message),
      args.join(" "),
    );
  }
});
