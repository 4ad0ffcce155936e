import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { errorToBody, MethodNotAllowedError } from '../../../lib/errors.js';
import { splitTarget } from '../apigw-event.js';

/**
 * The local console's static files (`npm start` only: the CDK app deploys none of this, and these paths are not in
 * the route table). The page calls the JSON API of the same origin with GETs (api-paths.js) and loads nothing from
 * anywhere else, which its Content-Security-Policy enforces.
 *
 * Paths: `/` (the page) and `/console/<file>` for the files listed in {@link CONSOLE_ASSETS}, nothing else: every
 * API route starts with `/v1/`, so none is shadowed (test/unit/infra/local/console-serve.test.ts checks each one
 * of functions/routes.ts). They are answered before the local server's canonical-path check, which refuses `/`
 * (an empty segment) like any path the contract does not have.
 */
export const CONSOLE_ASSETS: Readonly<Record<string, { readonly file: string; readonly contentType: string }>> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', contentType: 'text/javascript; charset=utf-8' },
  '/console/render.js': { file: 'render.js', contentType: 'text/javascript; charset=utf-8' },
  '/console/api-paths.js': { file: 'api-paths.js', contentType: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console.css', contentType: 'text/css; charset=utf-8' },
};

/**
 * Scripts, styles and requests from this origin only; no inline script or style, no plugins, no framing, no
 * form posts elsewhere. Record values are attacker-controlled: should one ever reach the DOM as markup, it could
 * still not run script.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSET_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Answers a request for the console itself; `false` for every other request (the API's), which it leaves untouched. */
export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * The handler the local server calls before routing. Files are read per request, so editing the console needs
 * no restart.
 */
export function createConsoleHandler(assetDir: string = ASSET_DIR): ConsoleHandler {
  return async (req, res) => {
    const [path] = splitTarget(req.url ?? '/');
    const asset = Object.hasOwn(CONSOLE_ASSETS, path) ? CONSOLE_ASSETS[path] : undefined;
    if (asset === undefined) return false;
    req.resume(); // no request body is read
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      const body = Buffer.from(JSON.stringify(errorToBody(new MethodNotAllowedError(`the console is read-only: ${method} is not allowed on ${path}`))));
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json', 'content-length': String(body.length) });
      res.end(body);
      return true;
    }
    const content = await readFile(`${assetDir}/${asset.file}`);
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': String(content.length),
      'cache-control': 'no-store',
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    res.end(method === 'HEAD' ? undefined : content);
    return true;
  };
}
