/**
 * Whether this machine can run emulated networks (`netns.ts`): Linux, root, iproute2, and a
 * trial namespace that works.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { hubNamespace } from "./netns_names.ts";
import { shaperArgs } from "./netns_shaping.ts";
import { runTool } from "./netns_tools.ts";

/**
 * Whether this machine can run emulated networks, and if not, why.
 *
 * @example
 * ```ts
 * import type { NetnsSupport } from "./netns_support.ts";
 * const support: NetnsSupport = { ok: false, reason: "not root" };
 * ```
 */
export type NetnsSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

let supportProbe: Promise<NetnsSupport> | undefined;

/**
 * Finds out (once per process) whether emulated networks work here: Linux, root, iproute2
 * installed, and a real trial — a throwaway namespace with a veth pair, a `tbf` qdisc and an
 * `ip netns exec` — succeeds (a container may run as root without the right to do that).
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { netnsSupport } from "./netns_support.ts";
 * const support = await netnsSupport();
 * Deno.test({ name: `netns${support.ok ? "" : ` (skipped: ${support.reason})`}`, ignore: !support.ok, fn() {} });
 * ```
 *
 * @returns `{ ok: true }` or `{ ok: false, reason }` with a reason a person can act on.
 */
export function netnsSupport(): Promise<NetnsSupport> {
  supportProbe ??= probeNetnsSupport();
  return supportProbe;
}

/**
 * Throws unless {@linkcode netnsSupport} says yes: the refusal of `cluster up --netns`.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { requireNetnsSupport } from "./netns_support.ts";
 * await requireNetnsSupport();
 * ```
 *
 * @throws {CdfsError} UNAVAILABLE with the reason.
 */
export async function requireNetnsSupport(): Promise<void> {
  const support = await netnsSupport();
  if (!support.ok) {
    throw new CdfsError("UNAVAILABLE", `network emulation is not available: ${support.reason}`);
  }
}

/**
 * The probe behind {@linkcode netnsSupport}, uncached, with the user id injectable: the
 * refusal of a non-root user can then be checked without starting a process as another user
 * (which would need the checkout and the Deno binary to be readable by that user).
 *
 * @example
 * ```ts
 * import { probeNetnsSupport } from "./netns_support.ts";
 * const support = await probeNetnsSupport({ uid: () => 65534 });
 * console.log(support.ok); // false
 * ```
 *
 * @param options `uid` returns the user id to judge by (default `Deno.uid`).
 * @returns `{ ok: true }` or `{ ok: false, reason }` with a reason a person can act on.
 */
export async function probeNetnsSupport(
  options: { readonly uid?: () => number | null } = {},
): Promise<NetnsSupport> {
  if (Deno.build.os !== "linux") {
    return { ok: false, reason: "network namespaces need Linux" };
  }
  let uid: number | null;
  try {
    uid = (options.uid ?? Deno.uid)();
  } catch {
    return { ok: false, reason: "cannot tell whether this is root (run with --allow-sys)" };
  }
  if (uid !== 0) {
    return {
      ok: false,
      reason: "it needs root (it creates network namespaces and tc qdiscs); run it as root, " +
        "e.g. with sudo",
    };
  }
  for (const tool of ["ip", "tc"] as const) {
    try {
      await runTool(tool, ["-V"]);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }
  const probe = hubNamespace(`probe${Deno.pid}`);
  try {
    await runTool("ip", ["netns", "add", probe]);
    await runTool("ip", [
      "-n",
      probe,
      "link",
      "add",
      "probe0",
      "type",
      "veth",
      "peer",
      "name",
      "probe1",
    ]);
    await runTool("tc", shaperArgs(probe, "probe0", 100_000_000, "tbf"));
    await runTool("ip", ["netns", "exec", probe, "true"]);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `a trial namespace failed: ${(e as Error).message}` };
  } finally {
    await runTool("ip", ["netns", "del", probe]).catch(() => {});
  }
}
