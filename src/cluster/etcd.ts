/**
 * etcd server processes on loopback: for `cdfs cluster up --etcd` (one member, the cluster's
 * metadata store) and for the tests of the etcd backend (several members, killed and
 * restarted). The binary is Debian's `etcd-server` (`/usr/bin/etcd`) or `$CDFS_ETCD`.
 *
 * A member listens on loopback only, keeps its data in a directory of its own and writes its
 * log to a file (`--log-outputs`): a member that outlives its launcher (`cluster up --detach`)
 * must not write to a pipe nobody reads, which would kill it with SIGPIPE.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";

/**
 * Where Debian's package puts the binary.
 */
export const DEBIAN_ETCD = "/usr/bin/etcd";

/**
 * Whether an etcd binary is usable here.
 *
 * @example
 * ```ts
 * import type { EtcdAvailability } from "./etcd.ts";
 * const none: EtcdAvailability = { found: false, reason: "no runnable etcd at /usr/bin/etcd" };
 * ```
 */
export type EtcdAvailability =
  | { readonly found: true; readonly binary: string; readonly version: string }
  | { readonly found: false; readonly reason: string };

/**
 * Looks for etcd: `$CDFS_ETCD`, else `/usr/bin/etcd`, and asks its version.
 *
 * @example
 * ```ts
 * import { findEtcd } from "./etcd.ts";
 * const etcd = await findEtcd((name) => Deno.env.get(name));
 * console.log(etcd.found ? etcd.version : etcd.reason);
 * ```
 *
 * @param env Reads an environment variable.
 * @returns The binary and its version, or why there is none.
 */
export async function findEtcd(
  env: (name: string) => string | undefined,
): Promise<EtcdAvailability> {
  const binary = env("CDFS_ETCD") || DEBIAN_ETCD;
  try {
    const out = await new Deno.Command(binary, { args: ["--version"], stderr: "null" }).output();
    if (out.success) {
      const text = new TextDecoder().decode(out.stdout);
      return { found: true, binary, version: /etcd Version: (\S+)/.exec(text)?.[1] ?? "unknown" };
    }
  } catch {
    // Not there, or not runnable: said below.
  }
  return {
    found: false,
    reason: `no runnable etcd at ${binary} (install Debian's etcd-server, or set CDFS_ETCD)`,
  };
}

/**
 * Free loopback ports, chosen by the kernel and closed again at once (the caller binds them
 * soon after; a port taken in between fails that start, which may then be retried).
 *
 * @example
 * ```ts
 * import { freeLoopbackPorts } from "./etcd.ts";
 * const [client, peer] = freeLoopbackPorts(2);
 * console.log(client !== peer); // true
 * ```
 *
 * @param count How many.
 * @returns The ports.
 */
export function freeLoopbackPorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => l.addr.port);
  for (const l of listeners) l.close();
  return ports;
}

/**
 * The settings of one etcd member.
 *
 * @example
 * ```ts
 * import type { EtcdMemberSpec } from "./etcd.ts";
 * const spec: EtcdMemberSpec = {
 *   name: "m0",
 *   dataDir: "/tmp/etcd/m0",
 *   clientUrl: "http://127.0.0.1:2379",
 *   peerUrl: "http://127.0.0.1:2380",
 *   initialCluster: "m0=http://127.0.0.1:2380",
 *   token: "cdfs-local",
 *   log: "/tmp/etcd/m0.log",
 * };
 * ```
 */
export interface EtcdMemberSpec {
  /** The member's name. */
  readonly name: string;
  /** Its data directory. */
  readonly dataDir: string;
  /** `http://127.0.0.1:PORT` for clients. */
  readonly clientUrl: string;
  /** `http://127.0.0.1:PORT` for the other members. */
  readonly peerUrl: string;
  /** `name=peerUrl,...` of every member. */
  readonly initialCluster: string;
  /** The cluster token, the same for every member (it seeds the cluster id). */
  readonly token: string;
  /** Its log file. */
  readonly log: string;
  /**
   * Short raft timings (50 ms heartbeat, 500 ms election): a killed leader is replaced in
   * about half a second, which tests of failures want. Default: etcd's own.
   */
  readonly fastElections?: boolean;
}

/**
 * The command line of a member (after the binary).
 *
 * @example
 * ```ts
 * import { etcdArguments } from "./etcd.ts";
 * const args = etcdArguments({
 *   name: "m0", dataDir: "/d/m0", clientUrl: "http://127.0.0.1:2379",
 *   peerUrl: "http://127.0.0.1:2380", initialCluster: "m0=http://127.0.0.1:2380",
 *   token: "t", log: "/d/m0.log",
 * });
 * console.log(args.slice(0, 4)); // [ "--name", "m0", "--data-dir", "/d/m0" ]
 * ```
 *
 * @param spec The member.
 * @returns The arguments.
 */
export function etcdArguments(spec: EtcdMemberSpec): string[] {
  return [
    "--name",
    spec.name,
    "--data-dir",
    spec.dataDir,
    "--listen-client-urls",
    spec.clientUrl,
    "--advertise-client-urls",
    spec.clientUrl,
    "--listen-peer-urls",
    spec.peerUrl,
    "--initial-advertise-peer-urls",
    spec.peerUrl,
    "--initial-cluster",
    spec.initialCluster,
    "--initial-cluster-state",
    "new",
    "--initial-cluster-token",
    spec.token,
    "--logger",
    "zap",
    "--log-outputs",
    spec.log,
    ...(spec.fastElections === true
      ? ["--heartbeat-interval", "50", "--election-timeout", "500"]
      : []),
  ];
}

