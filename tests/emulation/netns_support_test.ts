import assert from "node:assert/strict";
import { netnsSupport, probeNetnsSupport } from "../../src/emulation/netns_support.ts";

Deno.test("netns support: without root it refuses with a reason naming root", async () => {
  // Judged by the user id the probe sees, so this runs the same from any checkout path, as
  // root or not (a child process run as another user could not read a private checkout).
  const asNobody = await probeNetnsSupport({ uid: () => 65534 });
  assert.equal(asNobody.ok, false);
  assert.match((asNobody as { reason: string }).reason, /needs root/);
  if (Deno.uid() !== 0) {
    // The cached probe of this process says the same for the real user.
    const real = await netnsSupport();
    assert.equal(real.ok, false);
    assert.match((real as { reason: string }).reason, /needs root/);
  }
});
