import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import request, { type Response } from 'supertest';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';

const running = useListeningTestApp();

/** The raw answer to bytes that are not HTTP, written by the server straight to the socket. */
function answerToGarbage(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    let answer = '';
    socket.on('data', (part: Buffer) => (answer += part.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

function directivesOf(response: Response): Map<string, string> {
  const policy = String(response.headers['content-security-policy']);
  return new Map(policy.split(';').map((directive) => {
    const [name = '', ...values] = directive.trim().split(/\s+/);
    return [name, values.join(' ')];
  }));
}

describe('X-Content-Type-Options on every answer', () => {
  test('when answers of every kind go out on both paths, then each says nosniff', async () => {
    const { app, expressApp } = running.api;
    const { url } = onlyUploadedImage(await upload(app, [{ bytes: await makeImage('png'), filename: 'a.png' }]));
    const etag = String((await request(app).head(url)).headers.etag);

    const answers = await Promise.all([
      request(app).get('/image'),
      request(app).get(`${url}/info`),
      request(app).get('/healthz'),
      request(app).get('/client-settings'),
      request(app).get(url),
      request(app).get(url).set('If-None-Match', etag),
      request(expressApp).get(url),
      request(app).get('/image/not-an-id'),
      request(expressApp).get('/image/not-an-id'),
      request(app).get('/nowhere'),
      request(app).post('/image/upload').send({ not: 'multipart' }),
      request(app).options('/image/uploads'),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 304, 200, 400, 400, 404, 400, 204]);
    for (const answer of answers) expect(answer.headers['x-content-type-options']).toBe('nosniff');
  });

  test('when a request is not HTTP at all, then the problem written to the socket says nosniff too', async () => {
    const answer = await answerToGarbage(running.server.port);

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/);
  });
});

describe('the /docs page', () => {
  test('when it is served, then its CSP allows its one inline script by hash and nothing else inline, and forbids framing', async () => {
    const response = await request(running.api.app).get('/docs');

    expect(response.status).toBe(200);
    const inlineScripts = [...response.text.matchAll(/<script>([^<]*)<\/script>/g)].map((match) => match[1] ?? '');
    expect(inlineScripts).toHaveLength(1);
    const hash = createHash('sha256').update(inlineScripts[0] ?? '').digest('base64');
    const directives = directivesOf(response);
    expect(directives.get('script-src')).toBe(`'self' 'sha256-${hash}'`);
    expect(directives.get('default-src')).toBe("'self'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  test('when Swagger UI loads its script and the document, then both come from this origin, as the CSP asks', async () => {
    const page = await request(running.api.app).get('/docs');
    const sources = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1] ?? '');

    const loaded = await Promise.all([...sources, '/openapi.json'].map((source) => request(running.api.app).get(source)));

    expect(sources.every((source) => source.startsWith('/'))).toBe(true);
    expect(loaded.map((answer) => answer.status)).toEqual(loaded.map(() => 200));
  });
});
