import { useBrowser } from '../helpers/browser';
import { makeGradient } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';
import { pickFiles, uploadOutcome } from '../helpers/web-page';

describe('uploads the server refuses, in the web page', () => {
  const browser = useBrowser();
  const pixelsApp = useListeningTestApp({ config: { maxPixels: 100 * 100 } });
  const rateApp = useListeningTestApp({ config: { uploadRateLimit: 2 } });

  test('when an image has more pixels than allowed, then its line says so in the server’s words', async () => {
    const { page } = await browser.newPage();
    await page.goto(`http://127.0.0.1:${pixelsApp.server.port}`);

    await pickFiles(page, [{ name: 'wide.png', mimeType: 'image/png', buffer: await makeGradient('png', '#000', '#fff', 200, 200) }]);

    expect(await uploadOutcome(page, 'wide.png')).toEqual({
      state: 'refused',
      text: 'Refused: wide.png is 200×200, 40000 pixels; at most 10000 pixels are accepted.',
    });
  });

  test('when more files are sent than the rate limit allows, then the ones over it say when to try again', async () => {
    const { page } = await browser.newPage();
    await page.goto(`http://127.0.0.1:${rateApp.server.port}`);
    const names = ['one.png', 'two.png', 'three.png'];

    await pickFiles(page, await Promise.all(names.map(async (name) => ({ name, mimeType: 'image/png', buffer: await makeGradient('png', '#123', '#abc', 64, 64) }))));

    const outcomes = await Promise.all(names.map((name) => uploadOutcome(page, name)));
    expect(outcomes.filter(({ state }) => state === 'stored')).toHaveLength(2);
    expect(outcomes.filter(({ text }) => /^Refused: At most 2 uploads a minute are accepted; try again in \d+ s\.$/.test(text))).toHaveLength(1);
  });
});
