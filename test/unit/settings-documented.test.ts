import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, SETTING_VARIABLES } from '../../src/config/config';

const root = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** `NAME=value` lines of .env.example, set or commented out. */
function exampleVariables(): string[] {
  return [...read('.env.example').matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] ?? '');
}

/** The first column of the settings table: rows that start with a variable in backticks. */
function tableVariables(markdown: string): string[] {
  return [...markdown.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1] ?? '');
}

describe('settings, declared once in the config schema', () => {
  test('when the schema is read, then it names every setting the config has', () => {
    expect(SETTING_VARIABLES.length).toBeGreaterThanOrEqual(Object.keys(loadConfig({})).length);
  });

  test('when .env.example is read, then it has every setting of the schema and no other', () => {
    expect([...exampleVariables()].sort()).toEqual([...SETTING_VARIABLES].sort());
  });

  test('when the settings table is read, then it has a row for every setting of the schema and no other', () => {
    expect([...tableVariables(read('README.md'))].sort()).toEqual([...SETTING_VARIABLES].sort());
  });
});
