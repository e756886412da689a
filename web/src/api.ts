/** The API as the page uses it: same origin, JSON in, problem+json details out. */

import type { ClientSettings } from '../../src/page/client-settings-contract';

export type { ClientSettings };

export interface ImageInfo {
  readonly id: string;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  readonly width: number | null;
  readonly height: number | null;
  readonly uploadDate: string;
  readonly url: string;
}

export interface ImagePage {
  readonly images: readonly ImageInfo[];
  readonly next: string | null;
}

/** A refusal, with the `detail` of its problem document (or the status line when there is none). */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';

  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }

  /** 401 and 403 of a write: the page should ask for a (new) key. */
  get wantsApiKey(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** The `detail` of a problem+json body, or undefined when the body is not one. */
export function problemDetail(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'detail' in parsed && typeof parsed.detail === 'string') {
      return parsed.detail;
    }
  } catch {
    // Not JSON: a proxy's page, say; the caller falls back to the status.
  }
  return undefined;
}

async function problemOf(response: Response): Promise<ApiProblem> {
  const detail = problemDetail(await response.text());
  return new ApiProblem(response.status, detail ?? `The server answered ${response.status} ${response.statusText}.`);
}

/** Headers for a request that may need the API key: the key when one is saved. */
export type Authorization = Readonly<Record<string, string>>;

async function json<T>(path: string, authorization: Authorization = {}): Promise<T> {
  const response = await fetch(path, { headers: { Accept: 'application/json', ...authorization } });
  if (!response.ok) throw await problemOf(response);
  return (await response.json()) as T;
}

export const PAGE_SIZE = 24;

export function fetchSettings(): Promise<ClientSettings> {
  return json<ClientSettings>('/client-settings');
}

/** With API_KEYS, the images of the key given: the listing needs it. */
export function fetchImages(cursor: string | null, authorization: Authorization): Promise<ImagePage> {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor !== null) query.set('cursor', cursor);
  return json<ImagePage>(`/image?${query.toString()}`, authorization);
}

export function fetchInfo(id: string, authorization: Authorization): Promise<ImageInfo> {
  return json<ImageInfo>(`/image/${encodeURIComponent(id)}/info`, authorization);
}

export async function deleteImage(id: string, headers: Authorization): Promise<void> {
  const response = await fetch(`/image/${encodeURIComponent(id)}`, { method: 'DELETE', headers });
  if (!response.ok) throw await problemOf(response);
}
