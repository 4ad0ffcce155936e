import type { APIGatewayProxyResultV2 } from 'aws-lambda';

/** An HTTP response ready to be written by `node:http`. */
export interface LocalResponse {
  readonly statusCode: number;
  /** Lowercased names; `set-cookie` is the only repeated header. */
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** The handler returned something API Gateway would answer with a 500. */
export class InvalidHandlerResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidHandlerResultError';
  }
}

/**
 * Turns a Lambda result into the HTTP response API Gateway (HTTP API, payload format 2.0) would send.
 *
 * As in the cloud: a result with a `statusCode` is a structured response (`headers`, `cookies` as
 * `Set-Cookie`, `body` base64-decoded when `isBase64Encoded`); anything else (a string, or an object without
 * `statusCode`) is "inferred" as a 200 JSON body. `content-length` is always computed here.
 *
 * @throws InvalidHandlerResultError for a status code outside 100–599 or a non-string body.
 */
export function toLocalResponse(result: APIGatewayProxyResultV2 | undefined): LocalResponse {
  if (typeof result !== 'object' || result === null || !('statusCode' in result) || result.statusCode === undefined) {
    // Format inference: API Gateway serialises the whole result as the JSON body.
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return withLength({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body, 'utf8') });
  }

  const { statusCode } = result;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new InvalidHandlerResultError(`handler returned an invalid statusCode: ${String(statusCode)}`);
  }
  if (result.body !== undefined && typeof result.body !== 'string') {
    throw new InvalidHandlerResultError(`handler returned a non-string body (${typeof result.body}); serialise it first`);
  }

  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = String(value);
  }
  if (result.cookies !== undefined && result.cookies.length > 0) headers['set-cookie'] = [...result.cookies];
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  return withLength({ statusCode, headers, body });
}

function withLength(response: LocalResponse): LocalResponse {
  // The handler's own content-length (if any) could disagree with the bytes; API Gateway sets its own too.
  return { ...response, headers: { ...response.headers, 'content-length': String(response.body.length) } };
}
