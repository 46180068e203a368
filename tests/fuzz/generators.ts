/**
 * The shared part of the fuzz tests: how many inputs a property gets (`CDFS_FUZZ_RUNS`, in full
 * 100,000 through `make fuzz`), hostile values (wrong types, huge and negative numbers,
 * NaN-like strings, long and malformed Unicode strings, deep nesting, prototype-pollution
 * keys), a structure-aware mutator that breaks a valid message field by field, and the check
 * every parser must pass: it returns, or throws a {@linkcode CdfsError} of an expected code with
 * a bounded one-line message, and it does so within a hang bound.
 *
 * @module
 */
import fc from "fast-check";
import { CdfsError, ERROR_CODES, type ErrorCode } from "../../src/core/errors.ts";

/** How many inputs each property gets in full (`make fuzz`). */
export const FULL_RUNS = 100_000;

/**
 * The inputs per property in the normal suite: enough to cover every generator branch many
 * times while all the fuzz files together stay well under a minute on a loaded 2-core machine.
 */
export const SHORT_RUNS = 1_500;

/**
 * A hang bound per input, not a speed requirement: a parser takes microseconds, so only a
 * catastrophic case (a loop that does not end, exponential backtracking) comes near it, even
 * on a machine that is busy with other tests.
 */
export const HANG_MS = 5_000;

/** The longest error message a parser may produce for any input (they quote at most 40 chars). */
export const MAX_MESSAGE_LENGTH = 1_000;

/**
 * The inputs per property: `CDFS_FUZZ_RUNS` when set (`make fuzz` sets 100000), else
 * `shortRuns` (default {@linkcode SHORT_RUNS}).
 */
export function fuzzRuns(shortRuns = SHORT_RUNS): number {
  const text = Deno.env.get("CDFS_FUZZ_RUNS");
  if (text === undefined || text === "") return shortRuns;
  const runs = Number(text);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new Error(`CDFS_FUZZ_RUNS must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return runs;
}

/**
 * The parameters of one property: the run count and a fixed seed (`CDFS_FUZZ_SEED`, default
 * 13), so that the suite is deterministic; a failure prints the seed and the shrunk input.
 */
export function fuzzParameters<T>(shortRuns = SHORT_RUNS): fc.Parameters<T> {
  const seedText = Deno.env.get("CDFS_FUZZ_SEED");
  const seed = seedText === undefined || seedText === "" ? 13 : Number(seedText);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`CDFS_FUZZ_SEED must be an integer, got ${JSON.stringify(seedText)}`);
  }
  return {
    numRuns: fuzzRuns(shortRuns),
    seed,
    endOnFailure: Deno.env.get("CDFS_FUZZ_NO_SHRINK") === "1",
  };
}

/** Runs a property with {@linkcode fuzzParameters} and prints how long it took (for reports). */
export function assertProperty<T>(
  name: string,
  property: fc.IProperty<T>,
  shortRuns = SHORT_RUNS,
): void {
  const parameters = fuzzParameters<T>(shortRuns);
  const started = performance.now();
  fc.assert(property, parameters);
  report(name, parameters.numRuns, started);
}

/** {@linkcode assertProperty} for an asynchronous property. */
export async function assertAsyncProperty<T>(
  name: string,
  property: fc.IAsyncProperty<T>,
  shortRuns = SHORT_RUNS,
): Promise<void> {
  const parameters = fuzzParameters<T>(shortRuns);
  const started = performance.now();
  await fc.assert(property, parameters);
  report(name, parameters.numRuns, started);
}

function report(name: string, runs: number | undefined, started: number): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  // The time goes to the test's output, for the figures of a full run (`make fuzz`).
  // deno-lint-ignore no-console
  console.log(`fuzz ${name}: ${runs} inputs in ${seconds} s`);
}

/** Describes anything thrown, for a failure message. */
function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message.slice(0, 300)}`;
  return `a non-Error ${typeof e}`;
}

/**
 * Checks one refusal: `e` is a {@linkcode CdfsError} with a code of `codes`, and its message is
 * one line of at most {@linkcode MAX_MESSAGE_LENGTH} characters.
 */
export function checkRefusal(
  e: unknown,
  codes: readonly ErrorCode[],
  maxMessageLength = MAX_MESSAGE_LENGTH,
): void {
  if (!(e instanceof CdfsError)) throw new Error(`threw ${describeThrown(e)}`);
  if (!ERROR_CODES.includes(e.code) || !codes.includes(e.code)) {
    throw new Error(`threw CdfsError ${e.code}, expected one of ${codes.join(", ")}`);
  }
  if (/[\r\n]/.test(e.message)) {
    throw new Error(`the message is not one line: ${JSON.stringify(e.message.slice(0, 300))}`);
  }
  if (e.message.length > maxMessageLength) {
    throw new Error(`the message is ${e.message.length} characters long`);
  }
}

/**
 * Runs a synchronous parser on one input: it returns (the value is handed back) or refuses
 * (undefined), within {@linkcode HANG_MS}; anything else fails the property.
 */
export function parsesOrRefuses<T>(
  parse: () => T,
  codes: readonly ErrorCode[] = ["BAD_REQUEST"],
): { value: T } | undefined {
  const started = performance.now();
  let result: { value: T } | undefined;
  try {
    result = { value: parse() };
  } catch (e) {
    checkRefusal(e, codes);
  }
  const elapsed = performance.now() - started;
  if (elapsed > HANG_MS) throw new Error(`the parser took ${elapsed.toFixed(0)} ms`);
  return result;
}

/** JSON wire semantics: what the peer's object becomes after JSON.stringify and JSON.parse. */
export function overTheWire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

/** Keys that reach into prototypes or shadow methods when code is careless with them. */
export const PROTO_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "toJSON",
  "then",
] as const;

