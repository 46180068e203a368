/**
 * Writes the repetitive parts of `src/gf/wasm/gf_kernels.wat`: the unrolled main loops of
 * `xor`, `mul` and `mul_add`, and the per-group kernels of `dot_product` with their v128
 * globals. The `.wat` stays complete and readable as it is checked in; these parts sit between
 *
 * ```wat
 *   ;; BEGIN GENERATED <name> (...)
 *   ;; END GENERATED <name>
 * ```
 *
 * lines, and `make wasm` (`scripts/build_wasm.ts`) rewrites what is between them from
 * {@linkcode generatedBlocks} before assembling. Edit this file, not those blocks.
 *
 * Why the code has this shape (measured on the reference machine, see the `.wat` header): V8
 * checks the bounds of every access to the shared, growable memory explicitly, reloading the
 * memory size after every store. Table loads through a pointer cost one check each; loads of
 * globals cost none. So a `dot_product` group keeps the nibble tables of up to 16 inputs in v128
 * globals and runs its inputs as straight-line "slots", entered with a `br_table` at slot
 * `nins - 1` (a Duff's device), because a global can only be named by a constant.
 *
 * @example
 * ```ts
 * import { expandGeneratedBlocks, generatedBlocks } from "./gf_kernels_gen.ts";
 * const wat = await Deno.readTextFile("src/gf/wasm/gf_kernels.wat");
 * const upToDate = expandGeneratedBlocks(wat, generatedBlocks()) === wat;
 * ```
 *
 * @module
 */

/** Inputs a register group takes per call: the slots of the unrolled input sequence. */
const DOT_SLOTS = 16;

/**
 * Column width in bytes of the register groups, by group size (2..5 outputs): the widest
 * whose accumulators (outputs × width / 16), nibble vectors, table and product fit V8's 15
 * allocatable XMM registers on x64.
 */
const GROUP_COLUMN_BYTES: Readonly<Record<number, number>> = { 2: 64, 3: 32, 4: 32, 5: 32 };

/** The group sizes kept in registers. */
const REGISTER_GROUPS = [2, 3, 4, 5] as const;

/** The largest group kept in registers: the globals hold tables for this many outputs. */
const MAX_REGISTER_GROUP = 5;

/**
 * The group sizes of the looped wide kernels: 6..8, and 1, where the register kernel's
 * per-slot overhead outweighs its 8 products (m = 1: 22.9 GB/s looped, 21.7 in registers).
 */
const WIDE_GROUPS = [1, 6, 7, 8] as const;

/**
 * Bytes per iteration of the main loops of `mul` and `mul_add`, and of each block in them after
 * which both offsets advance. V8 checks an access against (memory size - offset - 16), computed
 * once per distinct offset; with 16 offsets it recomputes each one every iteration (an extra
 * `lea` per 16 bytes), with 4 it keeps them in registers (see the `.wat` header for the
 * measurements). The `.wat`'s hand-written loop setup and remainder loops assume these values.
 */
const MAIN_LOOP_BYTES = 512;
const BLOCK_BYTES = 64;

/**
 * Bytes per iteration of the `xor` main loop, one block of 16 offsets: blocks of 64 bytes made
 * it 9% faster at 64 KiB but 1-1.5% slower at 1 MiB, as did 256- or 1024-byte loops of them.
 */
const XOR_LOOP_BYTES = 256;

const SWIZZLE = "i8x16.relaxed_swizzle";
const MASK = "(v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)";
const ZERO = "(v128.const i64x2 0 0)";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** `c * x` for the nibble tables in `$lo`/`$hi` and the byte vector in local `$x`. */
const PRODUCT = [
  "(v128.xor",
  `  (${SWIZZLE} (local.get $lo) (v128.and (local.get $x) (local.get $mask)))`,
  `  (${SWIZZLE} (local.get $hi)`,
  "    (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) (local.get $mask))))",
];

