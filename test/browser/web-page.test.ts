import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AxeResults } from 'axe-core';
import type { Page } from 'playwright-core';
import { PAGE_SIZE } from '../../web/src/api';
import { axeSource, useBrowser } from '../helpers/browser';
import { makeGradient, sha256 } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';
import { uploadThrough } from '../helpers/server-process';
import { galleryItem, pickFiles, uploadOutcome } from '../helpers/web-page';

/** Set UPDATE_SCREENSHOT=1 to write the README's screenshot from this run (docs/screenshot.png). */
const SCREENSHOT = path.resolve(__dirname, '../../docs/screenshot.png');

describe('the web page', () => {
  const app = useListeningTestApp();
  const browser = useBrowser();
  const baseUrl = () => `http://127.0.0.1:${app.server.port}`;

  async function thumbnailWidth(page: Page, name: string): Promise<number> {
    const image = galleryItem(page, name).locator('img');
    await image.scrollIntoViewIfNeeded();
    return image.evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      return img.naturalWidth;
    });
  }

  test('when nothing is stored yet, then the gallery says so', async () => {
    const { page, consoleErrors } = await browser.newPage();

    await page.goto(baseUrl());

    await page.getByText('No images yet').waitFor();
    expect(await page.locator('#gallery li').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });

  test('when three images are picked, then each is stored and shows in the gallery with a decoded thumbnail', async () => {
    const { page, consoleErrors } = await browser.newPage();
    const files = [
      { name: 'dawn.png', mimeType: 'image/png', buffer: await makeGradient('png', '#ff9a5a', '#6a3093') },
      { name: 'sea.jpg', mimeType: 'image/jpeg', buffer: await makeGradient('jpeg', '#0f9b8e', '#1a2a6c') },
      { name: 'meadow.webp', mimeType: 'image/webp', buffer: await makeGradient('webp', '#d4fc79', '#2f7336') },
    ];
    await page.goto(baseUrl());

    await pickFiles(page, files);

    for (const { name } of files) {
      expect(await uploadOutcome(page, name)).toEqual({ state: 'stored', text: 'Stored' });
    }
    for (const { name } of files) {
      await galleryItem(page, name).waitFor();
      expect(await thumbnailWidth(page, name)).toBeGreaterThan(0);
      const image = galleryItem(page, name).locator('img');
      expect(await image.getAttribute('loading')).toBe('lazy');
      expect(await image.getAttribute('alt')).toBe(name);
      expect(await image.getAttribute('srcset')).toMatch(/\?w=\d+&format=auto \d+w/);
    }
    expect(await page.getByText('No images yet').isVisible()).toBe(false);
    expect(consoleErrors).toEqual([]);
    if (process.env.UPDATE_SCREENSHOT === '1') {
      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
  });

  test('when there are more images than a page holds, then the newest come first and "Load more" brings the rest, each once', async () => {
    let newest = '';
    for (let n = 0; n <= PAGE_SIZE; n += 1) {
      newest = (await uploadThrough(baseUrl(), await makeGradient('png', '#000', `#${(n * 10).toString(16).padStart(3, '0')}`, 64, 64), `many-${n}.png`)).id;
    }
    const listed = (await (await fetch(`${baseUrl()}/image?limit=100`)).json()) as { images: { id: string }[] };
    const { page, consoleErrors } = await browser.newPage();
    await page.goto(baseUrl());
    const tiles = page.locator('#gallery li');
    await tiles.first().waitFor();

    expect(await tiles.first().getAttribute('data-id')).toBe(newest);
    expect(await tiles.count()).toBe(PAGE_SIZE);
    await page.getByRole('button', { name: 'Load more' }).click();
    await tiles.nth(listed.images.length - 1).waitFor();
    const shown = await tiles.evaluateAll((items) => items.map((item) => item.getAttribute('data-id')));
    expect(shown).toEqual(listed.images.map((image) => image.id));
    expect(await page.getByRole('button', { name: 'Load more' }).isVisible()).toBe(false);
    expect(consoleErrors).toEqual([]);
  });

  test('when the server refuses a file, then its line shows the problem detail', async () => {
    const { page } = await browser.newPage();
    await page.goto(baseUrl());

    await pickFiles(page, [{ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('plain text, not a picture') }]);

    const outcome = await uploadOutcome(page, 'notes.png');
    expect(outcome.state).toBe('refused');
    expect(outcome.text).toContain('notes.png: The content is not a recognised image.');
  });

  test('when a file name holds HTML, then the page shows it as text', async () => {
    const name = '<img src=x onerror="document.title=1">.png';
    await uploadThrough(baseUrl(), await makeGradient('png', '#222', '#999', 64, 64), name);
    const { page, consoleErrors } = await browser.newPage();

    await page.goto(baseUrl());

    await galleryItem(page, name).waitFor();
    expect(await galleryItem(page, name).locator('.tile-name').textContent()).toBe(name);
    expect(await galleryItem(page, name).locator('img').count()).toBe(1);
    expect(await page.title()).toBe('Images');
    expect(consoleErrors).toEqual([]);
  });

  test('when an image is opened, then it shows full size with its info, and its URL and <img> tag can be copied', async () => {
    const bytes = await makeGradient('png', '#f7971e', '#ffd200', 800, 600);
    const { id } = await uploadThrough(baseUrl(), bytes, 'sun.png');
    const { page, consoleErrors } = await browser.newPage({ permissions: ['clipboard-read', 'clipboard-write'] });
    await page.goto(baseUrl());

    await page.getByRole('button', { name: 'Open sun.png' }).click();

    const dialog = page.getByRole('dialog', { name: 'sun.png' });
    await dialog.waitFor();
    const full = dialog.locator('img');
    expect(await full.evaluate(async (img: HTMLImageElement) => img.decode().then(() => img.naturalWidth))).toBe(800);
    const info = await dialog.locator('dl').innerText();
    expect(info).toContain('image/png');
    expect(info).toContain('800 × 600 pixels');
    await dialog.getByRole('button', { name: 'Copy URL' }).click();
    await dialog.getByText('URL copied.').waitFor();
    const url = await page.evaluate(() => navigator.clipboard.readText());
    expect(url).toBe(`${baseUrl()}/image/${id}`);
    expect(sha256(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(sha256(bytes));
    await dialog.getByRole('button', { name: 'Copy <img srcset>' }).click();
    await dialog.getByText('<img> tag copied.').waitFor();
    const snippet = await page.evaluate(() => navigator.clipboard.readText());
    expect(snippet).toContain(`srcset="${baseUrl()}/image/${id}?w=64&amp;format=auto 64w,`);
    expect(snippet).toContain('width="800" height="600" alt="sun.png"');
    expect(consoleErrors).toEqual([]);
  });

  test('when an image is deleted, then it leaves the gallery and the service', async () => {
    const { id } = await uploadThrough(baseUrl(), await makeGradient('png', '#333', '#eee', 64, 64), 'mistake.png');
    const { page, consoleErrors } = await browser.newPage();
    await page.goto(baseUrl());
    page.once('dialog', (question) => void question.accept());

    await page.getByRole('button', { name: 'Open mistake.png' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();

    await galleryItem(page, 'mistake.png').waitFor({ state: 'detached' });
    expect(await page.getByRole('dialog').isVisible()).toBe(false);
    expect((await fetch(`${baseUrl()}/image/${id}`)).status).toBe(404);
    expect(consoleErrors).toEqual([]);
  });

  test('when it is used with the keyboard on a phone-sized screen, then every control is reached and nothing overflows', async () => {
    await uploadThrough(baseUrl(), await makeGradient('png', '#654ea3', '#eaafc8', 64, 64), 'keys.png');
    const { page, consoleErrors } = await browser.newPage({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    await page.goto(baseUrl());
    await galleryItem(page, 'keys.png').waitFor();

    const reached: string[] = [];
    for (let step = 0; step < 40 && !reached.includes('Open keys.png'); step += 1) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent.trim() ?? ''));
    }
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'keys.png' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });

    expect(reached).toContain('browse files');
    expect(reached).toContain('Open keys.png');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Open keys.png');
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  test('when axe-core checks the page and the open image, then it finds no serious or critical violation', async () => {
    await uploadThrough(baseUrl(), await makeGradient('png', '#11998e', '#38ef7d', 64, 64), 'axe.png');
    const { page } = await browser.newPage();
    await page.goto(baseUrl());
    await galleryItem(page, 'axe.png').waitFor();
    await page.evaluate(await axeSource());
    const seriousViolations = async () => {
      const results = await page.evaluate(() => (window as unknown as { axe: { run(): Promise<AxeResults> } }).axe.run());
      return results.violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
    };

    const onThePage = await seriousViolations();
    await page.getByRole('button', { name: 'Open axe.png' }).click();
    await page.getByRole('dialog').waitFor();
    const inTheDialog = await seriousViolations();

    expect(onThePage).toEqual([]);
    expect(inTheDialog).toEqual([]);
  });
});
