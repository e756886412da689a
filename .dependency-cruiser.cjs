/**
 * The architecture's rules, checked by `npm run lint`. Folders are layers: a folder may use a
 * folder below it, never one that (directly or through others) uses it back.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'A folder must not import from a folder that imports it back, directly or through others.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'A module must not import itself back through others.',
      severity: 'error',
      from: { path: '^src' },
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^src',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
