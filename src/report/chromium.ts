// Stage: presentation (PDF and browser tests). Starts Debian's Chromium through playwright-core with a fresh
// profile and no background traffic: no sync, updates or component downloads, nothing but the pages we load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export interface ChromiumSession {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(opts: { executablePath?: string; acceptDownloads?: boolean } = {}): Promise<ChromiumSession> {
  const profile = mkdtempSync(join(tmpdir(), 'iotscope-chromium-'));
  const executablePath = opts.executablePath ?? process.env.IOTSCOPE_CHROMIUM ?? DEFAULT_CHROMIUM;
  let context: BrowserContext;
  try {
    // A persistent context is how playwright takes a user-data-dir; the directory is new and removed afterwards.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      acceptDownloads: opts.acceptDownloads ?? false,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`cannot start Chromium at ${executablePath}: ${(e as Error).message.split('\n')[0]}`);
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
