/**
 * The automatic repair and garbage collection of `cdfs namenode serve` (docs/namenode.md §12):
 * its options (`--no-auto-repair`, `--repair-rate`, `--repair-delay`, `--repair-concurrency`,
 * `--gc-grace`, `--no-auto-gc`) and the
 * wiring of the loop (`src/client/files/auto_repair.ts`) to the server: a connection of its
 * own to the namenode, the namenode's log, a wake-up whenever the namenode marks a datanode
 * dead or hears of missing blocks, and the queue attached for `repairQueueSnapshot()`.
 *
 * @module
 */
import { AutoRepair, DEFAULT_REPAIR_CONCURRENCY } from "../client/files/auto_repair.ts";
import { CdfsError } from "../core/errors.ts";
import { formatBytes } from "../format/bytes.ts";
import { NameNodeClient } from "../namenode/client.ts";
import { DecisionLog, type NameNodeLogSink } from "../namenode/log.ts";
import { DEFAULT_REPAIR_RATE } from "../namenode/repair_rate.ts";
import type { NameNodeServer } from "../namenode/server.ts";
import { parseDuration } from "../emulation/link_spec.ts";
import {
  integerOption,
  type OptionSpec,
  type ParsedArgs,
  parseSize,
  stringOption,
} from "./command.ts";

/** The default `--repair-delay`: a minute, more than a datanode takes to restart. */
export const DEFAULT_REPAIR_DELAY_MS = 60_000;

/** The default `--gc-grace`: an hour, far longer than any put or repair takes. */
export const DEFAULT_GC_GRACE_MS = 3_600_000;

/**
 * The options of `namenode serve` that steer the repair loop.
 *
 * @example
 * ```ts
 * import { AUTO_REPAIR_OPTIONS } from "./namenode_repair.ts";
 * console.log(Object.keys(AUTO_REPAIR_OPTIONS).includes("repair-rate")); // true
 * ```
 */
export const AUTO_REPAIR_OPTIONS: OptionSpec = {
  "no-auto-repair": {
    type: "boolean",
    description: "do not repair files by itself (cdfs repair still does, by hand)",
  },
  "repair-rate": {
    type: "string",
    value: "BYTES/s",
    description: "repair traffic per datanode, e.g. 20MiB or 20MiB/s (a repair starts only " +
      "once no datanode is over this budget)",
    default: formatBytes(DEFAULT_REPAIR_RATE).replace(" ", "") + "/s",
  },
  "repair-delay": {
    type: "string",
    value: "DURATION",
    description: "how long a file stays degraded before its repair starts (a datanode that " +
      "is only restarting comes back meanwhile), e.g. 0s, 90s or 600s",
    default: `${DEFAULT_REPAIR_DELAY_MS / 1000}s`,
  },
  "repair-concurrency": {
    type: "string",
    value: "N",
    description: "how many files are repaired at once (they start most endangered first)",
    default: String(DEFAULT_REPAIR_CONCURRENCY),
  },
  "gc-grace": {
    type: "string",
    value: "DURATION",
    description: "age after which orphan blocks (a returning datanode's stale copies, a " +
      "crashed put's blocks) are removed by the periodic garbage collection, e.g. 3600s or 90s",
    default: `${DEFAULT_GC_GRACE_MS / 1000}s`,
  },
  "no-auto-gc": {
    type: "boolean",
    description: "no periodic garbage collection (cdfs gc still does it, by hand)",
  },
};

/**
 * What the repair options ask for.
 *
 * @example
 * ```ts
 * import type { AutoRepairSettings } from "./namenode_repair.ts";
 * const s: AutoRepairSettings = {
 *   repair: true,
 *   rate: 20 << 20,
 *   gcGraceMs: 3_600_000,
 *   delayMs: 0,
 *   concurrency: 4,
 * };
 * ```
 */
export interface AutoRepairSettings {
  /** Whether files are repaired automatically. */
  readonly repair: boolean;
  /** Repair bytes per second per datanode. */
  readonly rate: number;
  /** The grace of the periodic garbage collection, null for none. */
  readonly gcGraceMs: number | null;
  /** How long a file stays queued before its repair starts. */
  readonly delayMs: number;
  /** How many files are repaired at once. */
  readonly concurrency: number;
}

/**
 * Reads the repair options.
 *
 * @example
 * ```ts
 * import { autoRepairSettings } from "./namenode_repair.ts";
 * const s = autoRepairSettings({ values: { "repair-rate": "20MiB/s" }, positionals: [] });
 * console.log(s.rate, s.repair); // 20971520 true
 * ```
 *
 * @param args The parsed arguments.
 * @returns The settings.
 * @throws {CdfsError} `USAGE` for a malformed or zero rate, a grace under 1 s, or a
 * concurrency that is not a positive integer.
 */
