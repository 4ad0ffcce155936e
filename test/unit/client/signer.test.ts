import { describe, expect, it } from 'vitest';
import { createSigV4Signer, isLoopbackHost, regionFromHost, shouldSignByDefault } from '../../../lib/client/signer.js';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

describe('createSigV4Signer', () => {
  it('matches the AWS SigV4 test suite vector "get-vanilla"', async () => {
    // aws-sig-v4-test-suite/get-vanilla: GET / on example.amazonaws.com, service "service", 20150830T123600Z.
    const signer = createSigV4Signer({
      region: 'us-east-1',
      service: 'service',
      credentials: CREDENTIALS,
      now: () => new Date('2015-08-30T12:36:00Z'),
    });

    const headers = await signer.sign({ method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} });

    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('signs for execute-api in the region of the endpoint, covering body and query', async () => {
    const signer = createSigV4Signer({ credentials: { ...CREDENTIALS, sessionToken: 'TOKEN' }, now: () => new Date('2024-01-02T03:04:05Z') });
    const url = new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/topics/o/partitions/0/records?offset=3');

    const a = await signer.sign({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    const b = await signer.sign({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body: '{"a":2}' });

    expect(a.authorization).toContain('Credential=AKIDEXAMPLE/20240102/eu-west-1/execute-api/aws4_request');
    expect(a['x-amz-security-token']).toBe('TOKEN');
    expect(a.authorization).not.toBe(b.authorization);
  });

  it('fails with a clear message when no region can be found', async () => {
    const saved = { r: process.env.AWS_REGION, d: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const signer = createSigV4Signer({ credentials: CREDENTIALS });
      await expect(signer.sign({ method: 'GET', url: new URL('https://log.example.com/v1/health'), headers: {} })).rejects.toThrow(/AWS_REGION/);
    } finally {
      if (saved.r !== undefined) process.env.AWS_REGION = saved.r;
      if (saved.d !== undefined) process.env.AWS_DEFAULT_REGION = saved.d;
    }
  });
});

describe('when to sign', () => {
  it('treats loopback hosts as the local stack', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('abc.execute-api.us-east-1.amazonaws.com')).toBe(false);
  });

  it('signs https endpoints that are not loopback', () => {
    expect(shouldSignByDefault(new URL('https://abc.execute-api.us-east-1.amazonaws.com'))).toBe(true);
    expect(shouldSignByDefault(new URL('http://127.0.0.1:4000'))).toBe(false);
    expect(shouldSignByDefault(new URL('https://localhost:4443'))).toBe(false);
  });

  it('reads the region from an execute-api host name', () => {
    expect(regionFromHost('abc.execute-api.ap-southeast-2.amazonaws.com')).toBe('ap-southeast-2');
    expect(regionFromHost('abc.execute-api.cn-north-1.amazonaws.com.cn')).toBe('cn-north-1');
    expect(regionFromHost('log.example.com')).toBeUndefined();
  });
});
