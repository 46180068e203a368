import assert from "node:assert/strict";
import type { MeasureChoices } from "../../../bench/rapidraid/rapidraid.ts";
import { measureArguments } from "../../../bench/rapidraid/rapidraid_session.ts";
import { benchRapidraidCommand, parseMeasureChoices } from "../../../src/cli/bench.ts";
import { parseCommandArgs } from "../../../src/cli/command.ts";

Deno.test("measureArguments: the measuring child's command line carries every choice", () => {
  const choices: MeasureChoices = {
    schemes: ["rs", "push"],
    objectBytes: 3_000_001,
    chunkBytes: 65_536,
    runs: 7,
    concurrent: 0,
    warmUps: 2,
  };
  const args = measureArguments("/run/cdfs/b/cluster.json", "/tmp/m.json", choices);
  assert.deepEqual(args.slice(0, 2), ["bench", "rapidraid"]);
  // The bench command itself parses them back to the same choices.
  const parsed = parseCommandArgs(benchRapidraidCommand.options, args.slice(2));
  assert.deepEqual(parseMeasureChoices(parsed), choices);
  assert.equal(parsed.values.cluster, "/run/cdfs/b/cluster.json");
  assert.equal(parsed.values["json-to"], "/tmp/m.json");
});
