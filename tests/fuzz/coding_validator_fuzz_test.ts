/**
 * Fuzzing of the coding-module validator (`validateModule`, `validateProgram`) and of the path
 * that inline programs take from a CODING request to a compiled program
 * (`parseRequest` then `RequestExecutors.forRequest`): modules and programs mutated field by
 * field (wrong types, huge coefficients and node indices, unknown opcodes, deep nesting,
 * prototype keys), `fuzzRuns()` inputs each. Properties: validation returns a module or
 * program, or throws `CdfsError` `BAD_REQUEST` with a bounded one-line message; it never
 * throws a TypeError or RangeError and never hangs.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { validateModule } from "../../src/coding/lang/validate.ts";
import { validateProgram } from "../../src/coding/lang/validate_program.ts";
import type { CodingModule } from "../../src/coding/lang/program.ts";
import { RequestExecutors } from "../../src/coding/runtime/request_executors.ts";
import { parseRequest } from "../../src/protocol/request_validation.ts";
import { codingModule as replication } from "../../coding/replication.ts";
import { replicationModule } from "../../coding/replication.ts";
import { chainModuleJson } from "../helpers/chain_module.ts";
import { assertProperty, mutated, parserInputs, parsesOrRefuses } from "./generators.ts";

/** A valid module touching every feature: stream sources, remote blocks, PUSH/POP, lists. */
const CHAIN = chainModuleJson();

/** Plain JSON copies of valid modules: the chain above and two real ones. */
const SEEDS: unknown[] = [CHAIN, replication, replicationModule(2, "mirror")].map((m) =>
  JSON.parse(JSON.stringify(m))
);
const module = validateModule(CHAIN, "chain");
const seed = fc.constantFrom(...SEEDS);

Deno.test("fuzz: validateModule refuses every malformed module with BAD_REQUEST", () => {
  assertProperty(
    "validateModule",
    fc.property(parserInputs(seed), (input) => {
      const parsed = parsesOrRefuses(() => validateModule(input, "fuzz"));
      if (parsed !== undefined) assert.ok(Object.isFrozen(parsed.value));
    }),
  );
});

Deno.test("fuzz: valid modules validate to themselves", () => {
  for (const m of SEEDS) {
    assert.deepEqual(JSON.parse(JSON.stringify(validateModule(m, "seed"))), m);
  }
});

/**
 * Programs of the chain module as derived programs are sent: renamed `x_<name>`, their
 * `{ program }` sources renamed too when the source is sent along (so inline programs pull
 * from each other, not only from the module's).
 */
const inlinePrograms = fc.shuffledSubarray(Object.keys(CHAIN.programs), { minLength: 1 }).map((
  names,
) =>
  Object.fromEntries(names.map((name) => {
    const program = structuredClone(CHAIN.programs[name as keyof typeof CHAIN.programs]);
    for (const stream of program.streams as { read?: { program?: string } }[]) {
      const source = stream.read?.program;
      if (source !== undefined && names.includes(source)) stream.read!.program = `x_${source}`;
    }
    return [`x_${name}`, program];
  }))
);

Deno.test("fuzz: validateProgram refuses every malformed derived program with BAD_REQUEST", () => {
  assertProperty(
    "validateProgram",
    fc.property(mutated(fc.constantFrom(...Object.values(CHAIN.programs)), 4), (program) => {
      parsesOrRefuses(() => validateProgram(module, "derived", program, { source: "fuzz" }));
    }),
  );
});

/** A CODING request of the chain module carrying programs inline, as JSON from the wire. */
const codingRequest = inlinePrograms.map((inline) => ({
  op: "CODING",
  module: "chain",
  program: Object.keys(inline).at(-1)!,
  object: "obj",
  run: "0123456789abcdef0123456789abcdef",
  nodes: ["127.0.0.1:13100", "127.0.0.1:13101", "127.0.0.1:13102"],
  chunkSize: 65536,
  inline,
}));

Deno.test("fuzz: inline programs of a CODING request are refused cleanly before they run", () => {
  const executors = new RequestExecutors();
  assertProperty(
    "CODING inline programs",
    fc.property(mutated(codingRequest, 4), (input) => {
      const request = parsesOrRefuses(() => parseRequest(input));
      if (request === undefined || request.value.op !== "CODING") return;
      const coding = request.value;
      parsesOrRefuses(() => executors.forRequest(module as CodingModule, coding));
    }),
  );
});
