import assert from "node:assert/strict";
import { withDefaultShare } from "../../../bench/rapidraid/rapidraid_settings.ts";

Deno.test("--congest without a share congests the default quarter of the nodes", () => {
  assert.equal(withDefaultShare("500mbit:100ms:10ms"), "25%:500mbit:100ms:10ms");
  assert.equal(withDefaultShare("50%:100mbit:20ms"), "50%:100mbit:20ms");
});
