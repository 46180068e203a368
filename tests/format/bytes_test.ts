import assert from "node:assert/strict";
import { formatBytes, formatRate } from "../../src/format/bytes.ts";

Deno.test("formatBytes: whole bytes below 1 KiB, then one decimal in binary units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(5.5 * 1024 ** 3), "5.5 GiB");
  assert.equal(formatBytes(3 * 1024 ** 4), "3.0 TiB");
  assert.equal(formatBytes(2048 * 1024 ** 4), "2048.0 TiB");
});

Deno.test("formatRate: bytes per second in the units of formatBytes", () => {
  assert.equal(formatRate(3 << 20, 2), "1.5 MiB/s");
  assert.equal(formatRate(500, 1), "500 B/s");
  assert.equal(formatRate(100, 0), "0 B/s", "no time yet");
});
