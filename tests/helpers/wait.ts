/**
 * Waiting in tests for something another task or process does.
 *
 * @module
 */

/**
 * Waits until `condition` holds, polling every 20 ms.
 *
 * @example
 * ```ts
 * import { waitFor } from "./wait.ts";
 * let ready = false;
 * setTimeout(() => ready = true, 10);
 * await waitFor("ready", () => ready);
 * ```
 *
 * @param what What is awaited, for the failure.
 * @param condition The condition.
 * @param timeoutMs How long to wait before failing.
 * @throws {Error} `timed out waiting for WHAT`.
 */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!await condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
