import { useBrowser } from '../helpers/browser';
import { makeGradient } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';
import { uploadThrough } from '../helpers/server-process';
import { galleryItem } from '../helpers/web-page';

describe('the web page when reads need signed URLs', () => {
  const app = useListeningTestApp({ config: { signingKey: 'page-signing-key-0123456789abcdef0123', requireSignedUrls: true } });
  const browser = useBrowser();
  const baseUrl = () => `http://127.0.0.1:${app.server.port}`;

  test('when images are listed and opened, then they show by name and info, with no preview and no URL to copy', async () => {
    await uploadThrough(baseUrl(), await makeGradient('png', '#000', '#fff', 64, 48), 'secret.png');
    const { page, consoleErrors } = await browser.newPage();

    await page.goto(baseUrl());
    await galleryItem(page, 'secret.png').getByText('No preview').waitFor();
    await page.getByRole('button', { name: 'Open secret.png' }).click();

    const dialog = page.getByRole('dialog', { name: 'secret.png' });
    await dialog.getByText('64 × 48 pixels').waitFor();
    expect(await page.locator('img').count()).toBe(0);
    expect(await dialog.getByRole('button', { name: 'Copy URL' }).isVisible()).toBe(false);
    expect(consoleErrors).toEqual([]);
  });
});
