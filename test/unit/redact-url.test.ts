import { redactUrl } from '../../src/core/logger';

describe('redactUrl', () => {
  test.each([
    ['/image/a?w=64&sig=abc', '/image/a?w=64&sig=[redacted]'],
    ['/image/a?SIG=abc&Api_Key=k', '/image/a?SIG=[redacted]&Api_Key=[redacted]'],
    ['/image/a?%73ig=abc&%53IGNATURE=def', '/image/a?%73ig=[redacted]&%53IGNATURE=[redacted]'],
    ['/image/a?access+token=x&access_token=y', '/image/a?access+token=x&access_token=[redacted]'],
    ['/image/a?api%2Dkey=x&password=', '/image/a?api%2Dkey=[redacted]&password=[redacted]'],
  ])('when a credential parameter is named %s, then its value is replaced', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  test.each([
    ['/image/a', '/image/a'],
    ['/image/a?w=64&sig', '/image/a?w=64&sig'],
    ['/image/a?%zz=1&w=2', '/image/a?%zz=1&w=2'],
    ['/image/a?signed=1&keys=2', '/image/a?signed=1&keys=2'],
  ])('when %s carries no credential value, then it is kept as it is', (url, kept) => {
    expect(redactUrl(url)).toBe(kept);
  });
});
