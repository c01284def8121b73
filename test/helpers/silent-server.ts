/** A Pushgateway stand-in on 127.0.0.1 that accepts requests and never answers them, closed when the test ends. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

/** What the test sees of the silent server. */
export interface SilentServer {
  readonly url: string;
  /** Requests received so far. */
  requests(): number;
  /** Resolves at the first request. */
  readonly requested: Promise<void>;
}

/** Starts the server; call it inside a test (it registers its own close with `onTestFinished`). */
export async function silentServer(): Promise<SilentServer> {
  let count = 0;
  let onRequest!: () => void;
  const requested = new Promise<void>((resolve) => {
    onRequest = resolve;
  });
  const server = createServer(() => {
    count++;
    onRequest();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests: () => count, requested };
}
