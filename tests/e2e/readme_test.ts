/**
 * The README's usage section runs as typed: its shell blocks, in order, as one bash script (with
 * `set -e`), in a fresh shell whose PATH has no `deno` and no `cdfs`, starting in the checkout as
 * a newcomer would after the two set-up commands. Nothing is rewritten in the commands; the test
 * only waits for a datanode that a block starts in the background before the next line talks to
 * it (a person typing needs no such wait), and tears down what the flow started if it fails.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const USAGE_HEADING = "## Using it";

/**
 * The `sh` blocks of the README section that starts with `heading`, in order.
 *
 * @param readme The README text.
 * @param heading The section's heading line.
 * @returns Each block's lines.
 */
function shellBlocks(readme: string, heading: string): string[][] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no section '${heading}'`);
  const next = readme.indexOf("\n## ", start + heading.length + 2);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trimEnd().split("\n"));
}

/**
 * The script: every line as written, plus a wait for the address of each `--listen` line that
 * runs in the background (`... &`).
 */
function flowScript(blocks: string[][]): string {
  // The trap stops what the flow left in the background (a datanode) when the script ends.
  const lines = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"];
  for (const line of blocks.flat()) {
    lines.push(line);
    const background = /--listen\s+(\S+).*&\s*(#.*)?$/.exec(line);
    if (background) {
      lines.push(
        `for _ in $(seq 150); do cdfs block ping --node ${
          background[1]
        } >/dev/null 2>&1 && break; ` +
          "sleep 0.2; done",
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * A private network namespace for the flow where this machine allows one (as root, or through a
 * user namespace): its own loopback, so the README's fixed port 13100 is never a port another
 * program on the machine holds. Elsewhere the flow runs on the machine's loopback.
 *
 * @returns The words to run `bash` under, and the line that brings the private loopback up.
 */
async function privateNetwork(): Promise<{ prefix: string[]; setup: string }> {
  for (const prefix of [["unshare", "--net"], ["unshare", "--map-root-user", "--net"]]) {
    try {
      const probe = await new Deno.Command(prefix[0]!, {
        args: [...prefix.slice(1), "ip", "link", "set", "lo", "up"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (probe.success) return { prefix, setup: "ip link set lo up" };
    } catch {
      // No unshare or no ip here: try the next way, then the shared loopback.
    }
  }
  return { prefix: [], setup: "" };
}

Deno.test("README: the usage section runs as typed after the two set-up commands", async () => {
  const readme = await Deno.readTextFile(`${REPO}README.md`);
  const blocks = shellBlocks(readme, USAGE_HEADING);
  assert.ok(blocks.length >= 2, "the usage section has its shell blocks");
  const flow = blocks.flat().join("\n");
  // What the flow must exercise (issue 10): the launcher, the code itself after the replicas
  // are gone, and a byte-for-byte check of the decoded copy.
  assert.match(flow, /export PATH="\$PWD\/bin:\$PATH"/);
  assert.match(flow, /--drop-replicas/);
  assert.match(flow, /cdfs cluster stop-node/);
  assert.match(flow, /cmp /);

  const scratch = await Deno.makeTempDir({ prefix: "cdfs-readme-" });
  const state = `${scratch}/state`;
  // A PATH a fresh machine has: system directories only, so neither deno nor cdfs is found
  // unless the README puts them there.
  const env = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: scratch,
    TMPDIR: scratch,
    CDFS_STATE_DIR: state,
    NO_COLOR: "1",
  };
  try {
    const before = await new Deno.Command("bash", {
      args: ["-c", "command -v deno cdfs || true"],
      env,
      clearEnv: true,
    }).output();
    assert.equal(new TextDecoder().decode(before.stdout).trim(), "", "PATH already had deno");

    const network = await privateNetwork();
    const [command = "bash", ...words] = [...network.prefix, "bash"];
    const output = await new Deno.Command(command, {
      args: [...words, "-c", `${network.setup}\n${flowScript(blocks)}`],
      cwd: REPO,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.ok(output.success, `the README flow failed:\n${text.slice(-4000)}`);
    // The story the flows tell: both decoded copies compared equal, the namenode saw the lost
    // datanodes (fsck exit 1), the repair rebuilt their blocks, and fsck was healthy after.
    assert.equal(text.match(/^identical$/gm)?.length, 2, "both decoded copies were compared");
    assert.match(text, /^fsck exit 1$/m, "fsck reported the lost datanodes");
    assert.match(text, /big\.iso: \d+ block cop(y|ies) rebuilt/, "the repair rebuilt blocks");
    assert.match(text, /^1 file: 1 healthy, 0 degraded, 0 lost$/m, "healthy after the repair");
  } finally {
    // A cluster the flow left running when it failed half-way (its state is in the private
    // state dir; background jobs were stopped by the script's trap).
    await new Deno.Command(`${REPO}bin/cdfs`, {
      args: ["cluster", "down", "--cluster", "lab"],
      env: { ...env, PATH: Deno.env.get("PATH") ?? "" },
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    await Deno.remove(scratch, { recursive: true }).catch(() => undefined);
  }
});
