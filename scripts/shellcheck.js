#!/usr/bin/env node
// Lints every shell script of the project with shellcheck: files ending in .sh and files whose shebang names a
// POSIX shell or bash (stand-in commands have no extension). Part of `npm test`.
const { execFileSync, spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');

const SHEBANG = /^#!\s*(\/usr\/bin\/env\s+)?(\/bin\/|\/usr\/bin\/)?(ba)?sh\b/;

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((file) => file && !file.startsWith('node_modules/'))
  .filter((file) => {
    if (file.endsWith('.sh')) return true;
    try {
      return SHEBANG.test(readFileSync(file, 'utf8').slice(0, 120));
    } catch {
      return false;
    }
  });

if (spawnSync('shellcheck', ['--version']).error) {
  console.error('shellcheck is not installed: apt-get install -y shellcheck (CI installs it in .ci/run)');
  process.exit(1);
}
const result = spawnSync('shellcheck', ['--external-sources', ...files], { stdio: 'inherit' });
if (result.status === 0) console.log(`shellcheck: ${files.length} scripts clean`);
process.exit(result.status ?? 1);
