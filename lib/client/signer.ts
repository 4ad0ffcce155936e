import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';

/** A request about to be sent, as a signer sees it. Header names are lower case. */
export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** JSON text, or the bytes of a binary body (docs/api.md, "Binary record batches"). */
  body?: string | Uint8Array;
}

/**
 * Signs requests: returns the complete header set to send. Injected into {@link ShardlogClient} so tests (and
 * users with their own auth) can replace it.
 */
export interface RequestSigner {
  sign(request: SignableRequest): Promise<Record<string, string>>;
}

export interface SigV4SignerOptions {
  /** AWS region; by default taken from an `execute-api` host name, else `AWS_REGION` / `AWS_DEFAULT_REGION`. */
  region?: string;
  /** Default `execute-api`, the signing name of API Gateway's IAM authorization. */
  service?: string;
  /** Default: the standard AWS credential chain (env, SSO, shared files, web identity, ECS, IMDS). */
  credentials?: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  /** Injected clock for tests. */
  now?: () => Date;
}

/** True for hosts that are this machine: the local stack, which has no IAM in front of it. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host);
}

/**
 * The region of an API Gateway default endpoint (`<id>.execute-api.<region>.amazonaws.com[.cn]`), or
 * `undefined` for a custom domain.
 */
export function regionFromHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/i.exec(hostname)?.[1];
}

/**
 * Whether a request to `url` should be signed by default: every non-loopback `https` endpoint (a deployed
 * stack behind IAM); plain-http and loopback endpoints are the local stack, which does not check signatures.
 */
export function shouldSignByDefault(url: URL): boolean {
  return url.protocol === 'https:' && !isLoopbackHost(url.hostname);
}

/**
 * A SigV4 signer for API Gateway's IAM authorization (service `execute-api`), built on `@smithy/signature-v4`,
 * which the AWS SDK v3 itself uses. The SDK modules are loaded on first use, so local use never pays for them.
 *
 * @throws Error at first `sign()` when no region can be determined.
 * @example
 * const client = new ShardlogClient({ url, signer: createSigV4Signer({ region: 'eu-west-1' }) });
 */
export function createSigV4Signer(options: SigV4SignerOptions = {}): RequestSigner {
  let signerPromise: Promise<{ sign: (request: import('@smithy/types').HttpRequest, o?: { signingDate?: Date }) => Promise<import('@smithy/types').HttpRequest> }> | undefined;
  const load = async (url: URL) => {
    const region = options.region ?? regionFromHost(url.hostname) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) {
      throw new Error(
        `cannot sign requests to ${url.host}: no AWS region (set AWS_REGION, or use the execute-api endpoint URL)`,
      );
    }
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const credentials = options.credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
    return new SignatureV4({
      service: options.service ?? 'execute-api',
      region,
      credentials,
      sha256: NodeSha256,
      // The payload hash is part of the signature either way; API Gateway needs no extra header for it.
      applyChecksum: false,
    });
  };
  return {
    async sign(request) {
      signerPromise ??= load(request.url);
      // A failed load (no region) must not be cached forever: a later call may fix the environment.
      const signer = await signerPromise.catch((error: unknown) => {
        signerPromise = undefined;
        throw error;
      });
      const query: Record<string, string | string[]> = {};
      for (const [name, value] of request.url.searchParams) {
        const previous = query[name];
        query[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
      }
      const signed = await signer.sign(
        {
          method: request.method,
          protocol: request.url.protocol,
          hostname: request.url.hostname,
          ...(request.url.port ? { port: Number(request.url.port) } : {}),
          path: request.url.pathname,
          query,
          headers: { ...request.headers, host: request.url.host },
          ...(request.body === undefined ? {} : { body: request.body }),
        },
        options.now ? { signingDate: options.now() } : undefined,
      );
      return signed.headers;
    },
  };
}

/**
 * SHA-256 (and HMAC-SHA-256 when given a secret) on `node:crypto`, in the `Checksum` shape smithy's signer
 * expects; it saves a dependency on `@aws-crypto/sha256-js`.
 */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.create();
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
