/**
 * Running the iproute2 tools (`ip`, `tc`) of the emulated networks, and commands inside one of
 * their namespaces (`ip netns exec`).
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { parseNamespaceName } from "./netns_names.ts";

/**
 * Options of {@linkcode runInNamespace}: those of `Deno.Command` that make sense here.
 *
 * @example
 * ```ts
 * import type { NamespaceCommandOptions } from "./netns_tools.ts";
 * const options: NamespaceCommandOptions = { stdout: "piped", stderr: "inherit" };
 * ```
 */
export type NamespaceCommandOptions = Pick<
  Deno.CommandOptions,
  "cwd" | "env" | "clearEnv" | "stdin" | "stdout" | "stderr" | "signal" | "detached"
>;

/**
 * Starts a command inside one of our namespaces (`ip netns exec NAME COMMAND ARGS`), e.g. a
 * DataNode or a relay. `ip` replaces itself with the command, so the child's pid is the
 * command's, and `cleanNetworks` (`netns_clean.ts`) finds it through the namespace even when the
 * process that started it is gone.
 *
 * @example
 * Not run by `deno test --doc`: it needs root (network namespaces).
 * ```ts ignore
 * import { runInNamespace } from "./netns_tools.ts";
 * const child = runInNamespace("cdfs-demo-n0", Deno.execPath(), ["run", "-A", "main.ts", "datanode", "serve"], {
 *   stdout: "piped",
 * });
 * ```
 *
 * @param namespace One of our namespace names ({@linkcode parseNamespaceName}).
 * @param command The program.
 * @param args Its arguments.
 * @param options Standard streams, environment, working directory, abort signal.
 * @returns The child process.
 * @throws {CdfsError} USAGE when `namespace` is not one of ours; UNAVAILABLE when `ip` is
 * missing.
 */
export function runInNamespace(
  namespace: string,
  command: string,
  args: readonly string[],
  options: NamespaceCommandOptions = {},
): Deno.ChildProcess {
  if (parseNamespaceName(namespace) === undefined) {
    throw new CdfsError("USAGE", `${JSON.stringify(namespace)} is not a cdfs namespace`);
  }
  return spawnTool("ip", ["netns", "exec", namespace, command, ...args], options);
}

/** Where the iproute2 tools may be when `PATH` lacks the sbin directories (not root's shell). */
const TOOL_DIRECTORIES = ["", "/usr/sbin/", "/sbin/"];

/**
 * Starts `ip` or `tc`, looked for on `PATH` and then in the sbin directories.
 *
 * @example
 * Not run by `deno test --doc`: it runs `ip`, which may be missing here.
 * ```ts ignore
 * import { spawnTool } from "./netns_tools.ts";
 * const child = spawnTool("ip", ["netns", "list"], { stdout: "piped" });
 * console.log((await child.output()).success);
 * ```
 *
 * @param tool `ip` or `tc`.
 * @param args Its arguments.
 * @param options Standard streams and the rest of `Deno.Command`'s options.
 * @returns The child process.
 * @throws {CdfsError} UNAVAILABLE when the tool is missing or may not be run.
 */
export function spawnTool(
  tool: "ip" | "tc",
  args: readonly string[],
  options: Deno.CommandOptions,
): Deno.ChildProcess {
  for (const directory of TOOL_DIRECTORIES) {
    try {
      return new Deno.Command(directory + tool, { ...options, args: [...args] }).spawn();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new CdfsError("UNAVAILABLE", `running '${tool}' needs --allow-run: ${e.message}`);
      }
      throw e;
    }
  }
  throw new CdfsError(
    "UNAVAILABLE",
    `'${tool}' was not found: install iproute2 (apt-get install -y iproute2)`,
  );
}

/**
 * Runs `ip` or `tc` to its end and returns what it printed.
 *
 * @example
 * Not run by `deno test --doc`: it runs `ip`, which may be missing here.
 * ```ts ignore
 * import { runTool } from "./netns_tools.ts";
 * console.log(await runTool("ip", ["netns", "list"]));
 * ```
 *
 * @param tool `ip` or `tc`.
 * @param args Its arguments.
 * @returns Its standard output.
 * @throws {CdfsError} UNAVAILABLE naming the command and its error when it fails.
 */
export async function runTool(tool: "ip" | "tc", args: readonly string[]): Promise<string> {
  const child = spawnTool(tool, args, { stdin: "null", stdout: "piped", stderr: "piped" });
  const output = await child.output();
  const decoder = new TextDecoder();
  if (!output.success) {
    const stderr = decoder.decode(output.stderr).trim().replaceAll("\n", " / ");
    throw new CdfsError(
      "UNAVAILABLE",
      `'${tool} ${args.join(" ")}' failed: ${stderr || `exit code ${output.code}`}`,
    );
  }
  return decoder.decode(output.stdout);
}