export function autoRepairSettings(args: ParsedArgs): AutoRepairSettings {
  const rateText = stringOption(args, "repair-rate");
  const rate = rateText === undefined
    ? DEFAULT_REPAIR_RATE
    : parseSize(rateText.replace(/\/s$/i, ""), "--repair-rate");
  if (rate < 1) throw new CdfsError("USAGE", "--repair-rate must be at least 1 byte/s");
  const graceText = stringOption(args, "gc-grace");
  let gcGraceMs: number | null = graceText === undefined
    ? DEFAULT_GC_GRACE_MS
    : Math.round(parseDuration(graceText, "--gc-grace"));
  if (gcGraceMs < 1_000) {
    throw new CdfsError(
      "USAGE",
      `--gc-grace ${JSON.stringify(graceText)}: at least 1s (a shorter grace could remove ` +
        "blocks a put or repair is writing)",
    );
  }
  if (args.values["no-auto-gc"] === true) gcGraceMs = null;
  const delayText = stringOption(args, "repair-delay");
  const delayMs = delayText === undefined
    ? DEFAULT_REPAIR_DELAY_MS
    : Math.round(parseDuration(delayText, "--repair-delay"));
  const concurrency = integerOption(args, "repair-concurrency", DEFAULT_REPAIR_CONCURRENCY);
  if (concurrency < 1) throw new CdfsError("USAGE", "--repair-concurrency must be at least 1");
  return {
    repair: args.values["no-auto-repair"] !== true,
    rate,
    gcGraceMs,
    delayMs,
    concurrency,
  };
}

/**
 * A log sink that also wakes the repair loop when the namenode marks a datanode dead or a
 * report says blocks are missing, and makes the repairs waiting out a backoff due again when a
 * datanode registers or comes back (a repair that found too few live datanodes waits for one).
 *
 * @example
 * ```ts
 * import { wakingSink } from "./namenode_repair.ts";
 * let woken = 0;
 * let retried = 0;
 * const loop = { wake: () => woken++, retryWaiting: () => retried++ };
 * const sink = wakingSink(() => {}, () => loop);
 * sink({ time: "", namenode: "nn", event: "datanode-dead" });
 * sink({ time: "", namenode: "nn", event: "datanode-registered" });
 * console.log(woken, retried); // 1 1
 * ```
 *
 * @param sink Where records go.
 * @param loop The loop to wake, once there is one.
 * @returns The sink.
 */
export function wakingSink(
  sink: NameNodeLogSink,
  loop: () => { wake(): void; retryWaiting(): void } | null,
): NameNodeLogSink {
  return (record) => {
    sink(record);
    if (record.event === "datanode-registered" || record.event === "datanode-alive-again") {
      loop()?.retryWaiting();
    }
    if (record.event === "datanode-dead" || record.event === "blocks-missing") loop()?.wake();
  };
}

/**
 * Starts the repair loop of a running server (nothing when both repair and GC are off).
 *
 * @example
 * Not run by `deno test --doc`: it needs a running namenode.
 * ```ts ignore
 * const stop = await startAutoRepair(server, settings, sink, (l) => loop = l);
 * await server.finished;
 * await stop();
 * ```
 *
 * @param server The namenode.
 * @param settings What the options asked for.
 * @param sink The namenode's log sink.
 * @param started Told the loop, to wake it.
 * @returns A function that stops the loop and closes its connection.
 */
export async function startAutoRepair(
  server: NameNodeServer,
  settings: AutoRepairSettings,
  sink: NameNodeLogSink,
  started: (loop: AutoRepair) => void,
): Promise<(graceMs: number) => Promise<void>> {
  if (!settings.repair && settings.gcGraceMs === null) return () => Promise.resolve();
  const { hostname, port } = server.addr;
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "::1" : hostname;
  const namenode = await NameNodeClient.connect(
    host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
  );
  const loop = new AutoRepair({
    namenode,
    log: new DecisionLog(server.id, sink),
    rate: settings.rate,
    gcGraceMs: settings.gcGraceMs,
    repair: settings.repair,
    delayMs: settings.delayMs,
    concurrency: settings.concurrency,
  });
  server.attachRepairQueue(settings.repair ? loop : null);
  started(loop);
  loop.start();
  return async (graceMs) => {
    const stopping = loop.stop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      stopping,
      new Promise((resolve) => timer = setTimeout(resolve, Math.max(graceMs, 100))),
    ]);
    clearTimeout(timer);
    namenode.close();
    await stopping.catch(() => {});
  };
}
