import { useBrowser } from '../helpers/browser';
import { useListeningTestApp } from '../helpers/server';

describe('the /docs page in a browser', () => {
  const app = useListeningTestApp();
  const browser = useBrowser();

  test('when it is opened under its CSP, then Swagger UI shows the document and nothing is refused', async () => {
    const { page, consoleErrors } = await browser.newPage();
    const missing: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) missing.push(new URL(response.url()).pathname);
    });

    await page.goto(`http://127.0.0.1:${app.server.port}/docs`);

    await page.locator('.swagger-ui .info .title', { hasText: 'image-api' }).waitFor();
    await page.locator('.opblock-summary-path', { hasText: '/image/upload' }).first().waitFor();
    expect(consoleErrors).toEqual([]);
    expect(missing).toEqual([]);
  });
});
