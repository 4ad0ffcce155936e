import { ROUTES } from '../../functions/routes.js';
import { createAwsClients } from '../../functions/runtime.js';
import { engineHandlerLoader, type HandlerLoader } from '../../infra/local/handler-loader.js';
import { localClientOptions } from '../../infra/local/local-env.js';
import { createLocalServer, type LocalServerOptions, type PayloadLimitViolation } from '../../infra/local/server.js';
import { createShardlog, type Shardlog, type ShardlogOptions } from '../../lib/shardlog.js';
import { createTestStorage, type TestStorage } from './storage.js';

export interface TestLocalServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`; call `fetch(url + '/v1/health')`. */
  readonly url: string;
  /** The tables, bucket and clients behind the handlers (for assertions straight on storage). */
  readonly storage: TestStorage;
  /** The engine the handlers run on (clients of its own, not `storage`'s). */
  readonly engine: Shardlog;
  /**
   * Responses Lambda would have refused (over its 6 MB payload limit) so far. No request may cause one:
   * `stop()` fails the test file if any did.
   */
  readonly payloadLimitViolations: readonly PayloadLimitViolation[];
  /**
   * Closes the server and the engine's clients and (if it created it) cleans up the storage.
   * @throws Error when a response exceeded Lambda's payload limit during the file's tests.
   */
  stop(): Promise<void>;
}

export interface TestLocalServerOptions {
  /** Storage to serve; by default a fresh one from {@link createTestStorage} (then `stop()` cleans it up). */
  readonly storage?: TestStorage;
  /** Replaces the real handlers. */
  readonly loadHandler?: HandlerLoader;
  /** Options of the engine behind the handlers (a clock, a `sleep` for long polls). */
  readonly engine?: ShardlogOptions;
  /** Serves requests before routing, as `npm start` serves the console (LocalServerOptions.beforeRouting). */
  readonly beforeRouting?: LocalServerOptions['beforeRouting'];
}

/**
 * Starts the local API Gateway in this process, against the run's emulators, in front of the real handlers
 * over an engine of its own, built from the storage's configuration as the local stack builds one (explicit
 * endpoints and credentials; `process.env` is not touched). Servers are independent: a file may start several,
 * over different storage or configuration, and no file depends on running in a process of its own.
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
  const clients = createAwsClients(config, localClientOptions({ dynamoEndpoint: endpoints.dynamo, s3Endpoint: endpoints.s3 }));
  const engine = createShardlog(clients, config, options.engine);
  const payloadLimitViolations: PayloadLimitViolation[] = [];
  const server = createLocalServer({
    routes: ROUTES,
    loadHandler: options.loadHandler ?? engineHandlerLoader(engine),
    onPayloadLimitExceeded: (violation) => payloadLimitViolations.push(violation),
    ...(options.beforeRouting ? { beforeRouting: options.beforeRouting } : {}),
  });
  let url: string;
  try {
    url = await server.listen(0);
  } catch (error) {
    clients.destroy();
    if (options.storage === undefined) await storage.cleanup();
    throw error;
  }
  return {
    url,
    storage,
    engine,
    payloadLimitViolations,
    async stop() {
      await server.close();
      clients.destroy();
      if (options.storage === undefined) await storage.cleanup();
      if (payloadLimitViolations.length > 0) {
        const list = payloadLimitViolations.map((v) => `${v.routeKey}: ${v.payloadBytes} bytes`).join('; ');
        throw new Error(`${payloadLimitViolations.length} response(s) exceeded Lambda's ${payloadLimitViolations[0]!.limitBytes}-byte payload limit: ${list}`);
      }
    },
  };
}