/** One vector of `xor`: `dst ^= src` for the 16 bytes at `offset` past `$dst`/`$src`. */
function xorVector(offset: number): string[] {
  return [
    `(v128.store offset=${offset} (local.get $dst)`,
    `  (v128.xor (v128.load offset=${offset} (local.get $dst)) ` +
    `(v128.load offset=${offset} (local.get $src))))`,
  ];
}

/** One vector of `mul` (or, with `add`, `mul_add`): 16 bytes at `offset` past `$dst`/`$src`. */
function mulVector(add: boolean, offset: number): string[] {
  const lines = [
    `(local.set $x (v128.load offset=${offset} (local.get $src)))`,
    `(v128.store offset=${offset} (local.get $dst)`,
  ];
  if (add) {
    lines.push(`  (v128.xor (v128.load offset=${offset} (local.get $dst))`);
    lines.push(...PRODUCT.map((l) => "    " + l));
    lines[lines.length - 1] += "))";
  } else {
    lines.push(...PRODUCT.map((l) => "  " + l));
    lines[lines.length - 1] += ")";
  }
  return lines;
}

/**
 * The body of a main loop: `loopBytes` bytes in blocks of `blockBytes`, each block made of
 * `vector` at the same offsets, `$dst` and `$src` advanced after each.
 */
function blockedLoopBody(
  vector: (offset: number) => string[],
  loopBytes = MAIN_LOOP_BYTES,
  blockBytes = BLOCK_BYTES,
): string[] {
  return range(loopBytes / blockBytes).flatMap(() => [
    ...range(blockBytes / 16).flatMap((v) => vector(16 * v)),
    `(local.set $dst (i32.add (local.get $dst) (i32.const ${blockBytes})))`,
    `(local.set $src (i32.add (local.get $src) (i32.const ${blockBytes})))`,
  ]);
}

/** The v128 globals of the register groups: slot s's input offset and nibble tables. */
function slotGlobals(): string[] {
  const lines = [
    ";; $in<s>: offset of slot s's input region; $lo<s>_<i>/$hi<s>_<i>: nibble tables of the",
    ";; coefficient of output i (of the group) for that input.",
  ];
  for (const s of range(DOT_SLOTS)) {
    lines.push(`(global $in${s} (mut i32) (i32.const 0))`);
    for (const i of range(MAX_REGISTER_GROUP)) {
      lines.push(
        `(global $lo${s}_${i} (mut v128) ${ZERO}) (global $hi${s}_${i} (mut v128) ${ZERO})`,
      );
    }
  }
  return lines;
}

