/**
 * `cdfs cluster relay`: one delay relay of an emulated network (`src/emulation/relay_main.ts`) as
 * a sub-command of cdfs itself. A `deno compile`d cdfs cannot run `relay_main.ts` as a script,
 * so `cluster up --netns` then starts each node's relay as `cdfs cluster relay ARGS`
 * (`defaultRelayLauncher` of `src/emulation/node_relay.ts`). People do not run it: it is hidden
 * from `cdfs --help`.
 *
 * @module
 */
import { RELAY_OPTIONS, runRelayProcess } from "../emulation/relay_main.ts";
import { CdfsError } from "../core/errors.ts";
import type { Command, OptionDef, OptionSpec, ParsedArgs } from "./command.ts";

/**
 * `cluster relay` (hidden).
 */
export const clusterRelayCommand: Command = {
  name: "cluster relay",
  summary: "Run one delay relay of an emulated network (started by 'cluster up --netns')",
  usage: "cdfs cluster relay --listen HOST:PORT --target HOST:PORT [--delay D] [--jitter J] ...",
  description: [
    "Accepts connections on --listen and forwards each to --target, holding every chunk for",
    "the sender's link delay (see docs/netem.md). Prints 'listening HOST:PORT' once it listens",
    "and 'stats {JSON}' when it stops (SIGINT, SIGTERM, or with --exit-with-stdin the end of",
    "standard input). 'cluster up --netns' runs one in every node's namespace.",
  ].join("\n"),
  options: describeRelayOptions({
    listen: {
      value: "HOST:PORT",
      description: "where to accept connections (port 0: any free port)",
    },
    target: { value: "HOST:PORT", description: "where to forward them" },
    delay: { value: "D", description: "the hold of what the target sends back (e.g. 10ms, 500us)" },
    jitter: { value: "J", description: "± uniform jitter of --delay" },
    peer: { value: "ADDRESS=D[:J]", description: "the hold of what that peer sends to the target" },
    "peer-default": { value: "D[:J]", description: "the hold of what other peers send" },
    local: { value: "ADDRESS", description: "an address of the target's own node: no hold" },
    "max-buffered": {
      value: "BYTES",
      description: "the bound of bytes held per direction of a connection",
    },
    "exit-with-stdin": { description: "stop when standard input ends (its launcher died)" },
  }),
  arguments: [],
  examples: [
    "cdfs cluster relay --listen 127.0.0.1:0 --target 127.0.0.1:13100 --delay 1ms --jitter 100us",
  ],
  hidden: true,
  run: (ctx, args) => {
    if (args.positionals.length > 0) {
      throw new CdfsError("USAGE", `unexpected argument '${args.positionals[0]}'`);
    }
    return runRelayProcess(relayArgv(args), {
      out: ctx.out,
      ...(ctx.stdin === undefined ? {} : { stdin: ctx.stdin }),
    });
  },
};

/**
 * The relay's own option table (`RELAY_OPTIONS`, which its process parses) with the help of
 * each option: the keys must be exactly the relay's, so the two cannot drift apart.
 */
function describeRelayOptions(
  help: { [K in keyof typeof RELAY_OPTIONS]: Omit<OptionDef, "type" | "short" | "multiple"> },
): OptionSpec {
  const table: Record<string, OptionDef> = {};
  for (const [name, parse] of Object.entries(RELAY_OPTIONS)) {
    table[name] = { ...parse, ...help[name as keyof typeof RELAY_OPTIONS] };
  }
  return table;
}

/** The parsed options written back as the relay's own arguments (`--name=value` each). */
function relayArgv(args: ParsedArgs): string[] {
  const argv: string[] = [];
  for (const [name, value] of Object.entries(args.values)) {
    if (!(name in RELAY_OPTIONS)) continue; // --help, handled before run
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === true) argv.push(`--${name}`);
      else if (typeof item === "string") argv.push(`--${name}=${item}`);
    }
  }
  return argv;
}
