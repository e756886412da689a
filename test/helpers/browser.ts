import { access, readFile } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's Chromium, which .ci/run installs: no test tool ever downloads a browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless as root, and quiet: without the networking flags Chromium calls Google's hosts at
 * every start, which this machine's closed network refuses many times over. Playwright gives
 * each launch a new empty profile (--user-data-dir) of its own.
 */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** What the page wrote to its console as errors, and the exceptions it did not catch. */
  readonly consoleErrors: string[];
}

export interface BrowserUse {
  /** A page in a context of its own (cookies, storage, permissions), its console watched. */
  newPage(options?: BrowserContextOptions): Promise<WatchedPage>;
}

/** One Chromium for the tests of a file, closed after them with every context it opened. */
export function useBrowser(): BrowserUse {
  let browser: Browser | undefined;
  beforeAll(async () => {
    await access(CHROMIUM).catch((error: unknown) => {
      throw new Error(`No Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium), as .ci/run does`, { cause: error });
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async newPage(options = {}) {
      if (!browser) throw new Error('the browser starts in beforeAll');
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => consoleErrors.push(error.message));
      return { context, page, consoleErrors };
    },
  };
}

/** axe-core's script, evaluated in a page as devtools would: the page's CSP lets no other script in. */
export async function axeSource(): Promise<string> {
  return readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
}
