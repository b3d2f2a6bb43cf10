#!/usr/bin/env node
// `npm test`: the type check, Biome and shellcheck beside the Jest suite rather than before it. Jest spends most of
// its time waiting on sandboxes and host scripts, so the checks (about 45 s, one after another) fit in its idle
// time. Jest's output streams as it runs; each check's output is held and printed with the summary, so the two
// never interleave. Fails when any of them fails. Arguments go to Jest (`npm test -- test/unit`).
const { spawn } = require('node:child_process');

const CHECKS = ['build', 'lint', 'shellcheck'];

/** Runs a command; resolves with its exit code, its duration and, unless `inherit`, what it printed. */
function run(command, args, { inherit = false } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    let output = '';
    if (!inherit) {
      child.stdout.setEncoding('utf8').on('data', (text) => {
        output += text;
      });
      child.stderr.setEncoding('utf8').on('data', (text) => {
        output += text;
      });
    }
    child.once('error', (error) => resolve({ code: 1, seconds: 0, output: `${output}${error.message}\n` }));
    child.once('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000, output });
    });
  });
}

async function checks() {
  const results = [];
  for (const name of CHECKS) results.push({ name, ...(await run('npm', ['run', '--silent', name])) });
  return results;
}

async function main() {
  const [checked, jest] = await Promise.all([
    checks(),
    run(process.execPath, [require.resolve('jest/bin/jest'), ...process.argv.slice(2)], { inherit: true }),
  ]);
  const results = [...checked, { name: 'jest', ...jest }];
  for (const result of checked) {
    const text = result.output.trim();
    if (text) console.log(`\n── npm run ${result.name} ──\n${text}`);
  }
  console.log('\nnpm test:');
  for (const { name, code, seconds } of results) {
    console.log(`  ${code === 0 ? 'ok  ' : 'FAIL'} ${name.padEnd(10)} ${seconds.toFixed(1).padStart(6)} s`);
  }
  process.exitCode = results.every((result) => result.code === 0) ? 0 : 1;
}

main();
