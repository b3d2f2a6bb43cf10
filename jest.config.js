/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  // @kubernetes/client-node 1.x and its auth deps ship ESM only; swc turns them into CommonJS.
  // One pattern lists them all: several patterns would each ignore the others.
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
  setupFiles: ['<rootDir>/local/polyfills.ts'],
  // Fails the run when any test changed this machine (files a host script edits, paths it creates, mounts).
  globalSetup: '<rootDir>/test/guard/setup.js',
  globalTeardown: '<rootDir>/test/guard/teardown.js',
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  testTimeout: 60_000,
};
