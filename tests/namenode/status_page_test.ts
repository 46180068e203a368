/**
 * The status page in a real headless browser (Debian's chromium driven by puppeteer-core)
 * against real processes: a namenode serving `--http`, three datanodes, archived replicated
 * files. The page loads without console errors and shows the right node and file counts; after
 * a datanode is killed with SIGKILL it shows that node dead and its files degraded within a
 * refresh (a 2 s dead-after). The namenode repairs by itself (`--repair-delay 0s`), but the
 * three copies of a file cannot be rebuilt on three distinct datanodes while only two live, so
 * the degraded state stays until a fourth datanode joins (it is what the page is asserted to
 * show, not a race against the repair); then the page comes to every file healthy again, by
 * the repair alone, within a generous bound. Skipped, with the reason printed, only where no chromium is found
 * (`CDFS_CHROMIUM` names one elsewhere). With `CDFS_STATUS_SCREENSHOT=FILE` it saves a
 * screenshot (docs/status-page.png is made so).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import puppeteer, { type Page } from "puppeteer-core";
import { NameNodeChild } from "../../src/cluster/namenode_process.ts";
import { selfLauncher } from "../../src/cluster/node_process.ts";
import { NameNodeClient } from "../../src/namenode/client.ts";
import { runCdfs } from "../helpers/cli.ts";
import { DataNodeProcess } from "../helpers/datanode_process.ts";
import { waitFor } from "../helpers/wait.ts";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

function findChromium(): string | null {
  const named = Deno.env.get("CDFS_CHROMIUM");
  for (const path of named === undefined ? CANDIDATES : [named]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not there: the next one.
    }
  }
  return null;
}

const chromium = findChromium();
if (chromium === null) {
  // deno-lint-ignore no-console
  console.log(
    "status_page_test: skipped: no chromium at " + CANDIDATES.join(", ") +
      " (apt-get install chromium, or set CDFS_CHROMIUM)",
  );
}

async function text(page: Page, selector: string): Promise<string> {
  return await page.$eval(selector, (e) => e.textContent ?? "");
}

Deno.test({
  name: "status page in chromium: counts, a killed datanode dead and its files degraded, " +
    "then healthy after the automatic repair" +
    (chromium === null ? " (skipped: no chromium found)" : ""),
  ignore: chromium === null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cdfs-status-page-" });
    const log = join(dir, "namenode.log");
    const namenode = NameNodeChild.spawn({
      launcher: selfLauncher((name) => Deno.env.get(name)),
      listen: "127.0.0.1:0",
      meta: `sqlite:${join(dir, "meta.db")}`,
      log,
      args: [
        "--http",
        "127.0.0.1:0",
        "--dead-after",
        "2s",
        "--heartbeat-interval",
        "300ms",
        "--repair-delay",
        "0s",
      ],
    });
    const nodes: DataNodeProcess[] = [];
    const browser = await puppeteer.launch({
      executablePath: chromium!,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
    });
    try {
      const address = await namenode.ready(60_000);
      let http = "";
      await waitFor("the http-listening log line", async () => {
        const lines = (await Deno.readTextFile(log)).trimEnd().split("\n");
        http = lines.map((l) => JSON.parse(l)).find((r) => r.event === "http-listening")
          ?.address ?? "";
        return http !== "";
      }, 30_000);
      for (let i = 0; i < 3; i++) {
        nodes.push(
          await DataNodeProcess.start({ args: ["--id", `dn${i}`, "--namenode", address] }),
        );
      }
      using client = await NameNodeClient.connect(address);
      await waitFor("three live datanodes", async () => {
        const { datanodes } = await client.listDatanodes();
        return datanodes.filter((d) => d.state === "alive").length === 3;
      }, 30_000);
      const env = { CDFS_NAMENODE: address };
      const sample = join(dir, "sample.bin");
      await Deno.writeFile(sample, crypto.getRandomValues(new Uint8Array(3000)));
      for (const name of ["a.bin", "b.bin", "c.bin", "d.bin"]) {
        const put = await runCdfs(["put", "--code", "replication", sample, name], { env });
        assert.equal(put.code, 0, put.err);
        const archived = await runCdfs(["archive", name], { env });
        assert.equal(archived.code, 0, archived.err);
      }

      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warn") problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e}`));
      page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
      await page.setViewport({ width: 1200, height: 900 });
      const reply = await page.goto(`http://${http}/`, { waitUntil: "load" });
      assert.equal(reply?.status(), 200);
      assert.equal(await text(page, "#nodes-alive"), "3");
      assert.equal(await text(page, "#nodes-dead"), "0");
      assert.equal(await text(page, "#files-total"), "4");
      assert.equal(await text(page, "#files-healthy"), "4");

      // The victim: a datanode holding a copy of a.bin; every file with a copy on it degrades.
      const file = await client.getFile("a.bin");
      const victim = file.blocks.find((b) => b.state === "stored")!.node;
      const index = Number(victim.slice(2));
      const { files } = await client.fsck();
      assert.deepEqual(files.map((f) => f.status), ["healthy", "healthy", "healthy", "healthy"]);
      await nodes[index]!.kill("SIGKILL");
      // Within a refresh of the moment the namenode counts it dead (2 s of silence).
      await page.waitForFunction(
        `document.querySelector('tr[data-node="${victim}"]')?.getAttribute("data-state") === "dead"`,
        { timeout: 30_000, polling: 200 },
      );
      const expected = (await Promise.all(["a.bin", "b.bin", "c.bin", "d.bin"].map(async (n) =>
        (await client.getFile(n)).blocks.some((b) =>
          b.node === victim && b.state === "stored"
        )
      ))).filter((on) =>
        on
      ).length;
      assert.ok(expected >= 1);
      await page.waitForFunction(
        `document.getElementById("files-degraded")?.textContent === "${expected}"`,
        { timeout: 30_000, polling: 200 },
      );
      assert.equal(await text(page, "#nodes-alive"), "2");
      assert.equal(await text(page, "#nodes-dead"), "1");
      assert.equal(await text(page, "#files-healthy"), String(4 - expected));
      assert.equal(await text(page, "#files-lost"), "0");
      const shot = Deno.env.get("CDFS_STATUS_SCREENSHOT");
      if (shot !== undefined) await page.screenshot({ path: shot, fullPage: true });

      // A fourth datanode: its registration makes the waiting repairs due at once (not after a
      // backoff grown while no datanode could take the copies); they rebuild the lost copies on
      // it, and the page shows every file healthy, with no command typed.
      nodes.push(
        await DataNodeProcess.start({ args: ["--id", "dn3", "--namenode", address] }),
      );
      await page.waitForFunction(
        `document.getElementById("files-healthy")?.textContent === "4" && ` +
          `document.getElementById("files-degraded")?.textContent === "0"`,
        { timeout: 60_000, polling: 200 },
      );
      assert.equal(await text(page, "#nodes-alive"), "3");
      assert.equal(await text(page, "#nodes-dead"), "1");
      assert.equal(await text(page, "#files-lost"), "0");
      const { files: healed } = await client.fsck();
      assert.deepEqual(healed.map((f) => f.status), ["healthy", "healthy", "healthy", "healthy"]);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      for (const node of nodes) await node[Symbol.asyncDispose]();
      if (!namenode.exited) namenode.child.kill("SIGKILL");
      await namenode.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
