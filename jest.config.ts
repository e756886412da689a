/** @jest-config-loader-options {"transpileOnly": true} */
import type { Config } from 'jest';

/** @tus/server and its parts ship as ES modules only, which jest's CommonJS runtime cannot load as they are. */
const ES_MODULE_PACKAGES = ['@tus', 'srvx'];

/** How every test file is run, whatever it needs besides. */
const shared = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    '^.+\\.m?js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2023', isolatedModules: true, esModuleInterop: true } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ES_MODULE_PACKAGES.join('|')})/)`],
  testMatch: ['**/*.test.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/byte-equality.ts'],
} satisfies Config;

/**
 * Two projects: `unit` is pure logic, with no database and no page (`npm run test:unit`, a few
 * seconds); `integration` gets the database and the built page from its global setup. `npm test`
 * runs both.
 */
const config: Config = {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    {
      ...shared,
      displayName: 'integration',
      roots: ['<rootDir>/test/integration', '<rootDir>/test/browser', '<rootDir>/test/contract'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
  ],
  // Read from here, not from a project's options.
  testTimeout: 60_000,
  maxWorkers: 2,
};

export default config;
