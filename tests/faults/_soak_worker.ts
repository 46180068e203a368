/**
 * The soak's client worker (`soak_test.ts`): each message is a {@linkcode SoakJob}, answered
 * with its {@linkcode SoakReport} (or `{ error }`).
 *
 * @module
 */
import { runSoakClients, type SoakJob, type SoakReport } from "./_soak_clients.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<SoakJob>) => void) | null;
  postMessage(message: SoakReport | { error: string }): void;
};
scope.onmessage = (event) => {
  runSoakClients(event.data).then(
    (report) => scope.postMessage(report),
    (error) => scope.postMessage({ error: String((error as Error)?.stack ?? error) }),
  );
};
