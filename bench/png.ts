import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * SVG to PNG for the bench's charts: headless Chromium through playwright-core (a devDependency, as
 * `npm run screenshots` uses; Debian's /usr/bin/chromium, `CHROMIUM` overrides the path), else `rsvg-convert`
 * or ImageMagick's `convert`. Never part of `npm test`.
 */

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Writes `png` from `svg` (at twice its size); the tool used, or undefined when none is installed. */
export async function svgToPng(svg: string, png: string): Promise<string | undefined> {
  try {
    await withChromium(svg, png);
    return 'chromium';
  } catch {
    // no Chromium here: try the converters
  }
  const run = promisify(execFile);
  for (const [cmd, argv] of [
    ['rsvg-convert', ['-w', '2400', '-o', png, svg]],
    ['convert', ['-density', '150', svg, png]],
  ] as const) {
    try {
      await run(cmd, [...argv]);
      return cmd;
    } catch {
      // not installed, or it cannot read SVG: try the next one
    }
  }
  return undefined;
}

async function withChromium(svgPath: string, png: string): Promise<void> {
  const svg = await readFile(svgPath, 'utf8');
  const width = Number(/width="(\d+)"/.exec(svg)?.[1] ?? 1200);
  const height = Number(/height="(\d+)"/.exec(svg)?.[1] ?? 600);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 2 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path: png });
  } finally {
    await browser.close();
  }
}
