import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpHandler, json } from '../../../../functions/http/handler.js';
import { instrument, lambdaTelemetry } from '../../../../functions/telemetry.js';
import { lambdaContext } from '../../../support/lambda-context.js';

/*
 * The one request line every handler logs (functions/http/handler.ts), as a Lambda function writes it: through
 * Powertools Logger (functions/telemetry.ts), with the Lambda context of the invocation. An audit trail next to
 * the API's access log, joined to it by requestId.
 */

const CALLER = 'arn:aws:sts::123456789012:assumed-role/billing-consumer/worker-1';

function event(authorizer?: unknown): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /v1/health',
    rawPath: '/v1/health',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'a',
      domainName: 'x',
      domainPrefix: 'x',
      http: { method: 'GET', path: '/v1/health', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: 'GET /v1/health',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      ...(authorizer === undefined ? {} : { authorizer }),
    },
  };
}

const ENV = { LOG_LEVEL: 'info', POWERTOOLS_SERVICE_NAME: 'Shardlog-Test', POWERTOOLS_METRICS_DISABLED: 'true' };

/** The JSON lines stdout received while a Lambda function (built with `env`) handles `events` in turn. */
async function loggedLines(events: APIGatewayProxyEventV2[], env: Record<string, string> = ENV): Promise<Record<string, unknown>[]> {
  // As Lambda sets them: Powertools reads its own variables from the process.
  for (const [name, value] of Object.entries({ ...env, AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' })) vi.stubEnv(name, value);
  vi.restoreAllMocks(); // a spy of an earlier call in the same test would still hold its lines
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const telemetry = lambdaTelemetry();
  const handler = instrument(
    telemetry,
    httpHandler(
      {
        'GET /v1/health': async (req) => {
          req.log.debug('health asked', { detail: 'sampled' });
          return json(200, { status: 'ok' });
        },
      },
      telemetry,
    ),
  );
  for (const [i, e] of events.entries()) await handler(e, lambdaContext(`invocation-${i}`));
  return stdout.mock.calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('the request log line', () => {
  it('names the IAM caller API Gateway authorized, with the request id, route and status', async () => {
    const authorizer = {
      iam: {
        accessKey: 'ASIAEXAMPLE',
        accountId: '123456789012',
        callerId: 'AROAEXAMPLE:worker-1',
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: CALLER,
        userId: 'AROAEXAMPLE:worker-1',
      },
    };
    const [line] = (await loggedLines([event(authorizer)])).filter((l) => l.message === 'request');
    expect(line).toMatchObject({ requestId: 'req-1', routeKey: 'GET /v1/health', status: 200, caller: CALLER });
  });

  it('leaves the caller out when the request carries no IAM authorizer context', async () => {
    const [line] = (await loggedLines([event()])).filter((l) => l.message === 'request');
    expect(line).toMatchObject({ requestId: 'req-1', status: 200 });
    expect(line).not.toHaveProperty('caller');
  });

  it('is structured JSON with the level, the service, the Lambda request id and whether it was a cold start', async () => {
    const lines = (await loggedLines([event(), event()])).filter((l) => l.message === 'request');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'INFO', service: 'Shardlog-Test', function_request_id: 'invocation-0', cold_start: true });
    expect(lines[1]).toMatchObject({ function_request_id: 'invocation-1', cold_start: false });
    expect(typeof lines[0]!.timestamp).toBe('string');
  });

  it('adds debug lines for the sampled share of invocations (POWERTOOLS_LOGGER_SAMPLE_RATE), none otherwise', async () => {
    const debug = (lines: Record<string, unknown>[]) => lines.filter((l) => l.message === 'health asked');
    expect(debug(await loggedLines([event(), event()], { ...ENV, POWERTOOLS_LOGGER_SAMPLE_RATE: '1' }))).toHaveLength(2);
    expect(debug(await loggedLines([event(), event()], { ...ENV, POWERTOOLS_LOGGER_SAMPLE_RATE: '0' }))).toEqual([]);
  });

  it('follows LOG_LEVEL in any case: at warn, no request line', async () => {
    expect((await loggedLines([event()], { ...ENV, LOG_LEVEL: 'WARN' })).filter((l) => l.message === 'request')).toEqual([]);
    expect((await loggedLines([event()], { ...ENV, LOG_LEVEL: 'warn' })).filter((l) => l.message === 'request')).toEqual([]);
  });
});