/** `$fill_slots`: loads the globals of a group from the table layout of `dot_product`. */
function fillSlots(): string[] {
  const lines = [
    ";; fill_slots(ins, nins, tables, tstride, n): for input s < nins (nins <= 16), sets $in<s> to",
    ";; the s-th offset at ins and $lo<s>_<i>/$hi<s>_<i> (i < n <= 5) to the 32 bytes at",
    ";; tables + s * tstride + 32 * i. A global is named by a constant, hence one case per slot.",
    "(func $fill_slots (param $ins i32) (param $nins i32) (param $tables i32) (param $tstride i32)",
    "  (param $n i32)",
    "  (local $s i32) (local $t i32)",
    "  (loop $slot",
    "    (local.set $t (local.get $tables))",
    "    (block $next",
    `      ${range(DOT_SLOTS).reverse().map((s) => `(block $case${s}`).join(" ")}`,
    `        (br_table ${range(DOT_SLOTS).map((s) => `$case${s}`).join(" ")} (local.get $s)))`,
  ];
  for (const s of range(DOT_SLOTS)) {
    if (s > 0) lines.push(`      ) ;; $case${s}`);
    lines.push(`      (global.set $in${s} (i32.load offset=${4 * s} (local.get $ins)))`);
    for (const i of range(MAX_REGISTER_GROUP)) {
      const set = `(global.set $lo${s}_${i} (v128.load offset=${32 * i} (local.get $t))) ` +
        `(global.set $hi${s}_${i} (v128.load offset=${32 * i + 16} (local.get $t)))`;
      lines.push(
        i === 0
          ? `      ${set}`
          : `      (if (i32.gt_u (local.get $n) (i32.const ${i})) (then ${set}))`,
      );
    }
    lines.push(`      (br $next)`);
  }
  lines.push(
    "    )",
    "    (local.set $tables (i32.add (local.get $tables) (local.get $tstride)))",
    "    (local.set $s (i32.add (local.get $s) (i32.const 1)))",
    "    (br_if $slot (i32.lt_u (local.get $s) (local.get $nins)))))",
  );
  return lines;
}

/**
 * Column loop prologue shared by the group kernels: accumulators loaded (from the regions at
 * `$froms`: the outputs themselves, or what dotProductAdd adds to) or zeroed. Every load of a
 * column comes before its stores, so a from region may be its own output.
 */
function initAccumulators(n: number, vectors: number): string[] {
  const lines = ["  (if (local.get $accumulate)", "    (then"];
  for (const i of range(n)) {
    lines.push(
      `      (local.set $at (i32.add (i32.load offset=${4 * i} (local.get $froms)) ` +
        `(local.get $col)))`,
    );
    for (const v of range(vectors)) {
      lines.push(`      (local.set $a${i}_${v} (v128.load offset=${16 * v} (local.get $at)))`);
    }
  }
  lines.push("    )", "    (else");
  for (const i of range(n)) {
    lines.push(
      "      " + range(vectors).map((v) => `(local.set $a${i}_${v} ${ZERO})`).join(" "),
    );
  }
  lines.push("    ))");
  return lines;
}

function storeAccumulators(n: number, vectors: number): string[] {
  const lines: string[] = [];
  for (const i of range(n)) {
    lines.push(`  (local.set $at (i32.add (local.get $o${i}) (local.get $col)))`);
    for (const v of range(vectors)) {
      lines.push(`  (v128.store offset=${16 * v} (local.get $at) (local.get $a${i}_${v}))`);
    }
  }
  return lines;
}

/**
 * `$dot_group_<n>` (2..5 outputs): accumulators, nibble vectors and one table in registers; inputs
 * unrolled into DOT_SLOTS slots that read their offset and tables from globals.
 */
function registerGroup(n: number): string[] {
  const width = GROUP_COLUMN_BYTES[n]!;
  const vectors = width / 16;
  const accumulators = range(n).flatMap((i) => range(vectors).map((v) => `$a${i}_${v}`));
  const lines = [
    `;; ${n} output${n > 1 ? "s" : ""}, ${width}-byte columns, inputs from the slot globals ` +
    `(fill_slots first); len is a multiple of 64.`,
    `(func $dot_group_${n} (param $outs i32) (param $froms i32) (param $nins i32) (param $len i32)`,
    "  (param $accumulate i32)",
    `  (local $col i32) (local $at i32) (local $t v128) (local $mask v128)`,
    `  ${range(n).map((i) => `(local $o${i} i32)`).join(" ")}`,
    `  ${range(vectors).map((v) => `(local $nib${v} v128)`).join(" ")}`,
    `  ${accumulators.map((a) => `(local ${a} v128)`).join(" ")}`,
    ...range(n).map((i) => `  (local.set $o${i} (i32.load offset=${4 * i} (local.get $outs)))`),
    `  (local.set $mask ${MASK})`,
    "  (loop $column",
    ...initAccumulators(n, vectors).map((l) => "  " + l),
    "    ;; Start at slot nins - 1; the slots run down to slot 0.",
    `    ${range(DOT_SLOTS).map((s) => `(block $slot${s}`).join(" ")}`,
    `      (br_table ${range(DOT_SLOTS).map((s) => `$slot${s}`).join(" ")}`,
    "        (i32.sub (local.get $nins) (i32.const 1)))",
  ];
  for (const s of range(DOT_SLOTS).reverse()) {
    lines.push(`    ) ;; slot ${s}`);
    lines.push(`    (local.set $at (i32.add (global.get $in${s}) (local.get $col)))`);
    for (const v of range(vectors)) {
      lines.push(
        `    (local.set $nib${v} (v128.and (v128.load offset=${16 * v} (local.get $at)) ` +
          `(local.get $mask)))`,
      );
    }
    for (const i of range(n)) {
      lines.push(`    (local.set $t (global.get $lo${s}_${i}))`);
      for (const v of range(vectors)) {
        lines.push(
          `    (local.set $a${i}_${v} (v128.xor (local.get $a${i}_${v}) ` +
            `(${SWIZZLE} (local.get $t) (local.get $nib${v}))))`,
        );
      }
    }
    for (const v of range(vectors)) {
      // Loaded again rather than kept live across the low pass, where the registers are full.
      // V8 merges a load of the same address with the first one (vector 0 stays live: it
      // fits), so the others use a distinct address: index + 16v, no offset.
      const at = v === 0 ? "(local.get $at)" : `(i32.add (local.get $at) (i32.const ${16 * v}))`;
      lines.push(
        `    (local.set $nib${v} (v128.and (i16x8.shr_u (v128.load ${at}) (i32.const 4)) ` +
          `(local.get $mask)))`,
      );
    }
    for (const i of range(n)) {
      lines.push(`    (local.set $t (global.get $hi${s}_${i}))`);
      for (const v of range(vectors)) {
        lines.push(
          `    (local.set $a${i}_${v} (v128.xor (local.get $a${i}_${v}) ` +
            `(${SWIZZLE} (local.get $t) (local.get $nib${v}))))`,
        );
      }
    }
  }
  lines.push(
    ...storeAccumulators(n, vectors).map((l) => "  " + l),
    `    (local.set $col (i32.add (local.get $col) (i32.const ${width})))`,
    "    (br_if $column (i32.ne (local.get $col) (local.get $len)))))",
  );
  return lines;
}

/**
 * `$dot_group_wide_<n>` (1 or 6..8 outputs): 64-byte columns and a loop over any number of inputs,
 * tables read through a pointer. Most accumulators are spilled, but reading each input once for
 * all n outputs beats two register groups here (m = 6: 5.8 GB/s against 5.5 for 3 + 3).
 */
function wideGroup(n: number): string[] {
  const accumulators = range(n).flatMap((i) => range(4).map((v) => `$a${i}_${v}`));
  const lines = [
    `;; ${n} output${n > 1 ? "s" : ""}, 64-byte columns, any nins; len is a multiple of 64.`,
    `(func $dot_group_wide_${n} (param $outs i32) (param $froms i32) (param $ins i32) ` +
    `(param $nins i32) (param $tables i32)`,
    "  (param $tstride i32) (param $len i32) (param $accumulate i32)",
    "  (local $col i32) (local $p i32) (local $pend i32) (local $t i32) (local $at i32)",
    "  (local $x v128) (local $mask v128) (local $tl v128) (local $th v128)",
    "  (local $l0 v128) (local $h0 v128) (local $l1 v128) (local $h1 v128)",
    "  (local $l2 v128) (local $h2 v128) (local $l3 v128) (local $h3 v128)",
    `  ${range(n).map((i) => `(local $o${i} i32)`).join(" ")}`,
    `  ${accumulators.map((a) => `(local ${a} v128)`).join(" ")}`,
    ...range(n).map((i) => `  (local.set $o${i} (i32.load offset=${4 * i} (local.get $outs)))`),
    `  (local.set $mask ${MASK})`,
    "  (local.set $pend (i32.add (local.get $ins) (i32.shl (local.get $nins) (i32.const 2))))",
    "  (loop $column",
    ...initAccumulators(n, 4).map((l) => "  " + l),
    "    (local.set $p (local.get $ins))",
    "    (local.set $t (local.get $tables))",
    "    (loop $input",
    "      (local.set $at (i32.add (i32.load (local.get $p)) (local.get $col)))",
  ];
  for (const v of range(4)) {
    lines.push(
      `      (local.set $x (v128.load offset=${16 * v} (local.get $at)))`,
      `      (local.set $l${v} (v128.and (local.get $x) (local.get $mask)))`,
      `      (local.set $h${v} (v128.and (i16x8.shr_u (local.get $x) (i32.const 4)) ` +
        `(local.get $mask)))`,
    );
  }
  for (const i of range(n)) {
    lines.push(
      `      (local.set $tl (v128.load offset=${32 * i} (local.get $t)))`,
      `      (local.set $th (v128.load offset=${32 * i + 16} (local.get $t)))`,
    );
    for (const v of range(4)) {
      lines.push(
        `      (local.set $a${i}_${v} (v128.xor (local.get $a${i}_${v}) (v128.xor ` +
          `(${SWIZZLE} (local.get $tl) (local.get $l${v})) ` +
          `(${SWIZZLE} (local.get $th) (local.get $h${v})))))`,
      );
    }
  }
  lines.push(
    "      (local.set $p (i32.add (local.get $p) (i32.const 4)))",
    "      (local.set $t (i32.add (local.get $t) (local.get $tstride)))",
    "      (br_if $input (i32.ne (local.get $p) (local.get $pend))))",
    ...storeAccumulators(n, 4).map((l) => "  " + l),
    "    (local.set $col (i32.add (local.get $col) (i32.const 64)))",
    "    (br_if $column (i32.ne (local.get $col) (local.get $len)))))",
  );
  return lines;
}

/**
 * Every generated block of `gf_kernels.wat`, by name: WAT lines without the indentation of
 * their place in the file.
 *
 * @example
 * ```ts
 * import { generatedBlocks } from "./gf_kernels_gen.ts";
 * console.log([...generatedBlocks().keys()]); // [ "xor_main", "mul_main", ... ]
 * ```
 *
 * @returns A map from block name to its lines.
 */
export function generatedBlocks(): Map<string, string[]> {
  return new Map([
    ["xor_main", blockedLoopBody(xorVector, XOR_LOOP_BYTES, XOR_LOOP_BYTES)],
    ["mul_main", blockedLoopBody((offset) => mulVector(false, offset))],
    ["mul_add_main", blockedLoopBody((offset) => mulVector(true, offset))],
    ["dot_slot_globals", slotGlobals()],
    ["dot_fill_slots", fillSlots()],
    ["dot_groups", REGISTER_GROUPS.flatMap((n) => [...registerGroup(n), ""]).slice(0, -1)],
    ["dot_groups_wide", WIDE_GROUPS.flatMap((n) => [...wideGroup(n), ""]).slice(0, -1)],
  ]);
}

const BEGIN = /^(\s*);; BEGIN GENERATED (\S+)/;
const END = /^\s*;; END GENERATED (\S+)/;

/**
 * Replaces the content of every `;; BEGIN GENERATED name` … `;; END GENERATED name` block of a
 * WAT source with `blocks.get(name)`, indented like the BEGIN line.
 *
 * @example
 * ```ts
 * import { expandGeneratedBlocks } from "./gf_kernels_gen.ts";
 * const wat = "  ;; BEGIN GENERATED x\n  old\n  ;; END GENERATED x\n";
 * console.log(expandGeneratedBlocks(wat, new Map([["x", ["(nop)"]]])));
 * ```
 *
 * @param source The WAT text.
 * @param blocks The lines of each block.
 * @returns The new text.
 * @throws {Error} When a block is unknown, unterminated, missing or present twice.
 */
export function expandGeneratedBlocks(source: string, blocks: Map<string, string[]>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    const begin = BEGIN.exec(line);
    if (begin === null) continue;
    const [, indent, name] = begin as unknown as [string, string, string];
    const body = blocks.get(name);
    if (body === undefined) throw new Error(`unknown generated block "${name}"`);
    if (seen.has(name)) throw new Error(`generated block "${name}" appears twice`);
    seen.add(name);
    let end = i + 1;
    while (end < lines.length && END.exec(lines[end]!)?.[1] !== name) end++;
    if (end === lines.length) throw new Error(`generated block "${name}" has no END line`);
    for (const b of body) out.push(b === "" ? "" : indent + b);
    out.push(lines[end]!);
    i = end;
  }
  for (const name of blocks.keys()) {
    if (!seen.has(name)) throw new Error(`the source has no generated block "${name}"`);
  }
  return out.join("\n");
}
