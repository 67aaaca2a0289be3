#!/usr/bin/env node
// `npm test`: the whole suite. Starts local PostgreSQL/Redis if they are installed but not running,
// installs dependencies if missing, runs every Jest project, and ends with `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });

if (run('bash', [join(ROOT, 'scripts/services.sh'), 'ensure']).status !== 0) process.exit(1);
if (!existsSync(join(ROOT, 'node_modules', '.package-lock.json'))) {
  if (run('npm', ['install', '--no-audit', '--no-fund']).status !== 0) process.exit(1);
}

mkdirSync(join(ROOT, 'tmp'), { recursive: true });
const results = join(ROOT, 'tmp', 'jest-results.json');
const jest = run(
  process.execPath,
  // --forceExit: a handle left open by a failed test (a listener its cleanup never reached) must not
  // keep the run from ending; the failure itself is reported.
  [join(ROOT, 'node_modules/jest/bin/jest.js'), '--maxWorkers=1', '--forceExit', '--json', `--outputFile=${results}`, ...process.argv.slice(2)],
  { env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  skipped = r.numPendingTests + r.numTodoTests;
} else {
  failed = 1;
}
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(jest.status === 0 && failed === 0 ? 0 : 1);
