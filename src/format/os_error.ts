/**
 * Errors of the operating system (a busy port, a missing file) as text for one cdfs line:
 * Deno's message without its `(os error N)` suffix, starting lower-case to follow the text
 * before it (`cannot listen on 127.0.0.1:13100: address already in use`).
 *
 * @module
 */

/**
 * The reason an operating system call failed, for a message that names what failed first.
 *
 * @example
 * ```ts
 * import { describeOsError } from "./os_error.ts";
 * try {
 *   await Deno.readFile("/nonexistent/file");
 * } catch (e) {
 *   console.log(`cannot read /nonexistent/file: ${describeOsError(e)}`);
 *   // "cannot read /nonexistent/file: no such file or directory"
 * }
 * ```
 *
 * @param error What the call threw.
 * @returns One line, without the error number.
 */
export function describeOsError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = (message.split("\n")[0] ?? "").replace(/\s*\(os error \d+\).*$/, "").trim();
  // Deno's messages are sentences ("Address already in use"); a cdfs line continues after a
  // colon. Leave alone a word that is all capitals (an acronym such as "EOF").
  return /^[A-Z][a-z]/.test(line) ? line[0]!.toLowerCase() + line.slice(1) : line;
}
