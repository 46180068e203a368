import assert from "node:assert/strict";
import { abortable } from "../../src/core/abortable.ts";

Deno.test("abortable: the work's value, or the abort's reason as soon as the signal aborts", async () => {
  assert.equal(await abortable(Promise.resolve(7), undefined), 7);
  assert.equal(await abortable(Promise.resolve(8), new AbortController().signal), 8);
  const controller = new AbortController();
  const waiting = abortable(new Promise(() => {}), controller.signal);
  controller.abort(new Error("stopped"));
  await assert.rejects(waiting, /stopped/);
  // Aborted already, with a reason of the caller's.
  await assert.rejects(
    abortable(new Promise(() => {}), AbortSignal.abort(), () => new Error("interrupted")),
    /interrupted/,
  );
});
