#!/usr/bin/env node
// The package's `bin`: registers tsx so the TypeScript CLI runs without a build step.
require('tsx/cjs');
require('./edgekeeper.ts');
