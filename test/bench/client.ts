/** HTTP calls the harness makes itself: seeding, warming, and checking that a body is accepted. */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

async function expectStatus(response: Response, status: number, what: string): Promise<unknown> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${what}: expected ${status}, got ${response.status}: ${text.slice(0, 500)}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function pngForm(field: string, files: readonly Buffer[]): FormData {
  const form = new FormData();
  files.forEach((bytes, index) => {
    form.append(field, new Blob([bytes], { type: 'image/png' }), `bench-${index}.png`);
  });
  return form;
}

/** Uploads the files in one request to our POST /image/upload; their ids, in order. */
export async function uploadToOurs(baseUrl: string, files: readonly Buffer[]): Promise<string[]> {
  const response = await fetch(`${baseUrl}/image/upload`, { method: 'POST', body: pngForm('images', files) });
  const answer = await expectStatus(response, 201, 'upload to our server');
  const images = isRecord(answer) && Array.isArray(answer.images) ? (answer.images as unknown[]) : [];
  const ids = images.map((image) => (isRecord(image) ? image.id : undefined));
  if (ids.length !== files.length || !ids.every((id) => typeof id === 'string')) {
    throw new Error(`our server answered an upload with ${JSON.stringify(answer)}`);
  }
  return ids;
}

/** Deletes one image (and its variants) from our server. */
export async function deleteFromOurs(baseUrl: string, id: string): Promise<void> {
  await expectStatus(await fetch(`${baseUrl}/image/${id}`, { method: 'DELETE' }), 204, `DELETE /image/${id}`);
}

/** Uploads `files` in requests of `perRequest` files, `concurrency` requests at a time; their ids, in order. */
export async function uploadManyToOurs(
  baseUrl: string,
  files: readonly Buffer[],
  perRequest: number,
  concurrency: number,
): Promise<string[]> {
  const batches: Buffer[][] = [];
  for (let start = 0; start < files.length; start += perRequest) batches.push(files.slice(start, start + perRequest));
  const ids: string[][] = new Array<string[]>(batches.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < batches.length; index = next++) {
      ids[index] = await uploadToOurs(baseUrl, batches[index] ?? []);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids.flat();
}

/** Uploads one file to the tutorial peer's POST /image/upload; its id. */
export async function uploadToPeer(baseUrl: string, file: Buffer): Promise<string> {
  const response = await fetch(`${baseUrl}/image/upload`, { method: 'POST', body: pngForm('image', [file]) });
  const answer = await expectStatus(response, 201, 'upload to the tutorial peer');
  if (!isRecord(answer) || typeof answer.id !== 'string') throw new Error(`the peer answered ${JSON.stringify(answer)}`);
  return answer.id;
}

/** GETs `url` and checks that exactly `expected` bytes come back. */
export async function fetchExpecting(url: string, expected: Buffer): Promise<void> {
  const response = await fetch(url);
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200 || !body.equals(expected)) {
    throw new Error(`GET ${url}: status ${response.status}, ${body.length} bytes instead of the ${expected.length} stored`);
  }
}

export async function etagOf(url: string): Promise<string> {
  const response = await fetch(url, { method: 'HEAD' });
  const etag = response.headers.get('etag');
  if (response.status !== 200 || etag === null) throw new Error(`HEAD ${url}: status ${response.status}, ETag ${String(etag)}`);
  return etag;
}

/** POSTs a prepared body once and requires 201, before the same body is sent under load. */
export async function expectCreated(url: string, contentType: string, body: Buffer): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': contentType }, body });
  await expectStatus(response, 201, `POST ${url}`);
}
