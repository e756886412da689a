import express from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { problemResponder, routeNotFound } from '../../src/http/problem-responder';
import { createPageRouter } from '../../src/page/page-router';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const KEY = 'settings-key-0123456789';

describe('the web page as served', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ config: { apiKeys: namedKeys(KEY), variantSizes: [100, 200] } });
  });

  afterAll(async () => {
    await api.close();
  });

  test('when / is fetched, then it is the page with a CSP that allows no inline script and no framing', async () => {
    const response = await request(api.app).get('/');

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    const policy = String(response.headers['content-security-policy']);
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.text).toContain('<script defer src="/assets/page.js"></script>');
  });

  test('when its script is fetched, then it comes with the same headers', async () => {
    const response = await request(api.app).get('/assets/page.js');

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  test('when API routes are read, then they keep their own headers, without the page’s', async () => {
    const image = onlyUploadedImage(await upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]).set('Authorization', `Bearer ${KEY}`));

    for (const path of ['/image', image.url, `${image.url}/info`]) {
      const response = await request(api.app).get(path).set('Authorization', `Bearer ${KEY}`);
      expect(response.status).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.headers['content-security-policy']).toBeUndefined();
      expect(response.headers['cross-origin-resource-policy']).toBeUndefined();
    }
  });

  test('when /docs is fetched, then its CSP lets in Swagger UI\'s inline start-up script by its hash (test/browser/docs runs it)', async () => {
    const response = await request(api.app).get('/docs');

    expect(response.status).toBe(200);
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
  });

  test('when the client settings are asked, then they say a key is needed without naming it, and the variant sizes', async () => {
    const response = await request(api.app).get('/client-settings');

    expect(response.body).toEqual({
      apiKeyRequired: true,
      maxFileSize: api.config.maxFileSize,
      allowedTypes: ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif'],
      variantSizes: [100, 200],
      signedUrlsRequired: false,
    });
    expect(response.text).not.toContain(KEY);
  });

  test('when the page was never built, then / answers 404 saying how to build it', async () => {
    const app = express().use(createPageRouter('/nonexistent/page')).use(routeNotFound).use(problemResponder(pino({ level: 'silent' })));

    const response = await request(app).get('/');

    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 'route-not-found', detail: 'The web page is not built: `npm run build` makes it.' });
  });
});
