import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Config, DeepPartial } from '../../src/config/config.ts';
import type { PoseEstimator } from '../../src/pose/pose-estimator.ts';
import { buildWebApp } from '../../scripts/build-web.ts';
import { freeLocalPort } from '../helpers/postura-process.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';

/**
 * What the browser tests share: the system Chromium (Debian's package; nothing here downloads a browser), the app
 * served on a real port with the web app built, and an axe-core check. Test files skip when chromiumPath is null.
 */

export const chromiumPath: string | null = process.env.CHROMIUM_PATH
  || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);

/** Headless Chromium; `args` add to --no-sandbox (e.g. the fake camera flags). */
export async function launchChromium(args: string[] = []): Promise<Browser> {
  if (!chromiumPath) throw new Error('No Chromium: install it (apt-get install -y chromium) or set CHROMIUM_PATH');
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', ...args] });
}

let built: Promise<unknown> | null = null;

/**
 * The test app (createTestApp with these overrides) listening on 127.0.0.1, serving the freshly built web app. The
 * port is chosen first so that PUBLIC_URL, where signed media URLs point, is this server.
 */
export async function startWebServer(
  overrides: DeepPartial<Config> = {},
  options: { estimator?: PoseEstimator } = {},
): Promise<{ baseUrl: string; app: TestApp; close(): Promise<void> }> {
  built ??= buildWebApp();
  await built;
  const port = await freeLocalPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const app = await createTestApp({ publicUrl: baseUrl, ...overrides }, options);
  await app.app.listen({ host: '127.0.0.1', port });
  return { baseUrl, app, close: () => app.close() };
}

let axeSource: Promise<string> | null = null;

/** axe-core's violations of impact serious or critical on the page as it is now, as "rule: target, target". */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (an injected <script> it would).
  if (!await page.evaluate('typeof globalThis.axe !== "undefined"')) await page.evaluate(await axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.targets.join(', ')}`);
}

interface AxeViolation { id: string; impact: string | null; nodes: { target: string[] }[] }
