/**
 * A valid coding module touching every feature of the language (stream sources, remote blocks,
 * PUSH/POP, lists), as plain JSON: a fresh copy on every call, for tests that break it.
 *
 * @module
 */

/** The module, fresh on every call. */
// deno-lint-ignore no-explicit-any
export function chainModuleJson(): Record<string, any> {
  return {
    name: "chain",
    description: "a three-node chain",
    field: 8,
    n: 3,
    k: 2,
    parts: [{ block: "{id}.part0", nodes: [0, 1] }, { block: "{id}.part1", nodes: [2] }],
    coded: [
      { block: "{id}.coded0", node: 0 },
      { block: "{id}.coded1", node: 1 },
      { block: "{id}.coded2", node: 2 },
    ],
    encode: ["enc2"],
    programs: {
      enc0: {
        node: 0,
        streams: [{ name: "part0", read: { block: "{id}.part0" } }, {
          name: "coded0",
          write: "{id}.coded0",
        }],
        output: "stream",
        instructions: [
          ["LOAD", "temp", "part0"],
          ["MULT", "stream", 129, "temp"],
          ["MULT", "temp", 141, "temp"],
          ["WRITE", "temp", "coded0"],
          ["PUSH", "queue", "temp"],
        ],
      },
      aux0: {
        node: 0,
        streams: [],
        output: "stream",
        instructions: [["POP", "queue", "temp"], ["COPY", "stream", "temp"]],
      },
      enc1: {
        node: 1,
        streams: [
          { name: "part0", read: { block: "{id}.part0" } },
          { name: "prev", read: { program: "enc0" } },
          { name: "coded1", write: "{id}.coded1" },
        ],
        output: "stream",
        instructions: [
          ["LOAD", "local", "part0"],
          ["LOAD", "prev", "prev"],
          ["COPY", "stream", "prev"],
          ["MULADD", "stream", 207, "local"],
          ["MULADD", "prev", 139, "local"],
          ["WRITE", "prev", "coded1"],
        ],
      },
      enc2: {
        node: 2,
        streams: [
          { name: "part1", read: { block: "{id}.part1" } },
          { name: "prev", read: { program: "enc1" } },
          { name: "aux", read: { program: "aux0" } },
          { name: "remote", read: { block: "{id}.part0", node: 0 } },
          { name: "coded2", write: "{id}.coded2" },
        ],
        instructions: [
          ["LOAD", "local", "part1"],
          ["LOAD", "prev", "prev"],
          ["LOAD", "a", "aux"],
          ["LOAD", "r", "remote"],
          ["MULADD", "prev", 16, "local"],
          ["IADD", "prev", "a"],
          ["IADD", "prev", "r"],
          ["WRITE", "prev", "coded2"],
        ],
      },
    },
  };
}
