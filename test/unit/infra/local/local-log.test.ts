import { describe, expect, it } from 'vitest';
import { localLogger } from '../../../../infra/local/local-log.js';

/* What `npm start` prints for the engine and the handlers (infra/local/local-log.ts): one readable line each. */

function capture(level?: 'debug' | 'info' | 'warn' | 'error', env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const log = localLogger(
    { ...(level ? { level } : {}), output: { out: (l) => out.push(l), err: (l) => err.push(l) }, now: () => new Date('2026-11-29T12:48:59.402Z') },
    env,
  );
  return { log, out, err };
}

describe('the local stack log', () => {
  it('prints a request as method, path, status, error code and duration on one line', () => {
    const { log, out } = capture();
    log.info('request', { requestId: 'r', routeKey: 'POST /v1/topics/{topic}/records', path: '/v1/topics/orders/records', status: 200, durationMs: 52 });
    log.info('request', { routeKey: 'GET /v1/topics/{topic}', path: '/v1/topics/nope', status: 404, errorCode: 'TOPIC_NOT_FOUND', durationMs: 5 });
    expect(out).toEqual(['12:48:59.402 POST /v1/topics/orders/records 200 52 ms', '12:48:59.402 GET /v1/topics/nope 404 TOPIC_NOT_FOUND 5 ms']);
  });

  it('prints other lines as level, message and key=value fields, warnings and errors on stderr with the stack', () => {
    const { log, out, err } = capture();
    log.info('maintenance pass', { report: { tiered: { segments: 1 } }, topic: 'orders' });
    const error = new Error('boom');
    log.error('unhandled error', { error });
    expect(out).toEqual(['12:48:59.402 info  maintenance pass report={"tiered":{"segments":1}} topic=orders']);
    expect(err[0]!.split('\n')[0]).toBe('12:48:59.402 error unhandled error error="Error: boom"');
    expect(err[0]).toContain(error.stack!.split('\n')[1]);
  });

  it('follows the level (LOG_LEVEL in any case): debug lines only when asked', () => {
    const quiet = capture(undefined, { LOG_LEVEL: 'INFO' });
    quiet.log.debug('maintenance pass', {});
    expect(quiet.out).toEqual([]);
    const verbose = capture('debug');
    verbose.log.debug('maintenance pass', {});
    expect(verbose.out).toHaveLength(1);
    const warnOnly = capture(undefined, { LOG_LEVEL: 'warn' });
    warnOnly.log.info('request', { status: 200 });
    expect(warnOnly.out).toEqual([]);
  });

  it('never throws on a field JSON cannot write', () => {
    const { log, out } = capture();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => log.info('odd', { cycle, big: 1n })).not.toThrow();
    expect(out).toHaveLength(1);
  });
});