/**
 * Whether a command line is that of an etcd member on `dataDir` (how a recorded pid is
 * checked before it is signalled).
 *
 * @example
 * ```ts
 * import { isEtcdOf } from "./etcd.ts";
 * console.log(isEtcdOf(["/usr/bin/etcd", "--name", "m0", "--data-dir", "/d/etcd"], "/d/etcd")); // true
 * ```
 *
 * @param argv A process's command line.
 * @param dataDir The member's data directory.
 * @returns Whether it is that member.
 */
export function isEtcdOf(argv: readonly string[], dataDir: string): boolean {
  const at = argv.indexOf("--data-dir");
  return /(^|\/)etcd$/.test(argv[0] ?? "") && at > 0 && argv[at + 1] === dataDir;
}

/**
 * Starts a member, in a session of its own (signals to the launcher's terminal are not its),
 * its output in its log file.
 *
 * @example
 * Not run by `deno test --doc`: it needs etcd.
 * ```ts ignore
 * import { spawnEtcd } from "./etcd.ts";
 * const child = spawnEtcd("/usr/bin/etcd", spec);
 * ```
 *
 * @param binary The etcd binary.
 * @param spec The member.
 * @returns The child process.
 */
export function spawnEtcd(binary: string, spec: EtcdMemberSpec): Deno.ChildProcess {
  return new Deno.Command(binary, {
    args: etcdArguments(spec),
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
}

/**
 * Waits until a member answers `/health` with `"true"` (it belongs to a cluster with a
 * leader).
 *
 * @example
 * Not run by `deno test --doc`: it needs etcd.
 * ```ts ignore
 * import { waitEtcdHealthy } from "./etcd.ts";
 * await waitEtcdHealthy("http://127.0.0.1:2379", 20_000, () => child.exited);
 * ```
 *
 * @param clientUrl The member's client URL.
 * @param timeoutMs How long to wait.
 * @param gone Says whether the process has exited (no use waiting then).
 * @throws {CdfsError} UNAVAILABLE when it exited or was not healthy in time.
 */
export async function waitEtcdHealthy(
  clientUrl: string,
  timeoutMs: number,
  gone: () => boolean = () => false,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (gone()) throw new CdfsError("UNAVAILABLE", `etcd at ${clientUrl} exited`);
    try {
      const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
      const body = await res.json() as { health?: string };
      if (body.health === "true") return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new CdfsError("UNAVAILABLE", `etcd at ${clientUrl} not healthy after ${timeoutMs} ms`);
}

/**
 * The last lines of a log file (for the message of a failed start).
 *
 * @example
 * Not run by `deno test --doc`: it needs etcd.
 * ```ts ignore
 * import { logTail } from "./etcd.ts";
 * console.log(await logTail("/tmp/etcd.log", 5));
 * ```
 *
 * @param path The file.
 * @param lines How many lines.
 * @returns The lines, or "" when the file cannot be read.
 */
export async function logTail(path: string, lines: number): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * A one-member etcd started by {@linkcode startEtcdMember}.
 *
 * @example
 * ```ts
 * import type { RunningEtcd } from "./etcd.ts";
 * const hosts = (etcd: RunningEtcd) => [etcd.clientUrl];
 * ```
 */
export interface RunningEtcd extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` for clients. */
  readonly clientUrl: string;
  /** Its process id (whose CPU time a benchmark counts). */
  readonly pid: number;
}

/**
 * Starts a one-member etcd on free loopback ports with its data in `dataDir` (its log beside
 * it), and waits until it is healthy. Disposing it kills it and removes the data: it is for a
 * run that needs an etcd of its own for a while (`cdfs bench namenode`), not for a cluster.
 *
 * @example
 * Not run by `deno test --doc`: it needs etcd.
 * ```ts ignore
 * import { findEtcd, startEtcdMember } from "./etcd.ts";
 * const etcd = await findEtcd((name) => Deno.env.get(name));
 * if (etcd.found) {
 *   await using member = await startEtcdMember(etcd.binary, "/tmp/bench-etcd");
 *   console.log(member.clientUrl);
 * }
 * ```
 *
 * @param binary The etcd binary.
 * @param dataDir Its data directory (created by etcd).
 * @returns The running member.
 * @throws {CdfsError} UNAVAILABLE, with the end of its log, when it does not become healthy.
 */
export async function startEtcdMember(binary: string, dataDir: string): Promise<RunningEtcd> {
  const [clientPort, peerPort] = freeLoopbackPorts(2);
  const spec: EtcdMemberSpec = {
    name: "bench",
    dataDir,
    clientUrl: `http://127.0.0.1:${clientPort}`,
    peerUrl: `http://127.0.0.1:${peerPort}`,
    initialCluster: `bench=http://127.0.0.1:${peerPort}`,
    token: `cdfs-bench-${crypto.randomUUID()}`,
    log: `${dataDir}.log`,
  };
  const child = spawnEtcd(binary, spec);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const dispose = async () => {
    if (!exited) child.kill("SIGKILL");
    await status;
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  try {
    await waitEtcdHealthy(spec.clientUrl, 30_000, () => exited);
  } catch (error) {
    await dispose();
    const tail = await logTail(spec.log, 3);
    throw new CdfsError(
      "UNAVAILABLE",
      `etcd did not start: ${(error as Error).message}` +
        (tail === "" ? "" : ` (its log ends: ${tail.replaceAll("\n", " | ")})`),
    );
  }
  return { clientUrl: spec.clientUrl, pid: child.pid, [Symbol.asyncDispose]: dispose };
}