/** Numbers at and beyond every bound the messages have, and the non-finite ones. */
const EDGE_NUMBERS = [
  0,
  -0,
  -1,
  0.5,
  1e-7,
  255,
  256,
  4095,
  4096,
  65535,
  65536,
  10_000,
  10_001,
  100_000,
  16 * 1024 * 1024,
  16 * 1024 * 1024 + 1,
  2 ** 31,
  2 ** 32,
  2 ** 50 + 1,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 64,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MAX_SAFE_INTEGER,
  NaN,
  Infinity,
  -Infinity,
];

/** Strings that look like numbers or keywords to code that converts carelessly. */
const NAN_LIKE = [
  "NaN",
  "Infinity",
  "-Infinity",
  "1e309",
  "-0",
  "0x10",
  "1_000",
  " 1",
  "1 ",
  "",
  "null",
  "true",
  "undefined",
  "[object Object]",
  "9007199254740993",
  "{id}",
  "..",
  ".",
  "../etc/passwd",
  "a/b",
  "127.0.0.1:0",
  "[::1]:1",
];

/** Nests `inner` `depth` times in arrays or objects (JSON.parse builds such values from 64 KiB). */
function nest(depth: number, asArray: boolean): unknown {
  let value: unknown = asArray ? [] : {};
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return describedAs(value as Container, `<${depth} nested ${asArray ? "arrays" : "objects"}>`);
}

/**
 * Gives a value the rendering fast-check prints in a counterexample (its own printer recurses
 * and would overflow the stack on 8,000 levels); the mark is not enumerable, invisible to
 * the parsers.
 */
function describedAs(value: Container, text: string): Container {
  Object.defineProperty(value, fc.toStringMethod, { value: () => text, enumerable: false });
  return value;
}

/** An object whose own key is `key` (as JSON.parse makes it: `__proto__` stays an own key). */
function withOwnKey(key: string, value: unknown): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return object;
}

/** Strings of every kind: short, Unicode graphemes, lone surrogates, controls, long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(...NAN_LIKE, ...PROTO_KEYS),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.string({ unit: fc.constantFrom("\u0000", "\n", "\r", "\u2028", "\u007f", "\u0085", "a") }),
  fc.integer({ min: 0, max: 70_000 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 0, max: 40_000 }).map((n) => "\u{1F600}".repeat(n)),
);

/** Values of the wrong type, or of the right type and far out of range. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, undefined, true, false, [], {}),
  fc.constantFrom(...EDGE_NUMBERS),
  fc.integer(),
  fc.double(),
  hostileString,
  // Deeper than JSON.stringify goes (about 6,000 levels of objects): a parser that renders a
  // peer's value with it must not overflow the stack.
  fc.tuple(fc.integer({ min: 1, max: 8_000 }), fc.boolean()).map(([d, a]) => nest(d, a)),
  fc.tuple(fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) =>
    withOwnKey(k, v)
  ),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 5 }),
  fc.integer({ min: 0, max: 20_000 }).map((n) => new Array(n).fill(0)),
);

/** One change to a message; {@linkcode applyMutation} says what each kind does. */
export interface Mutation {
  /** Which slot (or container) of the message, modulo their number. */
  at: number;
  /** What to do there. */
  kind: "replace" | "delete" | "add" | "wrap" | "stringify" | "negate" | "duplicate";
  /** The key an `add` uses. */
  key: string;
  /** The value a `replace`, `add` or `wrap` uses. */
  value: unknown;
}

/** A mutation arbitrary: mostly type and range breakage of one field, sometimes structure. */
export const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom<Mutation["kind"]>(
    "replace",
    "replace",
    "replace",
    "delete",
    "add",
    "wrap",
    "stringify",
    "negate",
    "duplicate",
  ),
  key: fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })),
  value: hostileValue,
});

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null;
}

