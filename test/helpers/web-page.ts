import type { Locator, Page } from 'playwright-core';

export interface PickedFile {
  readonly name: string;
  readonly mimeType: string;
  readonly buffer: Buffer;
}

/** Files chosen the way a person does: the Dashboard's "browse files" button, then the file chooser. */
export async function pickFiles(page: Page, files: readonly PickedFile[]): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'browse files' }).click(),
  ]);
  await chooser.setFiles([...files]);
}

/** The line of one file in the list of uploads. */
export function uploadRow(page: Page, name: string): Locator {
  return page.locator('#uploads .upload').filter({ has: page.locator('.upload-name', { hasText: name }) });
}

/** Waits until the file's line says how its upload ended, and answers its state and text. */
export async function uploadOutcome(page: Page, name: string, timeout = 30_000): Promise<{ state: string; text: string }> {
  const row = uploadRow(page, name);
  const ended = row.and(page.locator('[data-state="stored"], [data-state="refused"], [data-state="cancelled"]'));
  await ended.waitFor({ timeout });
  return { state: (await row.getAttribute('data-state')) ?? '', text: await row.locator('.upload-status').innerText() };
}

/** The gallery's tile of one image, by its file name. */
export function galleryItem(page: Page, name: string): Locator {
  return page.locator('#gallery li').filter({ has: page.locator('.tile-name', { hasText: name }) });
}

/** The id of the image a gallery tile shows. */
export async function galleryImageId(page: Page, name: string): Promise<string> {
  const id = await galleryItem(page, name).getAttribute('data-id');
  if (id === null) throw new Error(`no gallery item for ${name}`);
  return id;
}
