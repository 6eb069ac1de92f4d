/** Jest runs TypeScript through ts-jest in transpile-only mode (type checking is
 * `npm run typecheck`, run first by `npm test`), compiling our ESM sources to
 * CommonJS for the test runtime. */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true, module: 'commonjs', moduleResolution: 'node', target: 'ES2022', esModuleInterop: true, sourceMap: true } }],
};
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };
module.exports = {
  // No test may depend on how fast the machine is: tests are bounded by the work they do, and this
  // limit only stops a hung test (a loaded 2-core machine can be many times slower than an idle one).
  testTimeout: 600_000,
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
