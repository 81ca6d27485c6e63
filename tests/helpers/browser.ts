/**
 * Debian's Chromium driven by playwright-core (no Playwright browser download) for the console's
 * browser tests. Tests skip, saying why, only when the binary is absent.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_BIN = process.env.CAREBRIDGE_CHROMIUM_BIN ?? '/usr/bin/chromium';

export function chromiumSkipReason(): string | null {
  if (existsSync(CHROMIUM_BIN)) return null;
  const reason = `console browser tests skipped: ${CHROMIUM_BIN} is absent (bash scripts/install-system-deps.sh installs Debian's chromium)`;
  console.warn(reason);
  return reason;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export const SCREENSHOT_DIR = join(import.meta.dirname, '../../docs/screenshots');

/** Saves docs/screenshots/<name>.png (what README.md shows). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // Let charts and fonts settle: wait for the network to go quiet, not for a fixed time.
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}
