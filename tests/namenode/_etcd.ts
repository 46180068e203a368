/**
 * Test harness: real etcd servers (Debian's `etcd-server`, binary `/usr/bin/etcd`) on free
 * loopback ports, each in a temp data directory, for the etcd backend's tests and benchmark.
 *
 * ```ts
 * import { EtcdCluster, findEtcd } from "./_etcd.ts";
 * const etcd = await findEtcd();
 * if (etcd.found) {
 *   await using cluster = await EtcdCluster.start({ members: 3 });
 *   console.log(cluster.clientUrls); // ["http://127.0.0.1:PORT", ...]
 *   await cluster.members[0]!.kill(); // a member crashes; the other two keep a quorum
 * }
 * ```
 *
 * {@linkcode findEtcd} looks for the binary and, when it is missing on a Debian machine where
 * we are root, installs `etcd-server` once; the tests skip (saying why in their names) only
 * when that fails. Members use short raft timings (50 ms heartbeat, 500 ms election) so a
 * killed leader is replaced in about half a second. Disposing the cluster kills every member
 * it started and removes the data directories. The command lines, the health wait and the
 * search for the binary are those of `cdfs cluster up --etcd` (src/cluster/etcd.ts).
 *
 * @module
 */
import {
  DEBIAN_ETCD,
  type EtcdAvailability,
  type EtcdMemberSpec,
  findEtcd as findEtcdBinary,
  freeLoopbackPorts,
  logTail,
  spawnEtcd,
  waitEtcdHealthy,
} from "../../src/cluster/etcd.ts";

export type { EtcdAvailability };

let availability: Promise<EtcdAvailability> | undefined;

/**
 * Finds etcd (installing Debian's `etcd-server` when missing, as root, once per process).
 *
 * @example
 * ```ts
 * import { findEtcd } from "./_etcd.ts";
 * const etcd = await findEtcd();
 * console.log(etcd.found ? etcd.version : etcd.reason);
 * ```
 *
 * @returns The binary and its version, or why there is none.
 */
export function findEtcd(): Promise<EtcdAvailability> {
  availability ??= locate();
  return availability;
}

async function locate(): Promise<EtcdAvailability> {
  const env = (name: string) => Deno.env.get(name);
  const found = await findEtcdBinary(env);
  if (found.found || (env("CDFS_ETCD") ?? "") !== "") return found;
  const installed = await installDebianEtcd();
  if (installed !== undefined) return { found: false, reason: installed };
  return await findEtcdBinary(env);
}

