import { inlineDisposition, safeFilename } from '../../src/delivery/delivery-headers';

describe('safeFilename', () => {
  test.each([
    ['cat.png', 'cat.png'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\photos\\dog.jpg', 'dog.jpg'],
    ['a\u0000b\u001fc\u007f.png', 'abc.png'],
    ['  ..hidden.png', 'hidden.png'],
    ['', 'image'],
    ['/', 'image'],
    ['x'.repeat(500), 'x'.repeat(200)],
    [`${'a'.repeat(199)}😀.png`, `${'a'.repeat(199)}😀`],
    ['invoice\u202Egnp.exe', 'invoicegnp.exe'],
  ])('when the name is %j, then %j', (name, safe) => {
    expect(safeFilename(name)).toBe(safe);
  });
});

describe('inlineDisposition', () => {
  test('when the name has quotes or a percent sign, then the ASCII fallback replaces them', () => {
    expect(inlineDisposition('50% "off".png', 'image/png')).toBe(
      'inline; filename="50_ _off_.png"; filename*=UTF-8\'\'50%25%20%22off%22.png',
    );
  });
});

describe('inlineDisposition extensions', () => {
  test.each([
    ['cat.jpeg', 'image/jpeg', 'inline; filename=cat.jpeg'],
    ['cat.JPG', 'image/jpeg', 'inline; filename=cat.JPG'],
    ['page.html', 'image/png', 'inline; filename=page.html.png'],
    ['noextension', 'image/webp', 'inline; filename=noextension.webp'],
  ])('when %j is stored as %s, then it is offered as a file of that type', (name, type, header) => {
    expect(inlineDisposition(name, type)).toBe(header);
  });
});
