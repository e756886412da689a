import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { SETTING_VARIABLES } from '../../src/config/config';
import { errorCatalog } from '../../src/core/app-error';

const root = resolve(__dirname, '../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

function markdownFilesUnder(folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return markdownFilesUnder(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** The prose of a markdown file: fenced blocks and code spans hold examples, not links or headings. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as `-`, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const fenceless = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading = ''] of fenceless.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const repeats = seen.get(slug) ?? 0;
    seen.set(slug, repeats + 1);
    anchors.add(repeats === 0 ? slug : `${slug}-${repeats}`);
  }
  return anchors;
}

/** Every relative link of a file that leads nowhere, as `file: target`. */
function brokenLinksOf(file: string): string[] {
  const links = [...prose(read(file)).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map(([, target = '']) => target);
  return links
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .filter((target) => {
      const [path = '', anchor] = target.split('#');
      const linked = path === '' ? join(root, file) : resolve(dirname(join(root, file)), decodeURIComponent(path));
      if (!existsSync(linked)) return true;
      if (anchor === undefined || statSync(linked).isDirectory()) return false;
      return !anchorsOf(readFileSync(linked, 'utf8')).has(decodeURIComponent(anchor));
    })
    .map((target) => `${relative(root, join(root, file))}: ${target}`);
}

/** The files of this repository a document names in a code span, such as `src/config/config.ts`, that are not there. */
function missingFilesNamedIn(file: string): string[] {
  const fenceless = read(file).replace(/^```[\s\S]*?^```/gm, '');
  const named = [...fenceless.matchAll(/`((?:src|test|tools|web|docs|\.ci)\/[^`\s]*)`/g)].map(([, path = '']) => path);
  return named.filter((path) => !existsSync(join(root, path))).map((path) => `${file}: ${path}`);
}

describe('the documentation', () => {
  test('when every relative link in README.md and docs/ is followed, then its file and heading exist', () => {
    const files = ['README.md', ...markdownFilesUnder('docs')];

    expect(files.flatMap(brokenLinksOf)).toEqual([]);
  });

  test('when README.md and docs/ name a file of the repository, then it exists', () => {
    const files = ['README.md', ...markdownFilesUnder('docs')];

    expect(files.flatMap(missingFilesNamedIn)).toEqual([]);
  });

  test('when the settings are looked up, then docs/configuration.md and .env.example name each one, and nothing else', () => {
    const table = [...read('docs/configuration.md').matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map(([, name]) => name);
    const example = [...read('.env.example').matchAll(/^#? ?([A-Z0-9_]+)=/gm)].map(([, name]) => name);

    expect([...table].sort()).toEqual([...SETTING_VARIABLES].sort());
    expect([...example].sort()).toEqual([...SETTING_VARIABLES].sort());
  });

  test('when the problem codes are looked up, then docs/api.md lists each one once with its status, and nothing else', () => {
    const listed = [...read('docs/api.md').matchAll(/^\| (\d{3}) \| `([a-z-]+)` \|/gm)].map(([, status, code]) => `${status} ${code}`);
    const catalogue = Object.entries(errorCatalog).map(([code, { status }]) => `${status} ${code}`);

    expect([...listed].sort()).toEqual([...catalogue].sort());
  });

  test('when CI runs the tests, then it runs the command the README gives in its Quick start', () => {
    const quickStart = /^## Quick start\n([\s\S]*?)^## /m.exec(read('README.md'))?.[1] ?? '';
    const ciCommands = read('.ci/run').split('\n');

    expect(quickStart).toMatch(/^npm test\b/m);
    expect(ciCommands.some((line) => /^npm test\b/.test(line))).toBe(true);
  });
});
