import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpHandler, json } from '../../../../functions/http/handler.js';

/*
 * The one request line every handler logs (functions/http/handler.ts): an audit trail next to the API's access
 * log, joined to it by requestId. Kept apart from handler.test.ts, which runs with info lines muted.
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

/** The request lines logged while `run` handles one event, with info level on. */
async function requestLines(e: APIGatewayProxyEventV2): Promise<Record<string, unknown>[]> {
  vi.stubEnv('LOG_LEVEL', 'info');
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  await httpHandler({ 'GET /v1/health': async () => json(200, { status: 'ok' }) })(e);
  return stdout.mock.calls
    .map((call) => JSON.parse(String(call[0])) as Record<string, unknown>)
    .filter((line) => line.message === 'request');
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
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
    const [line] = await requestLines(event(authorizer));
    expect(line).toMatchObject({ requestId: 'req-1', routeKey: 'GET /v1/health', status: 200, caller: CALLER });
  });

  it('leaves the caller out when the request carries no IAM authorizer context', async () => {
    const [line] = await requestLines(event());
    expect(line).toMatchObject({ requestId: 'req-1', status: 200 });
    expect(line).not.toHaveProperty('caller');
  });
});
