#!/usr/bin/env node
// The package's `bin`: registers tsx so the TypeScript CLI runs without a build step. The CLI itself notices when
// `npx` (which runs it through `sh -c`) is killed without passing the signal on: see processStops in local/cli/io.ts.
require('tsx/cjs');
require('./edgekeeper.ts');
