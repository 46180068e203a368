import assert from "node:assert/strict";
import { classifySample, type Frame, parsePerfScript } from "../../../bench/common/perf_profile.ts";

const K = "[kernel.kallsyms]";
const MAP = "/tmp/perf-7.map";
const DENO = "/usr/bin/deno";

const js = (name: string, file: string): Frame => ({
  symbol: `JS:*${name} file:///w/p/${file}:10:3`,
  dso: MAP,
});

Deno.test("perf profile: a kernel sample goes by its kernel frames, sockets before disk", () => {
  // A write(2) on a socket passes vfs_write too: the socket frames decide.
  assert.equal(
    classifySample([
      { symbol: "copy_user_generic", dso: K },
      { symbol: "tcp_sendmsg_locked", dso: K },
      { symbol: "sock_write_iter", dso: K },
      { symbol: "vfs_write", dso: K },
      { symbol: "[unknown]", dso: DENO },
    ]),
    "socket I/O (kernel)",
  );
  assert.equal(
    classifySample([
      { symbol: "memcpy_orig", dso: K },
      { symbol: "generic_perform_write", dso: K },
      { symbol: "ext4_buffered_write_iter", dso: K },
      { symbol: "vfs_write", dso: K },
      js("write", "src/store/file_io.ts"),
    ]),
    "disk (kernel)",
  );
  assert.equal(
    classifySample([{ symbol: "schedule", dso: K }, { symbol: "futex_wait", dso: K }]),
    "other kernel (scheduling, faults, syscalls)",
  );
});

Deno.test("perf profile: user code goes by the innermost JavaScript frame of ours", () => {
  // A WebAssembly kernel is known by its caller's module.
  const wasm: Frame = { symbol: "JS:wasm-function[2]-2-turbofan", dso: MAP };
  assert.equal(classifySample([wasm, js("mulAdd", "src/gf/region_wasm.ts")]), "GF arithmetic");
  assert.equal(
    classifySample([wasm, js("update", "src/checksum/checksum.ts"), js("f", "src/gf/x.ts")]),
    "checksums",
  );
  assert.equal(
    classifySample([
      { symbol: "[unknown]", dso: DENO },
      js("readFrame", "src/protocol/connection.ts"),
    ]),
    "framing and sockets (JS)",
  );
  assert.equal(classifySample([js("commit", "src/store/block_writer.ts")]), "block store (JS)");
  assert.equal(
    classifySample([js("step", "src/coding/runtime/program_run.ts")]),
    "interpreter (JS)",
  );
  assert.equal(classifySample([js("main", "bench/coding/bare_movement.ts")]), "other JS");
  // ISA-L's kernels through FFI are GF arithmetic, with no JavaScript frame unwound (the
  // runtime has no frame pointers) or under any caller.
  const isal = {
    symbol: "gf_6vect_dot_prod_avx512",
    dso: "/usr/lib/x86_64-linux-gnu/libisal.so.2.0.30",
  };
  assert.equal(classifySample([isal]), "GF arithmetic");
  assert.equal(classifySample([isal, js("dotProduct", "src/gf/region_isal.ts")]), "GF arithmetic");
  // No frame of ours: Deno's own code, V8 (GC), libc.
  assert.equal(
    classifySample([{ symbol: "[unknown]", dso: DENO }, {
      symbol: "JS:~ext:core/01_core.js",
      dso: MAP,
    }]),
    "runtime (Deno, V8, GC, libc)",
  );
  assert.equal(classifySample([]), "runtime (Deno, V8, GC, libc)");
});

Deno.test("perf profile: perf script output parses into stacks by pid", () => {
  const text = [
    "7 ",
    "\tffffffff81a0 tcp_sendmsg ([kernel.kallsyms])",
    "\t7f00 JS:*write file:///w/p/src/protocol/timed_socket.ts:1:1 (/tmp/perf-7.map)",
    "",
    "8 ",
    "\t1d99 [unknown] (/usr/bin/deno)",
    "",
  ].join("\n");
  const samples = parsePerfScript(text);
  assert.equal(samples.length, 2);
  assert.deepEqual(samples[0], {
    pid: 7,
    stack: [
      { symbol: "tcp_sendmsg", dso: K },
      { symbol: "JS:*write file:///w/p/src/protocol/timed_socket.ts:1:1", dso: MAP },
    ],
  });
  assert.deepEqual(samples[1], { pid: 8, stack: [{ symbol: "[unknown]", dso: DENO }] });
});
