/**
 * The repair options of `cdfs namenode serve` (`autoRepairSettings`): defaults, values, and a
 * clear refusal of a bad one.
 */
import assert from "node:assert/strict";
import { DEFAULT_REPAIR_CONCURRENCY } from "../../src/client/files/auto_repair.ts";
import {
  autoRepairSettings,
  DEFAULT_GC_GRACE_MS,
  DEFAULT_REPAIR_DELAY_MS,
} from "../../src/cli/namenode_repair.ts";
import { isCdfsError } from "../../src/core/errors.ts";
import { DEFAULT_REPAIR_RATE } from "../../src/namenode/repair_rate.ts";

const settings = (values: Record<string, string | boolean>) =>
  autoRepairSettings({ values, positionals: [] });

Deno.test("repair options: the defaults, and each option's value", () => {
  assert.deepEqual(settings({}), {
    repair: true,
    rate: DEFAULT_REPAIR_RATE,
    gcGraceMs: DEFAULT_GC_GRACE_MS,
    delayMs: DEFAULT_REPAIR_DELAY_MS,
    concurrency: DEFAULT_REPAIR_CONCURRENCY,
  });
  assert.deepEqual(
    settings({
      "repair-rate": "8MiB/s",
      "repair-delay": "0s",
      "repair-concurrency": "2",
      "no-auto-gc": true,
      "no-auto-repair": true,
    }),
    { repair: false, rate: 8 << 20, gcGraceMs: null, delayMs: 0, concurrency: 2 },
  );
});

Deno.test("repair options: a concurrency that is not a whole number of files, at least 1, is refused", () => {
  for (const bad of ["0", "two", "-1", "1.5"]) {
    assert.throws(
      () => settings({ "repair-concurrency": bad }),
      (e) => isCdfsError(e, "USAGE") && /--repair-concurrency/.test(e.message),
      bad,
    );
  }
});
