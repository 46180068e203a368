/**
 * The delay relay as a process: `deno run --allow-net src/emulation/relay_main.ts ARGS`, or the
 * same {@linkcode runRelayProcess} behind a CLI sub-command in a compiled binary. The cluster
 * launcher starts one inside each node's network namespace (see `node_relay.ts`).
 *
 * ```
 * relay --listen HOST:PORT --target HOST:PORT [--delay D] [--jitter J]
 *       [--peer ADDRESS=D[:J]]... [--peer-default D[:J]] [--local ADDRESS]...
 *       [--max-buffered BYTES] [--exit-with-stdin]
 * ```
 *
 * `--delay`/`--jitter` hold what the target sends back; `--peer` holds what a given peer sends
 * to the target (that peer's own link delay), `--peer-default` what other peers send; `--local`
 * names the node's own addresses, whose connections get no hold. Durations take a unit (`us`,
 * `ms`, `s`). When it listens it prints `listening HOST:PORT` on standard output (like `cdfs
 * datanode serve`), and when it stops, `stats {JSON}` (the relay's `RelayStats`: connections,
 * bytes, and how late the held chunks were written). It stops on SIGINT or SIGTERM, and with `--exit-with-stdin` also when its
 * standard input reaches its end — which happens when the launcher that holds the other end of
 * the pipe dies, even by `kill -9`, so no relay outlives a crashed launcher.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatNodeAddress, parseNodeAddress } from "../core/address.ts";
import { CdfsError } from "../core/errors.ts";
import { parseDuration } from "./link_spec.ts";
import { DelayRelay, type DelayRelayOptions, type HoldSettings } from "./relay.ts";

/**
 * The settings of a relay process, as {@linkcode relayArguments} writes them and
 * {@linkcode parseRelayArguments} reads them.
 *
 * @example
 * ```ts
 * import type { RelayProcessSettings } from "./relay_main.ts";
 * const settings: RelayProcessSettings = {
 *   relay: {
 *     listen: { hostname: "10.213.0.10", port: 13100 },
 *     target: { hostname: "127.0.0.1", port: 13100 },
 *     toPeer: { delayMs: 1, jitterMs: 0 },
 *   },
 *   exitWithStdin: true,
 * };
 * ```
 */
export interface RelayProcessSettings {
  /** The relay's options (without `random` and `sleeper`, which a process picks itself). */
  readonly relay: Omit<DelayRelayOptions, "random" | "sleeper">;
  /** Stop when standard input ends. */
  readonly exitWithStdin: boolean;
}

/**
 * The options of a relay process, in the form of `node:util` `parseArgs` (and of a cdfs
 * command's option table, for `cdfs cluster relay`).
 */
export const RELAY_OPTIONS = {
  listen: { type: "string" },
  target: { type: "string" },
  delay: { type: "string" },
  jitter: { type: "string" },
  peer: { type: "string", multiple: true },
  "peer-default": { type: "string" },
  local: { type: "string", multiple: true },
  "max-buffered": { type: "string" },
  "exit-with-stdin": { type: "boolean" },
} as const;

/**
 * Writes relay settings as command-line arguments.
 *
 * @example
 * ```ts
 * import { relayArguments } from "./relay_main.ts";
 * const args = relayArguments({
 *   relay: {
 *     listen: { hostname: "10.213.0.10", port: 13100 },
 *     target: { hostname: "127.0.0.1", port: 13100 },
 *     toPeer: { delayMs: 1, jitterMs: 0 },
 *   },
 *   exitWithStdin: false,
 * });
 * console.log(args.slice(0, 2)); // [ "--listen", "10.213.0.10:13100" ]
 * ```
 *
 * @param settings The settings.
 * @returns The arguments, for `relay_main.ts` or a CLI command that runs
 * {@linkcode runRelayProcess}.
 */
