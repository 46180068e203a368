import assert from "node:assert/strict";
import {
  findProcesses,
  isProcessRunning,
  processInfo,
  sendSignal,
  terminateProcesses,
  waitForExit,
} from "../../src/core/processes.ts";

/** Starts `sh -c SCRIPT MARKER`: the marker makes the command line unique to the test. */
function shell(
  script: string,
  stdin: "null" | "piped" = "null",
): { child: Deno.ChildProcess; marker: string } {
  const marker = `cdfs-processes-test-${crypto.randomUUID()}`;
  const child = new Deno.Command("sh", {
    args: ["-c", script, marker],
    stdin,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  return { child, marker };
}

/** Waits until the child prints its first line (its traps are set by then). */
async function firstLine(child: Deno.ChildProcess): Promise<void> {
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.ok(value !== undefined && value.length > 0, "the child printed nothing");
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
}

Deno.test("processes: /proc describes this process", () => {
  const self = processInfo(Deno.pid);
  assert.ok(self !== undefined);
  assert.equal(self.pid, Deno.pid);
  assert.match(self.startTime, /^\d+$/);
  assert.ok(self.argv.includes("test"), `argv ${self.argv.join(" ")}`);
  assert.ok(isProcessRunning(Deno.pid, self.startTime));
  // The same pid with another start time is another process.
  assert.equal(isProcessRunning(Deno.pid, String(Number(self.startTime) + 1)), false);
  assert.equal(processInfo(0), undefined);
  assert.equal(processInfo(-5), undefined);
  assert.equal(processInfo(2 ** 22 + 1), undefined); // above pid_max
});

Deno.test("processes: SIGTERM first, SIGKILL for what ignores it", async () => {
  const polite = shell("echo ready; exec sleep 30");
  // An ignored signal stays ignored across exec.
  const stubborn = shell("trap '' TERM; echo ready; exec sleep 30");
  await firstLine(polite.child);
  await firstLine(stubborn.child);
  const report = await terminateProcesses([polite.child.pid, stubborn.child.pid], 300);
  assert.deepEqual(report.terminated, [polite.child.pid]);
  assert.deepEqual(report.killed, [stubborn.child.pid]);
  assert.deepEqual(report.survivors, []);
  assert.equal((await polite.child.status).signal, "SIGTERM");
  assert.equal((await stubborn.child.status).signal, "SIGKILL");
  assert.equal(isProcessRunning(polite.child.pid), false);
  assert.equal(isProcessRunning(stubborn.child.pid), false);
});

Deno.test("processes: found by their command line", async () => {
  // `read` is a shell builtin: the shell blocks without forking, so one process has the marker.
  const waiting = shell("echo ready; read line", "piped");
  await firstLine(waiting.child);
  try {
    const found = findProcesses((argv) => argv.includes(waiting.marker));
    assert.deepEqual(found.map((p) => p.pid), [waiting.child.pid]);
    assert.deepEqual(found[0]!.argv.slice(-2), ["echo ready; read line", waiting.marker]);
    assert.deepEqual(findProcesses((argv) => argv.includes(`${waiting.marker}-not`)), []);
  } finally {
    await waiting.child.stdin.close(); // `read` gets end of file and the shell exits
    assert.equal((await waiting.child.status).code, 1);
  }
});

Deno.test("processes: waits end when the process exits or the time is up", async () => {
  const { child } = shell("echo ready; exec sleep 30");
  await firstLine(child);
  assert.deepEqual(await waitForExit([child.pid], 50), [child.pid]);
  assert.equal(sendSignal(child.pid, "SIGKILL"), true);
  assert.deepEqual(await waitForExit([child.pid], 5000), []);
  await child.status;
  // Signalling a process that is gone is not an error.
  assert.equal(sendSignal(child.pid, "SIGTERM"), false);
});
