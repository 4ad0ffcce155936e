import { describe, expect, it } from 'vitest';
import { crossSiteProblem } from '../../../../infra/local/server.js';

const request = (headers: Record<string, string>) => ({ headers });

describe('the local server refusing cross-site use (it has no authentication)', () => {
  it('serves curl and the SDK: no Origin, a loopback Host', () => {
    for (const host of ['127.0.0.1:4000', 'localhost:4000', 'LOCALHOST', '[::1]:4000']) {
      expect(crossSiteProblem(request({ host }), '127.0.0.1')).toBeUndefined();
    }
  });

  it('serves the console, whose requests carry the server’s own origin', () => {
    expect(crossSiteProblem(request({ host: '127.0.0.1:4000', origin: 'http://127.0.0.1:4000' }), '127.0.0.1')).toBeUndefined();
  });

  it('refuses a request a page of another origin sent (a text/plain POST needs no CORS preflight)', () => {
    expect(crossSiteProblem(request({ host: '127.0.0.1:4000', origin: 'https://evil.example' }), '127.0.0.1')).toMatch(/another web origin/);
    expect(crossSiteProblem(request({ host: '127.0.0.1:4000', origin: 'null' }), '127.0.0.1')).toMatch(/another web origin/);
  });

  it('refuses a rebound host name even when the page is "same origin" with it', () => {
    const rebound = request({ host: 'rebind.example:4000', origin: 'http://rebind.example:4000' });
    expect(crossSiteProblem(rebound, '127.0.0.1')).toMatch(/loopback name/);
  });

  it('accepts the address the server was told to listen on', () => {
    expect(crossSiteProblem(request({ host: '10.0.0.5:4000' }), '10.0.0.5')).toBeUndefined();
    expect(crossSiteProblem(request({ host: '10.0.0.6:4000' }), '10.0.0.5')).toMatch(/loopback name/);
  });
});