/** Every container of `root` (itself first) with its keys, depth first, up to `limit`. */
function containers(root: unknown, limit = 1_000): Container[] {
  const found: Container[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0 && found.length < limit) {
    const value = stack.pop();
    if (!isContainer(value)) continue;
    found.push(value);
    for (const key of Object.keys(value)) stack.push((value as Record<string, unknown>)[key]);
  }
  return found;
}

function define(container: Container, key: string, value: unknown): void {
  Object.defineProperty(container, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A value as the text a careless sender would put in its place. */
function textOf(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "undefined";
  } catch {
    return "[too deep for JSON.stringify]";
  }
}

/** Applies one mutation to `root` in place (a root that is no container is replaced). */
export function applyMutation(root: unknown, m: Mutation): unknown {
  const all = containers(root);
  if (all.length === 0) return m.kind === "replace" ? m.value : root;
  const slots: [Container, string][] = [];
  for (const c of all) for (const key of Object.keys(c)) slots.push([c, key]);
  if (m.kind === "add" || slots.length === 0) {
    const target = all[m.at % all.length]!;
    if (Array.isArray(target)) target.push(m.value);
    else define(target, m.key, m.value);
    return root;
  }
  const [container, key] = slots[m.at % slots.length]!;
  const old = (container as Record<string, unknown>)[key];
  switch (m.kind) {
    case "replace":
      define(container, key, m.value);
      break;
    case "delete":
      // Arrays lose the element (a hole cannot travel in JSON).
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete (container as Record<string, unknown>)[key];
      break;
    case "wrap":
      define(container, key, typeof m.at === "number" && m.at % 2 === 0 ? [old] : { v: old });
      break;
    case "stringify":
      define(container, key, typeof old === "string" ? old : textOf(old));
      break;
    case "negate":
      define(container, key, typeof old === "number" ? -old - 1 : old === true ? false : null);
      break;
    case "duplicate":
      if (Array.isArray(old)) define(container, key, [...old, ...old]);
      else if (typeof old === "string") define(container, key, old + old);
      else define(container, key, old);
      break;
  }
  return root;
}

/** A deep copy of a JSON-like value, built without recursion (values may be 8,000 deep). */
export function freshCopy(value: unknown): unknown {
  if (!isContainer(value)) return value;
  const root: Container = Array.isArray(value) ? [] : {};
  const stack: [Container, Container][] = [[value, root]];
  while (stack.length > 0) {
    const [from, to] = stack.pop()!;
    const text = (from as { [fc.toStringMethod]?: () => string })[fc.toStringMethod];
    if (text !== undefined) describedAs(to, text());
    for (const key of Object.keys(from)) {
      const item = (from as Record<string, unknown>)[key];
      let copy = item;
      if (isContainer(item)) {
        copy = Array.isArray(item) ? [] : {};
        stack.push([item, copy as Container]);
      }
      define(to, key, copy);
    }
  }
  return root;
}

/**
 * Valid messages from `valid`, broken by 1 to `maxMutations` mutations (each on a fresh copy, so
 * that fast-check can shrink both the message and the mutations).
 */
export function mutated(valid: fc.Arbitrary<unknown>, maxMutations = 3): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: maxMutations })).map(
    ([message, mutations]) => {
      // Fresh copies: a mutation must never change a value fast-check hands out again (a
      // constant like `[]`, or a value kept for shrinking).
      let copy = structuredClone(message);
      for (const m of mutations) copy = applyMutation(copy, { ...m, value: freshCopy(m.value) });
      return copy;
    },
  );
}

/**
 * Every input a message parser gets: mutated valid messages (most), and random JSON and
 * hostile values (some), so that both the deep paths and the first checks are hit.
 */
export function parserInputs(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: mutated(valid), weight: 6 },
    { arbitrary: valid, weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 1 },
    { arbitrary: hostileValue, weight: 1 },
  );
}

/** Block ids the servers accept: `A-Z a-z 0-9 . _ -`, no `..`, at most 200 characters. */
export const blockId: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_-]{0,15}(\.[A-Za-z0-9_-]{1,8}){0,2}$/),
  fc.constant("x".repeat(200)),
);

/** A lower-case hex string of `length` digits. */
export function hex(length: number): fc.Arbitrary<string> {
  return fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
}

/** `host:port` addresses a node accepts. */
export const nodeAddress: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 65535 }).map((port) => `127.0.0.1:${port}`),
  fc.integer({ min: 1, max: 65535 }).map((port) => `[::1]:${port}`),
  fc.integer({ min: 1, max: 65535 }).map((port) => `node-3.example.org:${port}`),
);

/** An ISO-8601 date-time as the servers write them. */
export const isoTime: fc.Arbitrary<string> = fc
  .integer({ min: 0, max: 4_102_444_800_000 })
  .map((ms) => new Date(ms).toISOString());

/** Non-negative safe integers, small ones most often. */
export const byteCount: fc.Arbitrary<number> = fc.oneof(
  fc.nat({ max: 1 << 20 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);