export function relayArguments(settings: RelayProcessSettings): string[] {
  const { relay } = settings;
  const args = [
    "--listen",
    formatNodeAddress(relay.listen),
    "--target",
    formatNodeAddress(relay.target),
    "--delay",
    duration(relay.toPeer.delayMs),
    "--jitter",
    duration(relay.toPeer.jitterMs),
  ];
  for (const [address, hold] of relay.toTargetByPeer ?? []) {
    args.push("--peer", `${address}=${holdText(hold)}`);
  }
  if (relay.toTargetDefault !== undefined) {
    args.push("--peer-default", holdText(relay.toTargetDefault));
  }
  for (const address of relay.localAddresses ?? []) args.push("--local", address);
  if (relay.maxBufferedBytes !== undefined) {
    args.push("--max-buffered", String(relay.maxBufferedBytes));
  }
  if (settings.exitWithStdin) args.push("--exit-with-stdin");
  return args;
}

/**
 * Reads relay settings from command-line arguments.
 *
 * @example
 * ```ts
 * import { parseRelayArguments } from "./relay_main.ts";
 * const settings = parseRelayArguments([
 *   "--listen", "127.0.0.1:0", "--target", "127.0.0.1:13100", "--delay", "10ms",
 *   "--peer", "10.213.0.11=5ms:1ms",
 * ]);
 * console.log(settings.relay.toTargetByPeer?.get("10.213.0.11")); // { delayMs: 5, jitterMs: 1 }
 * ```
 *
 * @param args The arguments (without the program name).
 * @returns The settings.
 * @throws {CdfsError} USAGE naming what is missing or malformed.
 */
export function parseRelayArguments(args: readonly string[]): RelayProcessSettings {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: RELAY_OPTIONS,
    });
  } catch (e) {
    throw new CdfsError("USAGE", `relay: ${(e as Error).message}`);
  }
  const values = parsed.values;
  if (values.listen === undefined || values.target === undefined) {
    throw new CdfsError("USAGE", "relay: --listen HOST:PORT and --target HOST:PORT are required");
  }
  const toPeer: HoldSettings = {
    delayMs: values.delay === undefined ? 0 : parseDuration(values.delay, "--delay"),
    jitterMs: values.jitter === undefined ? 0 : parseDuration(values.jitter, "--jitter"),
  };
  checkHold(toPeer, "--delay/--jitter");
  const toTargetByPeer = new Map<string, HoldSettings>();
  for (const entry of values.peer ?? []) {
    const equals = entry.indexOf("=");
    if (equals <= 0) {
      throw new CdfsError(
        "USAGE",
        `relay: --peer ${JSON.stringify(entry)}: expected ADDRESS=D[:J]`,
      );
    }
    toTargetByPeer.set(entry.slice(0, equals), parseHold(entry.slice(equals + 1), "--peer"));
  }
  let maxBufferedBytes: number | undefined;
  if (values["max-buffered"] !== undefined) {
    maxBufferedBytes = Number(values["max-buffered"]);
    if (!/^[0-9]+$/.test(values["max-buffered"]) || maxBufferedBytes < 65536) {
      throw new CdfsError("USAGE", "relay: --max-buffered must be a number of bytes >= 65536");
    }
  }
  const peerDefault = values["peer-default"];
  return {
    relay: {
      listen: parseNodeAddress(values.listen, { what: "--listen", allowPortZero: true }),
      target: parseNodeAddress(values.target, { what: "--target" }),
      toPeer,
      ...(toTargetByPeer.size > 0 ? { toTargetByPeer } : {}),
      ...(peerDefault !== undefined
        ? { toTargetDefault: parseHold(peerDefault, "--peer-default") }
        : {}),
      ...(values.local !== undefined ? { localAddresses: values.local } : {}),
      ...(maxBufferedBytes !== undefined ? { maxBufferedBytes } : {}),
    },
    exitWithStdin: values["exit-with-stdin"] === true,
  };
}

/**
 * What {@linkcode runRelayProcess} needs of its process.
 *
 * @example
 * ```ts
 * import type { RelayProcessIo } from "./relay_main.ts";
 * const io: RelayProcessIo = { out: () => {} };
 * ```
 */
export interface RelayProcessIo {
  /** Writes a line of standard output (the `listening` line). */
  out(text: string): void;
  /** Standard input, read (and discarded) only to notice its end. */
  readonly stdin?: { read(view: Uint8Array): Promise<number | null> };
  /** Stops the relay when aborted (besides the signals). */
  readonly signal?: AbortSignal;
}

