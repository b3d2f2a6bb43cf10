const { availableParallelism } = require('node:os');

// The AWS SDK warns once per process that its 2027 releases will need Node 22; every test worker is a process, so
// the same paragraph would fill the output dozens of times. The CLI and the Lambdas still show it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Five projects, selectable with `--selectProjects` (see the `test:*` scripts in package.json):
 * - unit: pure tests (no root, no namespaces, no network beyond in-process loopback servers); `npm run test:unit`
 * - host: the host scripts run for real, as root, in private mount namespaces
 * - infra: the CDK stack, synthesized once per run (test/infra/global-setup.ts) and shared by every infra test
 * - workflows: the ASL run locally with stub handlers
 * - e2e: the workflows against the sandbox (root, namespaces)
 * @type {import('jest').Config}
 */
const common = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  // @kubernetes/client-node 1.x and its auth deps ship ESM only; swc turns them into CommonJS.
  // One pattern lists them all: several patterns would each ignore the others.
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
  setupFiles: ['<rootDir>/local/polyfills.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};

/** @param {string} name the project's folder under test/ */
function project(name, extra = {}) {
  return { ...common, displayName: name, rootDir: __dirname, roots: [`<rootDir>/test/${name}`], ...extra };
}

module.exports = {
  projects: [
    project('unit'),
    project('host'),
    project('infra', {
      globalSetup: '<rootDir>/test/infra/global-setup.ts',
      globalTeardown: '<rootDir>/test/infra/global-teardown.ts',
    }),
    project('workflows'),
    // the sandboxes record the edgekeeper identity's requests; the teardown holds deploy/rbac.yaml to them
    project('e2e', {
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
    }),
  ],
  // Fails the run when any test changed this machine (files a host script edits, paths it creates, mounts).
  globalSetup: '<rootDir>/test/guard/setup.js',
  globalTeardown: '<rootDir>/test/guard/teardown.js',
  testTimeout: 60_000,
  // Jest's default, one worker fewer than the CPUs, runs a two-CPU machine's suite in band, one file at a time.
  // The e2e and host files spend most of their time waiting on sandboxes and host scripts, so two files at once
  // nearly halve the run there. `--maxWorkers=1` on the command line still wins.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  // Longest files first, also after a failed run and on a machine without Jest's cached durations (CI)
  testSequencer: '<rootDir>/test/sequencer.js',
};
