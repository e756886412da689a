import type { Response } from 'supertest';

/** Asserts an RFC 9457 problem+json answer with the given status and code. */
export function expectProblem(response: Response, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({
    type: `urn:image-api:problem:${code}`,
    status,
    code,
    title: expect.any(String) as unknown,
    detail: expect.any(String) as unknown,
  });
}