/**
 * Runs a relay until SIGINT/SIGTERM, the abort signal, or (with `--exit-with-stdin`) the end of
 * standard input.
 *
 * @example
 * Not run by `deno test --doc`: it starts or stops the processes of a cluster.
 * ```ts ignore
 * import { runRelayProcess } from "./relay_main.ts";
 * const args = ["--listen", "127.0.0.1:0", "--target", "127.0.0.1:13100", "--delay", "1ms"];
 * const code = await runRelayProcess(args, { out: (text) => void text });
 * ```
 *
 * @param args The arguments (see the module documentation).
 * @param io Standard output, standard input, an abort signal.
 * @returns The exit code, 0.
 * @throws {CdfsError} USAGE for bad arguments, UNAVAILABLE when it cannot listen.
 */
export async function runRelayProcess(
  args: readonly string[],
  io: RelayProcessIo,
): Promise<number> {
  const settings = parseRelayArguments(args);
  let relay: DelayRelay;
  try {
    relay = DelayRelay.listen(settings.relay);
  } catch (e) {
    throw new CdfsError(
      "UNAVAILABLE",
      `relay: cannot listen on ${formatNodeAddress(settings.relay.listen)}: ${
        (e as Error).message
      }`,
    );
  }
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stop();
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  io.signal?.addEventListener("abort", onSignal, { once: true });
  if (io.signal?.aborted) stop();
  if (settings.exitWithStdin && io.stdin !== undefined) watchForEnd(io.stdin).then(stop, stop);
  try {
    try {
      await relay.ready;
      io.out(`listening ${formatNodeAddress(relay.addr)}\n`);
      await stopped;
    } finally {
      io.signal?.removeEventListener("abort", onSignal);
      await relay.close();
    }
    io.out(`stats ${JSON.stringify(relay.stats)}\n`);
  } finally {
    // Only now: a signal with no listener kills the process, and a launcher may well send
    // SIGTERM while the relay is already stopping (its standard input ended first).
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  }
  return 0;
}

async function watchForEnd(stdin: { read(view: Uint8Array): Promise<number | null> }) {
  const scratch = new Uint8Array(256);
  while (await stdin.read(scratch) !== null) {
    // The launcher sends nothing; whatever comes is ignored.
  }
}

function parseHold(text: string, what: string): HoldSettings {
  const [delay, jitter, ...rest] = text.split(":");
  if (delay === undefined || rest.length > 0) {
    throw new CdfsError("USAGE", `relay: ${what} ${JSON.stringify(text)}: expected DELAY[:JITTER]`);
  }
  const hold = {
    delayMs: parseDuration(delay, what),
    jitterMs: jitter === undefined ? 0 : parseDuration(jitter, what),
  };
  checkHold(hold, what);
  return hold;
}

function checkHold(hold: HoldSettings, what: string): void {
  if (hold.jitterMs > hold.delayMs) {
    throw new CdfsError("USAGE", `relay: ${what}: the jitter must not exceed the delay`);
  }
}

function holdText(hold: HoldSettings): string {
  return `${duration(hold.delayMs)}:${duration(hold.jitterMs)}`;
}

/** Microseconds: exact for every delay a person types, and no exponent notation. */
function duration(ms: number): string {
  return `${Math.round(ms * 1000)}us`;
}

if (import.meta.main) {
  const encoder = new TextEncoder();
  const write = (target: typeof Deno.stdout, text: string) => {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += target.writeSync(bytes.subarray(written));
  };
  try {
    Deno.exit(
      await runRelayProcess(Deno.args, {
        out: (text) => write(Deno.stdout, text),
        stdin: Deno.stdin,
      }),
    );
  } catch (e) {
    const message = (e as Error).message;
    write(Deno.stderr, e instanceof CdfsError ? `${message}\n` : `relay: ${message}\n`);
    Deno.exit(e instanceof CdfsError && e.code === "USAGE" ? 2 : 1);
  }
}
