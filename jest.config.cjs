/** Jest runs TypeScript through ts-jest in transpile-only mode (type checking is
 * `npm run typecheck`, run first by `npm test`), compiling our ESM sources to
 * CommonJS for the test runtime. */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true, module: 'commonjs', moduleResolution: 'node', target: 'ES2022', esModuleInterop: true, sourceMap: true } }],
};
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/test/{operators,lib,properties,examples,meta}/**/*.spec.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
      globalSetup: '<rootDir>/test/integration/globalSetup.cjs',
      globalTeardown: '<rootDir>/test/integration/globalTeardown.cjs',
    },
  ],
};
