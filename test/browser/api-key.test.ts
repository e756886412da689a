import { useBrowser } from '../helpers/browser';
import { makeGradient } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';
import { namedKeys } from '../helpers/test-app';
import { galleryItem, pickFiles, uploadOutcome } from '../helpers/web-page';

const KEY = 'page-key-0123456789abcdef';

describe('the web page when the server needs an API key', () => {
  const app = useListeningTestApp({ config: { apiKeys: namedKeys(KEY) } });
  const browser = useBrowser();
  const baseUrl = () => `http://127.0.0.1:${app.server.port}`;
  const png = async (name: string) => ({ name, mimeType: 'image/png', buffer: await makeGradient('png', '#355c7d', '#c06c84', 64, 64) });

  /** A page that was given the key and has uploaded `name` with it. */
  async function pageWithUpload(name: string) {
    const { page } = await browser.newPage();
    await page.goto(baseUrl());
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await pickFiles(page, [await png(name)]);
    await uploadOutcome(page, name);
    return page;
  }

  test('when it opens, then it asks for the key and takes no upload before one is given', async () => {
    const { page, consoleErrors } = await browser.newPage();

    await page.goto(baseUrl());

    await page.getByText('This server needs an API key to upload, see and delete your images.').waitFor();
    expect(await page.getByLabel('API key').evaluate((input) => input === document.activeElement)).toBe(true);
    expect(await page.getByRole('button', { name: 'browse files' }).isDisabled()).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  test('when a wrong key is given, then the upload is refused with the reason and the key is asked again', async () => {
    const { page } = await browser.newPage();
    await page.goto(baseUrl());

    await page.getByLabel('API key').fill('not-the-key-0123456789');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await pickFiles(page, [await png('refused.png')]);

    expect(await uploadOutcome(page, 'refused.png')).toEqual({ state: 'refused', text: 'Refused: The API key is not accepted.' });
    await page.locator('.key-reason', { hasText: 'The API key is not accepted.' }).waitFor();
  });

  test('when the right key is given, then uploads and deletes go through, and the key stays in this tab only', async () => {
    const { page, consoleErrors } = await browser.newPage();
    await page.goto(baseUrl());
    page.once('dialog', (question) => void question.accept());

    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await pickFiles(page, [await png('allowed.png')]);
    expect(await uploadOutcome(page, 'allowed.png')).toEqual({ state: 'stored', text: 'Stored' });
    await page.getByRole('button', { name: 'Open allowed.png' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();

    await galleryItem(page, 'allowed.png').waitFor({ state: 'detached' });
    expect(await page.evaluate(() => sessionStorage.getItem('image-api-key'))).toBe(KEY);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(KEY);
    expect(page.url()).not.toContain(KEY);
    expect(consoleErrors).toEqual([]);
  });

  test('when the key is forgotten, then the gallery no longer shows its images, which stay stored', async () => {
    const page = await pageWithUpload('hidden.png');
    await galleryItem(page, 'hidden.png').waitFor();

    await page.getByRole('button', { name: 'Forget the key' }).click();

    await page.getByText('Your images show here once you give your API key.').waitFor();
    expect(await galleryItem(page, 'hidden.png').count()).toBe(0);
    expect((await app.api.stored()).files).toBeGreaterThan(0);
  });

  test('when the key is gone by the time of a delete, then the delete is refused and the key asked for with the reason', async () => {
    const page = await pageWithUpload('kept.png');
    page.once('dialog', (question) => void question.accept());
    await page.getByRole('button', { name: 'Open kept.png' }).click();

    await page.evaluate(() => sessionStorage.removeItem('image-api-key'));
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();

    await page.locator('.key-reason', { hasText: 'Send an API key as "Authorization: Bearer <key>".' }).waitFor();
    expect(await app.api.db.collection('images.files').countDocuments({ filename: 'kept.png' })).toBe(1);
  });
});
