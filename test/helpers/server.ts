import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpServer, type HttpServerSettings } from '../../src/http/http-server';
import { startTestApp, type TestApp, type TestAppOptions } from './test-app';

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The app on a real port, behind the server the API runs with, for tests that need a raw
 * socket (a client that vanishes or stalls mid-upload).
 */
export function listen(app: RequestListener, settings: HttpServerSettings): Promise<RunningServer> {
  return new Promise((resolve) => {
    const server = createHttpServer(app, settings);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => {
              done();
            });
          }),
      });
    });
  });
}

export interface ListeningTestApp {
  readonly api: TestApp;
  readonly server: RunningServer;
}

/** The app on a database of its own and a real port, for the tests of one file. */
export function useListeningTestApp(options: TestAppOptions = {}): ListeningTestApp {
  const running: { api?: TestApp; server?: RunningServer } = {};
  beforeAll(async () => {
    running.api = await startTestApp(options);
    running.server = await listen(running.api.app, running.api.config);
  });
  afterAll(async () => {
    await running.server?.close();
    await running.api?.close();
  });
  return {
    get api() {
      if (!running.api) throw new Error('the test app starts in beforeAll');
      return running.api;
    },
    get server() {
      if (!running.server) throw new Error('the test server starts in beforeAll');
      return running.server;
    },
  };
}
