#!/usr/bin/env node
// The package's `bin`: registers tsx so the TypeScript CLI runs without a build step. The CLI itself notices when
// `npx` (which runs it through `sh -c`) is killed without passing the signal on: see processStops in local/cli/io.ts.
const Module = require('node:module');
const path = require('node:path');

const loadJavaScript = Module._extensions['.js'];
require('tsx/cjs');
const compileAndLoad = Module._extensions['.js'];

// tsx only needs to compile this project's TypeScript. It would also rewrite every ES module of a dependency to
// CommonJS before loading it (@kubernetes/client-node: hundreds of files, twice the time Node takes to load them
// itself), while Node >= 20.19 loads ES modules with `require` on its own: dependencies go straight to Node.
if (process.features.require_module) {
  const dependencies = `${path.sep}node_modules${path.sep}`;
  Module._extensions['.js'] = function loadJs(module, filename) {
    const load = filename.includes(dependencies) ? loadJavaScript : compileAndLoad;
    return load.call(this, module, filename);
  };
}

require('./edgekeeper.ts');
