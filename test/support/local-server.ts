import { ROUTES } from '../../functions/routes.js';
import { ENV } from '../../lib/config.js';
import { createModuleHandlerLoader, type HandlerLoader } from '../../infra/local/handler-loader.js';
import { applyEnv, localHandlerEnv } from '../../infra/local/local-env.js';
import { createLocalServer, type LocalServerOptions, type PayloadLimitViolation } from '../../infra/local/server.js';
import { createTestStorage, type TestStorage } from './storage.js';

export interface TestLocalServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`; call `fetch(url + '/v1/health')`. */
  readonly url: string;
  /** The tables, bucket and clients behind the handlers (for assertions straight on storage). */
  readonly storage: TestStorage;
  /**
   * Responses Lambda would have refused (over its 6 MB payload limit) so far. No request may cause one:
   * `stop()` fails the test file if any did.
   */
  readonly payloadLimitViolations: readonly PayloadLimitViolation[];
  /**
   * Closes the server, restores the environment and (if it created it) cleans up the storage.
   * @throws Error when a response exceeded Lambda's payload limit during the file's tests.
   */
  stop(): Promise<void>;
}

export interface TestLocalServerOptions {
  /** Storage to serve; by default a fresh one from {@link createTestStorage} (then `stop()` cleans it up). */
  readonly storage?: TestStorage;
  /** Replaces the real handler modules. */
  readonly loadHandler?: HandlerLoader;
  /** Serves requests before routing, as `npm start` serves the console (LocalServerOptions.beforeRouting). */
  readonly beforeRouting?: LocalServerOptions['beforeRouting'];
}

/**
 * Starts the local API Gateway in this process, against the run's emulators, with the real handler modules.
 *
 * The handlers read `process.env` once, when their module is first imported, and env is process-global: so
 * an HTTP integration test file OWNS its process environment. Start one server per file (in `beforeAll`) and
 * stop it in `afterAll`; a second server in the same file would reach handlers already bound to the first
 * one's tables. Files do not interfere: the `forks` pool runs each file in its own process.
 *
 * @example
 * let server: TestLocalServer;
 * beforeAll(async () => { server = await startTestLocalServer(); });
 * afterAll(() => server.stop());
 * it('answers health', async () => expect((await fetch(`${server.url}/v1/health`)).status).toBe(200));
 */
export async function startTestLocalServer(options: TestLocalServerOptions = {}): Promise<TestLocalServer> {
  const storage = options.storage ?? (await createTestStorage());
  const { config, endpoints } = storage;
  const restoreEnv = applyEnv({
    ...localHandlerEnv({
      dynamoEndpoint: endpoints.dynamo,
      s3Endpoint: endpoints.s3,
      logTable: config.logTable,
      leaseTable: config.leaseTable,
      segmentBucket: config.segmentBucket,
    }),
    [ENV.tierAfterMs]: String(config.tierAfterMs),
    [ENV.topicCacheMs]: String(config.topicCacheMs),
  });
  const payloadLimitViolations: PayloadLimitViolation[] = [];
  const server = createLocalServer({
    routes: ROUTES,
    loadHandler: options.loadHandler ?? createModuleHandlerLoader(),
    onPayloadLimitExceeded: (violation) => payloadLimitViolations.push(violation),
    ...(options.beforeRouting ? { beforeRouting: options.beforeRouting } : {}),
  });
  let url: string;
  try {
    url = await server.listen(0);
  } catch (error) {
    restoreEnv();
    if (options.storage === undefined) await storage.cleanup();
    throw error;
  }
  return {
    url,
    storage,
    payloadLimitViolations,
    async stop() {
      await server.close();
      restoreEnv();
      if (options.storage === undefined) await storage.cleanup();
      if (payloadLimitViolations.length > 0) {
        const list = payloadLimitViolations.map((v) => `${v.routeKey}: ${v.payloadBytes} bytes`).join('; ');
        throw new Error(`${payloadLimitViolations.length} response(s) exceeded Lambda's ${payloadLimitViolations[0]!.limitBytes}-byte payload limit: ${list}`);
      }
    },
  };
}
