import assert from "node:assert/strict";
import { shaperArgs } from "../../src/emulation/netns_shaping.ts";

Deno.test("shaperArgs: the token bucket holds 2 ms of traffic and never less than a GSO packet", () => {
  const bucket = (rate: number, shaper: "tbf" | "htb") => {
    const args = shaperArgs("cdfs-x-n0", "eth0", rate, shaper);
    const at = args.indexOf("burst");
    return at < 0 ? undefined : Number(args[at + 1]!.replace(/b$/, ""));
  };
  // A veth hands the qdisc 64 KiB GSO packets: a smaller bucket splits each into segments.
  for (const rate of [10e6, 100e6, 200e6]) assert.ok(bucket(rate, "tbf")! > 65536 + 1500);
  assert.equal(bucket(1e9, "tbf"), 250_000);
  assert.equal(bucket(200e6, "htb"), undefined); // htb's bucket is on its class
});
