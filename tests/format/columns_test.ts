/**
 * `formatColumns`: alignment by count and per column, widths from the widest cell (the
 * header's included), no trailing spaces, rows that span, empty input.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatColumns } from "../../src/format/columns.ts";

Deno.test("formatColumns: a count of left columns puts text flush left, the rest flush right", () => {
  const lines = formatColumns([
    ["node", "address", "in", "out"],
    ["0", "127.0.0.1:1", "5", "600"],
    ["total", "", "1234", "6"],
  ], 2);
  assert.deepEqual(lines, [
    "node   address        in  out",
    "0      127.0.0.1:1     5  600",
    "total               1234    6",
  ]);
});

Deno.test("formatColumns: one alignment per column, a right column between left ones", () => {
  const lines = formatColumns([
    ["name", "size", "path"],
    ["a", "7", "/x"],
    ["bb", "12345", "/y/z"],
  ], ["left", "right", "left"]);
  assert.deepEqual(lines, [
    "name   size  path",
    "a         7  /x",
    "bb    12345  /y/z",
  ]);
});

Deno.test("formatColumns: columns past the alignment array are flush left", () => {
  assert.deepEqual(formatColumns([["n", "x", "y"], ["10", "a", "b"]], ["right"]), [
    " n  x  y",
    "10  a  b",
  ]);
});

Deno.test("formatColumns: every column is as wide as its widest cell, header included", () => {
  // The header is the widest in the first column, a body cell in the second.
  const lines = formatColumns([
    ["address", "n"],
    ["h:1", "1"],
    ["h:2", "123456"],
  ], 1);
  assert.deepEqual(lines, [
    "address       n",
    "h:1           1",
    "h:2      123456",
  ]);
  // A long cell moves the next column over instead of running into it.
  const long = "a-very-long-host-name.example.org:13100";
  const [, wide] = formatColumns([["address", "pid"], [long, "42"]], 2);
  assert.equal(wide, `${long}  42`);
  const [header] = formatColumns([["address", "pid"], [long, "42"]], 2);
  assert.equal(header!.indexOf("pid"), long.length + 2);
});

Deno.test("formatColumns: no trailing spaces; a left last column is not padded", () => {
  const lines = formatColumns([
    ["id", "description"],
    ["1", "short"],
    ["2", "a much longer description"],
    ["3", ""],
  ], 2);
  assert.deepEqual(lines, [
    "id  description",
    "1   short",
    "2   a much longer description",
    "3",
  ]);
  for (const line of lines) assert.equal(line, line.trimEnd());
});

Deno.test("formatColumns: a right last column is padded on its left", () => {
  assert.deepEqual(formatColumns([["k", "v"], ["a", "1"], ["b", "100"]], 1), [
    "k    v",
    "a    1",
    "b  100",
  ]);
});

Deno.test("formatColumns: a short row's last cell spans the rest and sets no width", () => {
  const lines = formatColumns([
    ["node", "address", "in", "out"],
    ["0", "127.0.0.1:1", "5", "600"],
    ["1", "10.0.0.1:7", "unreachable: a long reason"],
  ], 2);
  assert.deepEqual(lines, [
    "node  address      in  out",
    "0     127.0.0.1:1   5  600",
    "1     10.0.0.1:7   unreachable: a long reason",
  ]);
});

Deno.test("formatColumns: without a header, the longest row sets the column count", () => {
  // The first row is the short one: its error spans the columns the other rows have.
  const lines = formatColumns([
    ["broken", "does not load: name must be a string"],
    ["rs", "(16,11)", "GF(2^8)", "Reed-Solomon"],
    ["replication", "(3,1)", "GF(2^8)", "copies"],
  ], 4);
  assert.deepEqual(lines, [
    "broken       does not load: name must be a string",
    "rs           (16,11)  GF(2^8)  Reed-Solomon",
    "replication  (3,1)    GF(2^8)  copies",
  ]);
});

Deno.test("formatColumns: a short row's other cells keep their column's alignment", () => {
  const lines = formatColumns([
    ["n", "count", "note"],
    ["a", "1", "x"],
    ["b", "7", "missing", "extra"],
  ], ["left", "right", "left", "left"]);
  // The third row is the longest: the header and the first row are short, so their last
  // cells span; the count column stays flush right in every row.
  assert.deepEqual(lines, [
    "n  count  note",
    "a      1  x",
    "b      7  missing  extra",
  ]);
});

Deno.test("formatColumns: no rows, and rows without cells", () => {
  assert.deepEqual(formatColumns([], 1), []);
  assert.deepEqual(formatColumns([[]], 0), [""]);
  assert.deepEqual(formatColumns([["a", "b"], [], ["c", "d"]], 2), ["a  b", "", "c  d"]);
});
