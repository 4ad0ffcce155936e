import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { gunzipSync, gzipSync } from 'node:zlib';
import { MAX_REQUEST_BODY_BYTES } from '../../lib/contract/limits.js';
import { echo, InvalidRequestError, PayloadTooLargeError } from '../../lib/errors.js';
import { parseJson } from '../../lib/log/json-text.js';
import { BATCHES_MEDIA_TYPE } from '../../lib/log/wire-batches.js';
import { MAX_RESPONSE_PAYLOAD_BYTES, RESPONSE_RESERVE_BYTES } from '../../lib/log/wire-size.js';

/**
 * Request and response bodies at the HTTP boundary: JSON text (the default, docs/api.md), the binary batches
 * of docs/api.md "Binary record batches", and gzip content coding either way (`Content-Encoding: gzip` on a
 * request, `Accept-Encoding: gzip` for a response). The shared wrapper (handler.ts) calls these.
 */

/** A response body that is JSON text already (a fetch response, whose record values are spliced in as stored). */
export class JsonText {
  constructor(readonly text: string) {}
}

/** A response body of bytes with its media type (a binary fetch response); Lambda carries it base64-encoded. */
export class BinaryBody {
  constructor(
    readonly bytes: Uint8Array,
    readonly contentType: string,
  ) {}
}

/** What a request carried: parsed JSON, or the raw bytes of a binary body. */
export interface DecodedBody {
  readonly json: unknown;
  readonly bytes?: Uint8Array;
}

/** UTF-8 byte-order mark: RFC 8259 §8.1 lets a parser ignore one instead of failing. */
const BOM = '\ufeff';
const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The media type of a `Content-Type` or `Accept` entry, lower case, without parameters. */
export const mediaType = (value: string | undefined): string => (value ?? '').split(';', 1)[0]!.trim().toLowerCase();

/**
 * The request body. A body of content type {@link BATCHES_MEDIA_TYPE} is handed over as bytes; any other is
 * JSON, whatever the content type says (the API speaks JSON, and `curl -d` sends form encoding by default): a
 * `charset` other than UTF-8 is refused, as is a body that is not valid UTF-8 (never decoded with replacement
 * characters); one leading byte-order mark is ignored. `Content-Encoding: gzip` is inflated first, at most to
 * the 6 MB a request may hold (a decompression bomb stops there: 413); another coding is a 400.
 */
export function decodeBody(event: APIGatewayProxyEventV2, headers: Readonly<Record<string, string>>): DecodedBody {
  if (event.body === undefined || event.body === null || event.body === '') return { json: undefined };
  const coding = contentCoding(headers['content-encoding']);
  const binary = mediaType(headers['content-type']) === BATCHES_MEDIA_TYPE;
  let text: string;
  if (!event.isBase64Encoded && coding === 'identity' && !binary) {
    text = event.body;
    checkBodySize(Buffer.byteLength(text, 'utf8'));
  } else {
    // Text the local server passed as such (it was valid UTF-8) is the same bytes encoded back.
    let bytes: Uint8Array = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    checkBodySize(bytes.length);
    if (coding === 'gzip') bytes = inflate(bytes);
    if (binary) return { json: undefined, bytes };
    try {
      text = UTF8_FATAL.decode(bytes);
    } catch (cause) {
      throw new InvalidRequestError('request body is not valid UTF-8', { cause });
    }
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new InvalidRequestError(`request bodies are UTF-8 JSON; charset '${echo(charset)}' is not supported`);
  }
  if (text.startsWith(BOM)) text = text.slice(BOM.length);
  try {
    // JSON.parse, keeping the digits of numbers a double cannot hold (record values store them as written).
    return { json: parseJson(text) };
  } catch (cause) {
    throw new InvalidRequestError('request body is not valid JSON', { cause });
  }
}

function contentCoding(header: string | undefined): 'identity' | 'gzip' {
  const coding = (header ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return 'identity';
  if (coding === 'gzip' || coding === 'x-gzip') return 'gzip';
  throw new InvalidRequestError(`Content-Encoding '${echo(header ?? '')}' is not supported; send gzip or no coding`);
}

function inflate(bytes: Uint8Array): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_REQUEST_BODY_BYTES });
  } catch (cause) {
    if (cause instanceof RangeError) {
      throw new PayloadTooLargeError(`request body inflates to more than ${MAX_REQUEST_BODY_BYTES} bytes`, {
        cause,
        details: { limitBytes: MAX_REQUEST_BODY_BYTES },
      });
    }
    throw new InvalidRequestError('request body is not valid gzip (Content-Encoding: gzip)', { cause });
  }
}

function checkBodySize(bytes: number): void {
  if (bytes > MAX_REQUEST_BODY_BYTES) {
    throw new PayloadTooLargeError(`request body exceeds ${MAX_REQUEST_BODY_BYTES} bytes`, {
      details: { limitBytes: MAX_REQUEST_BODY_BYTES },
    });
  }
}

/** JSON bodies below this are sent as they are: gzip would save less than its own framing and the CPU. */
export const GZIP_MIN_BYTES = 1024;
/** What a base64 body may take of Lambda's result, the rest left to status and headers. */
const MAX_BASE64_BODY_BYTES = MAX_RESPONSE_PAYLOAD_BYTES - RESPONSE_RESERVE_BYTES;

/** Whether `Accept-Encoding` lists gzip with a non-zero q (RFC 9110 §12.5.3). */
export function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((entry) => {
    const [coding, ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * The Lambda result for a response body: JSON text as it is, or gzipped and base64-encoded when the client
 * accepts gzip and the body is at least {@link GZIP_MIN_BYTES}; binary bodies base64-encoded. API Gateway HTTP
 * APIs compress nothing themselves, and Lambda's 6 MiB limit applies to what the function returns, so a gzipped
 * body is sent only when its base64 fits; otherwise the body goes uncompressed, which the read's cut already
 * made fit (lib/log/wire-size.ts).
 */
export function encodeBody(body: unknown, gzip: boolean): Pick<APIGatewayProxyStructuredResultV2, 'body' | 'isBase64Encoded'> & { headers: Record<string, string> } {
  if (body instanceof BinaryBody) {
    return { headers: { 'content-type': body.contentType }, body: Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength).toString('base64'), isBase64Encoded: true };
  }
  const text = body instanceof JsonText ? body.text : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (gzip && text.length >= GZIP_MIN_BYTES) {
    const compressed = gzipSync(text, { level: 1 });
    if (4 * Math.ceil(compressed.length / 3) <= MAX_BASE64_BODY_BYTES) {
      return { headers: { ...headers, 'content-encoding': 'gzip', vary: 'accept-encoding' }, body: compressed.toString('base64'), isBase64Encoded: true };
    }
  }
  return { headers, body: text };
}
