/**
 * What the coding runtime reports about a run's traffic: the byte meters of the connections it
 * opens to other nodes, and when each step was computed. The datanode passes in its traffic
 * counters (`src/datanode/traffic.ts`), which implement this; the runtime counts nothing
 * itself.
 *
 * @module
 */
import type { ByteMeter } from "../../protocol/byte_meter.ts";

/**
 * Where a coding run's traffic is counted.
 *
 * @example
 * ```ts
 * import type { CodingRunTraffic } from "./run_traffic.ts";
 * const steps: string[] = [];
 * const traffic: CodingRunTraffic = {
 *   upstreamMeter: () => ({ bytesIn: 0, bytesOut: 0 }),
 *   markStep: (run) => steps.push(run),
 * };
 * traffic.markStep("0123456789abcdef0123456789abcdef");
 * console.log(steps.length); // 1
 * ```
 */
export interface CodingRunTraffic {
  /**
   * The live meter of a connection this node opens to another node for a run (its frame bytes
   * are added as they pass).
   *
   * @param run The run id.
   * @param address The other node's `HOST:PORT`.
   * @returns The meter.
   */
  upstreamMeter(run: string, address: string): ByteMeter;
  /**
   * Notes that a program of the run computed a step (for timelines).
   *
   * @param run The run id.
   */
  markStep(run: string): void;
}
