/**
 * `cdfs cluster up --netns` end to end: the nodes in their namespaces behind relays, reachable
 * from the hub namespace, and `cluster down` removing every namespace, process and state. That
 * part needs root and `ip netns`; elsewhere it is listed as ignored with the reason in its name.
 * The refusal without support and the option checks run everywhere.
 *
 * The cluster is named after this process (`nc<pid>`) and lives in a state directory of its
 * own, so clusters of others on the machine are never touched.
 */
import assert from "node:assert/strict";
import { netnsLinks } from "../../src/cli/cluster.ts";
import { listNamespaces, namespacePids, netnsSupport } from "../../src/cluster/netns.ts";
import { namespaceLauncher } from "../../src/cluster/netns_cluster.ts";
import { isCdfsError } from "../../src/errors.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ENV = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" };
const support = await netnsSupport();
const skipped = support.ok ? "" : ` (skipped: ${support.reason})`;

/** Runs `cdfs ARGS`, inside `namespace` when given; resolves to its code and output. */
async function cdfs(
  args: string[],
  namespace?: string,
): Promise<{ code: number; out: string; err: string }> {
  const words = ["run", "-A", MAIN, ...args];
  const command = namespace === undefined
    ? new Deno.Command(Deno.execPath(), { args: words, env: ENV, stdin: "null" })
    : new Deno.Command("ip", {
      args: ["netns", "exec", namespace, Deno.execPath(), ...words],
      env: ENV,
      stdin: "null",
    });
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

/** Whether process `pid` exists (and is not a zombie). */
function isRunning(pid: number): boolean {
  try {
    return !/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Whether any process's command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (argv.includes(text)) pids.push(Number(entry.name));
    } catch {
      // It exited meanwhile.
    }
  }
  return pids;
}

Deno.test("cluster up --netns: without support it refuses in one line naming the reason", async () => {
  const args = { values: { netns: true, rate: "100mbit" }, positionals: [] };
  await assert.rejects(
    netnsLinks(args, 3, () => Promise.resolve({ ok: false, reason: "it needs root (uid 1000)" })),
    (e) =>
      isCdfsError(e, "UNAVAILABLE") && !(e as Error).message.includes("\n") &&
      (e as Error).message.includes("--netns") &&
      (e as Error).message.includes("it needs root (uid 1000)"),
  );
});

Deno.test("cluster up --netns: link options are checked, and need --netns", async () => {
  const ok = () => Promise.resolve({ ok: true as const });
  assert.equal(await netnsLinks({ values: {}, positionals: [] }, 3, ok), undefined);
  await assert.rejects(
    netnsLinks({ values: { delay: "5ms" }, positionals: [] }, 3, ok),
    (e) => isCdfsError(e, "USAGE") && (e as Error).message.includes("--netns"),
  );
  await assert.rejects(
    netnsLinks({ values: { netns: true, rate: "fast" }, positionals: [] }, 3, ok),
    (e) => isCdfsError(e, "USAGE"),
  );
  const links = await netnsLinks(
    {
      values: { netns: true, rate: "100mbit", delay: "5ms", congest: "34%:10mbit:50ms" },
      positionals: [],
    },
    3,
    ok,
  );
  assert.equal(links?.length, 3);
  assert.equal(links!.filter((l) => l.congested).length, 1);
  assert.ok(
    links!.every((l) =>
      l.congested || (l.link.delayMs === 5 && l.link.rateBitsPerSecond === 100e6)
    ),
  );
});

Deno.test("cluster up --netns: a node's launcher runs cdfs through ip netns exec", () => {
  const launcher = namespaceLauncher({ command: "/bin/cdfs", args: ["x"] }, "cdfs-c-n2");
  assert.match(launcher.command, /(^|\/)ip$/);
  assert.deepEqual(launcher.args, ["netns", "exec", "cdfs-c-n2", "/bin/cdfs", "x"]);
});

Deno.test({
  name: `cluster up --netns: nodes answer PING from the hub; down leaves nothing${skipped}`,
  ignore: !support.ok,
  async fn() {
    const name = `nc${Deno.pid}`;
    const stateDir = await Deno.makeTempDir({ prefix: "cdfs-netns-state-" });
    const dataDir = await Deno.makeTempDir({ prefix: "cdfs-netns-data-" });
    const state = ["--state-dir", stateDir];
    try {
      const up = await cdfs([
        "cluster",
        "up",
        "--netns",
        "--nodes",
        "3",
        "--rate",
        "100mbit",
        "--delay",
        "5ms",
        "--detach",
        "--json",
        "--name",
        name,
        "--data",
        dataDir,
        ...state,
      ]);
      assert.equal(up.code, 0, up.err);
      const { clusterFile, cluster } = JSON.parse(up.out);
      const hub = `cdfs-${name}-hub`;
      assert.equal(cluster.network.hub, hub);
      assert.deepEqual(
        cluster.nodes.map((n: { address: string }) => n.address.split(":")[0]),
        ["10.213.0.10", "10.213.0.11", "10.213.0.12"],
      );
      assert.equal((await listNamespaces(name)).length, 4);

      for (const node of cluster.nodes as { address: string; id: string }[]) {
        const ping = await cdfs(["ping", "--node", node.address, "--json"], hub);
        assert.equal(ping.code, 0, ping.err);
        assert.equal(JSON.parse(ping.out).node, node.id);
      }
      // Every DataNode and relay of the cluster runs inside its namespaces.
      const inside = (await Promise.all(
        (await listNamespaces(name)).map((ns) => namespacePids(ns.name)),
      )).flat();
      assert.ok(inside.length >= 6, `${inside.length} processes in the namespaces`);

      const down = await cdfs(["cluster", "down", "--cluster", clusterFile, ...state]);
      assert.equal(down.code, 0, down.err);
      assert.deepEqual(await listNamespaces(name), []);
      assert.deepEqual(processesMentioning(dataDir), []);
      assert.deepEqual(inside.filter((pid) => isRunning(pid)), []);
      assert.deepEqual([...Deno.readDirSync(stateDir)], []);
    } finally {
      await cdfs(["cluster", "clean", "--all", ...state]);
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
