import { fallbackWidth, imgSnippet, srcsetOf, variantWidths } from '../../web/src/srcset';

const SIZES = [64, 128, 256, 640];

describe("the web page's srcset", () => {
  test('when an image is wider than every allowed size, then all of them are listed', () => {
    expect(variantWidths(SIZES, 4000)).toEqual(SIZES);
  });

  test('when an image is narrower than some sizes, then only those it can fill are listed', () => {
    expect(variantWidths(SIZES, 300)).toEqual([64, 128, 256]);
  });

  test('when an image is narrower than every size, or its width is unknown, then the smallest or all are listed', () => {
    expect(variantWidths(SIZES, 10)).toEqual([64]);
    expect(variantWidths(SIZES, null)).toEqual(SIZES);
  });

  test('when a fallback is chosen, then it is the first width at least the wanted one, else the widest', () => {
    expect(fallbackWidth([64, 128, 256], 100)).toBe(128);
    expect(fallbackWidth([64, 128], 1000)).toBe(128);
    expect(fallbackWidth([], 100)).toBeUndefined();
  });

  test('when a srcset is made, then each entry is a format=auto variant with its width descriptor', () => {
    expect(srcsetOf('', { id: 'abc', width: 200 }, SIZES)).toBe('/image/abc?w=64&format=auto 64w, /image/abc?w=128&format=auto 128w');
  });

  test('when a snippet is made for a name holding markup, then the alt text is escaped', () => {
    const snippet = imgSnippet('https://img.example', { id: 'abc', width: 100, height: 50, alt: '"><script>x</script>' }, SIZES);

    expect(snippet).toBe(
      '<img src="https://img.example/image/abc?w=64&amp;format=auto" srcset="https://img.example/image/abc?w=64&amp;format=auto 64w" ' +
        'sizes="(max-width: 64px) 100vw, 64px" width="100" height="50" alt="&quot;&gt;&lt;script&gt;x&lt;/script&gt;" loading="lazy">',
    );
  });
});
