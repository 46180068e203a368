/**
 * `cdfs namenode serve`: a real process (its `listening` line, PING, its log, a clean stop on
 * SIGTERM), and the start errors, each one line with nothing printed before it: a bad or
 * unusable `--meta`, an etcd that does not answer, a busy port.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { NameNodeChild } from "../../src/cluster/namenode_process.ts";
import { selfLauncher, ServerChild } from "../../src/cluster/node_process.ts";
import { defaultNameNodeDir } from "../../src/cli/namenode.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { type CliRun, runCdfs } from "../helpers/cli.ts";

const launcher = selfLauncher((name) => Deno.env.get(name));

function assertOneErrorLine(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, run.err);
  assert.equal(run.out, "", "nothing on standard output, no 'listening' line");
  assert.match(run.err, /^cdfs: error: [^\n]+\n$/, "one line");
  assert.match(run.err, pattern);
}

Deno.test("namenode serve: a process that prints 'listening', answers PING, logs, stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-namenode-cli-" });
  try {
    const log = join(dir, "namenode.log");
    const namenode = NameNodeChild.spawn({
      launcher,
      listen: "127.0.0.1:0",
      meta: `sqlite:${join(dir, "meta.db")}`,
      log,
      args: ["--id", "nn-test", "--dead-after", "9s"],
    });
    try {
      const address = await namenode.ready(60_000);
      assert.match(address, /^127\.0\.0\.1:\d+$/);
      {
        using client = await NameNodeClient.connect(address);
        const pong = await client.ping();
        assert.deepEqual([pong.service, pong.id], ["namenode", "nn-test"]);
        const reply = await client.register({
          id: "dn0",
          address: "127.0.0.1:20000",
          capacity: 100,
          free: 50,
        });
        assert.equal(reply.deadAfterMs, 9000);
        assert.equal(reply.heartbeatIntervalMs, 3000);
      }
      namenode.child.kill("SIGTERM");
      assert.equal((await namenode.status).code, 0);
    } finally {
      if (!namenode.exited) namenode.child.kill("SIGKILL");
      await namenode.status;
    }
    const events = (await Deno.readTextFile(log)).trimEnd().split("\n")
      .map((line) => JSON.parse(line).event);
    assert.deepEqual(events, ["listening", "datanode-registered", "stopped"]);
    // The metadata outlives the process.
    assert.ok((await Deno.stat(join(dir, "meta.db"))).size > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("namenode serve: the SQLite file goes to --data DIR, by default to XDG's data directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-namenode-cli-" });
  try {
    const serve = async (args: string[], env: Record<string, string>) => {
      const child = ServerChild.spawnServer({
        launcher,
        args: ["namenode", "serve", "--listen", "127.0.0.1:0", "--log", join(dir, "log"), ...args],
        label: "namenode",
        env,
      });
      try {
        await child.serving(60_000);
        child.child.kill("SIGTERM");
        assert.equal((await child.status).code, 0);
      } finally {
        if (!child.exited) child.child.kill("SIGKILL");
        await child.status;
      }
    };
    await serve(["--data", join(dir, "nn")], {});
    assert.ok((await Deno.stat(join(dir, "nn", "meta.db"))).isFile);
    await serve([], { XDG_DATA_HOME: join(dir, "xdg") });
    assert.ok((await Deno.stat(join(dir, "xdg", "cdfs", "namenode", "meta.db"))).isFile);
    assert.equal(
      defaultNameNodeDir((name) => name === "HOME" ? "/home/ann" : undefined),
      "/home/ann/.local/share/cdfs/namenode",
    );
    assert.equal(defaultNameNodeDir(() => undefined), undefined);
    assertOneErrorLine(
      await runCdfs(["namenode", "serve", "--data", dir, "--meta", "sqlite:x.db"]),
      2,
      /give --meta or --data/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("namenode serve: start errors are one line, before anything is printed or left", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdfs-namenode-cli-" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const serve = (...args: string[]) =>
      runCdfs(["namenode", "serve", "--listen", "127.0.0.1:0", ...args]);
    assertOneErrorLine(
      await serve("--meta", "mysql://db"),
      2,
      /--meta "mysql:\/\/db": expected sqlite:PATH or etcd:URL/,
    );
    assertOneErrorLine(
      await serve("--meta", "etcd:127.0.0.1:2379"),
      2,
      /is not an etcd URL \(expected http:\/\/HOST:PORT\)/,
    );
    assertOneErrorLine(
      await serve("--meta", `sqlite:${dir}/no/such/dir/meta.db`),
      1,
      /cannot open metadata database \S+meta\.db: .* \(UNAVAILABLE\)$/m,
    );
    assertOneErrorLine(
      await serve("--meta", `sqlite:${dir}`),
      1,
      /cannot open metadata database .*\(UNAVAILABLE\)/,
    );
    assertOneErrorLine(
      await runCdfs([
        "namenode",
        "serve",
        "--listen",
        `127.0.0.1:${taken.addr.port}`,
        "--meta",
        `sqlite:${dir}/busy.db`,
      ]),
      1,
      /^cdfs: error: cannot listen on 127\.0\.0\.1:\d+: address already in use \(UNAVAILABLE\)$/m,
    );
    assertOneErrorLine(
      await serve(
        "--meta",
        `sqlite:${dir}/m.db`,
        "--dead-after",
        "2s",
        "--heartbeat-interval",
        "2s",
      ),
      2,
      /--heartbeat-interval 2000 ms must be shorter than --dead-after 2000 ms/,
    );
    assertOneErrorLine(
      await serve("--meta", `sqlite:${dir}/m.db`, "--dead-after", "soon"),
      2,
      /--dead-after "soon"/,
    );
    assertOneErrorLine(await serve("extra"), 2, /unexpected argument 'extra'/);
    // A busy port, a bad log or store left nothing behind.
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), []);
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "namenode serve: an etcd that does not answer is one line (after etcd's retry window)",
  // The etcd client retries an unreachable cluster for 15 s before it gives up.
  async fn() {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const run = await runCdfs([
      "namenode",
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--meta",
      `etcd:http://127.0.0.1:${port}`,
    ]);
    assertOneErrorLine(run, 1, new RegExp(`etcd http://127\\.0\\.0\\.1:${port} unreachable`));
  },
});