/** Installs etcd-server; returns why it could not, or undefined on success. */
async function installDebianEtcd(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "etcd not installed and not root (apt-get install etcd-server)";
  try {
    await Deno.stat("/usr/bin/apt-get");
  } catch {
    return "etcd not installed and no apt-get here";
  }
  const run = (args: string[]) =>
    new Deno.Command("apt-get", {
      args,
      stdout: "null",
      stderr: "null",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
  if (!(await run(["install", "-y", "-qq", "etcd-server"])).success) {
    await run(["update", "-qq"]);
    if (!(await run(["install", "-y", "-qq", "etcd-server"])).success) {
      return "etcd not installed and apt-get install etcd-server failed";
    }
  }
  return undefined;
}

/**
 * One etcd server process.
 *
 * @example
 * ```ts
 * import { EtcdCluster } from "./_etcd.ts";
 * await using cluster = await EtcdCluster.start();
 * const member = cluster.members[0]!;
 * await member.restart(); // same data, same ports
 * ```
 */
export class EtcdMember {
  /** The member's name (`m0`, `m1`, ...). */
  readonly name: string;
  /** `http://127.0.0.1:PORT` for clients. */
  readonly clientUrl: string;
  /** `http://127.0.0.1:PORT` for peers. */
  readonly peerUrl: string;
  /** Its data directory. */
  readonly dataDir: string;
  /** Its log file (beside the data directory). */
  readonly log: string;
  #binary = DEBIAN_ETCD;
  #spec: EtcdMemberSpec | undefined;
  #child: Deno.ChildProcess | undefined;
  #exited = false;

  /**
   * @param name The member's name.
   * @param clientPort Its client port.
   * @param peerPort Its peer port.
   * @param dataDir Its data directory.
   */
  constructor(name: string, clientPort: number, peerPort: number, dataDir: string) {
    this.name = name;
    this.clientUrl = `http://127.0.0.1:${clientPort}`;
    this.peerUrl = `http://127.0.0.1:${peerPort}`;
    this.dataDir = dataDir;
    this.log = `${dataDir}.log`;
  }

  /** Whether the process is running (as far as we know). */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /**
   * Starts the process.
   *
   * @param binary The etcd binary.
   * @param initialCluster `name=peerUrl,...` of every member.
   * @param token The cluster token, the same for every member (it seeds the cluster id).
   */
  launch(binary: string, initialCluster: string, token: string): void {
    this.#binary = binary;
    this.#spec = {
      name: this.name,
      dataDir: this.dataDir,
      clientUrl: this.clientUrl,
      peerUrl: this.peerUrl,
      initialCluster,
      token,
      log: this.log,
      fastElections: true,
    };
    this.#spawn();
  }

  #spawn(): void {
    const child = spawnEtcd(this.#binary, this.#spec!);
    this.#child = child;
    this.#exited = false;
    void child.status.then(() => {
      if (this.#child === child) this.#exited = true;
    });
  }

  /**
   * The last lines of its log (for failure messages).
   *
   * @param lines How many.
   * @returns The lines.
   */
  logTail(lines = 20): Promise<string> {
    return logTail(this.log, lines);
  }

  /**
   * Waits until the member answers `/health` (it has joined a cluster with a leader).
   *
   * @param timeoutMs How long to wait.
   * @throws {Error} With the log tail when it does not come up in time.
   */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    try {
      await waitEtcdHealthy(this.clientUrl, timeoutMs, () => this.#exited);
    } catch (error) {
      throw new Error(
        `etcd member ${this.name}: ${(error as Error).message}:\n${await this.logTail()}`,
      );
    }
  }

  /** Kills the process (SIGKILL: a crash) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
  }

  /** Starts it again on the same data directory and ports, and waits until healthy. */
  async restart(): Promise<void> {
    await this.kill();
    this.#spawn();
    await this.waitHealthy();
  }
}

/**
 * Options of {@linkcode EtcdCluster.start}.
 *
 * @example
 * ```ts
 * import type { EtcdClusterOptions } from "./_etcd.ts";
 * const options: EtcdClusterOptions = { members: 3 };
 * ```
 */
export interface EtcdClusterOptions {
  /** How many members (default 1). */
  readonly members?: number;
}

/**
 * One or more etcd members forming a cluster on loopback.
 *
 * @example
 * ```ts
 * import { EtcdCluster } from "./_etcd.ts";
 * await using cluster = await EtcdCluster.start({ members: 3 });
 * await (await cluster.leader())?.kill();
 * ```
 */
export class EtcdCluster {
  /** The members. */
  readonly members: readonly EtcdMember[];
  readonly #root: string;

  private constructor(members: EtcdMember[], root: string) {
    this.members = members;
    this.#root = root;
  }

  /** Every member's client URL. */
  get clientUrls(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  /**
   * Starts the members and waits until every one is healthy. Retries with new ports if one
   * was taken between choosing it and etcd binding it.
   *
   * @param options How many members.
   * @returns The cluster.
   * @throws {Error} When etcd is not available or does not start.
   */
  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const etcd = await findEtcd();
    if (!etcd.found) throw new Error(etcd.reason);
    const count = options.members ?? 1;
    let lastError: unknown;
    for (let tries = 0; tries < 3; tries++) {
      const root = await Deno.makeTempDir({ prefix: "cdfs-etcd-" });
      const ports = freeLoopbackPorts(2 * count);
      const members = Array.from(
        { length: count },
        (_, i) => new EtcdMember(`m${i}`, ports[2 * i]!, ports[2 * i + 1]!, `${root}/m${i}`),
      );
      const initial = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
      for (const m of members) m.launch(etcd.binary, initial, `cdfs-test-${root}`);
      const cluster = new EtcdCluster(members, root);
      try {
        await Promise.all(members.map((m) => m.waitHealthy()));
        return cluster;
      } catch (error) {
        lastError = error;
        await cluster[Symbol.asyncDispose]();
      }
    }
    throw lastError;
  }

  /**
   * The member that is the raft leader now (asked over the v3 HTTP gateway).
   *
   * @returns The leader, or undefined when no member answers.
   */
  async leader(): Promise<EtcdMember | undefined> {
    for (const m of this.members.filter((m) => m.running)) {
      try {
        const res = await fetch(`${m.clientUrl}/v3/maintenance/status`, {
          method: "POST",
          body: "{}",
          signal: AbortSignal.timeout(1000),
        });
        const body = await res.json() as { leader?: string; header?: { member_id?: string } };
        if (body.leader !== undefined && body.leader === body.header?.member_id) return m;
      } catch {
        // Try the next member.
      }
    }
    return undefined;
  }

  /** Kills every member and removes the data. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    await Deno.remove(this.#root, { recursive: true }).catch(() => {});
  }
}
