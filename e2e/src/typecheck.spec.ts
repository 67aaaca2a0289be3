import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support/run-source';

/** Jest runs TypeScript through SWC, which does not type-check: this does, for every project. */
describe('TypeScript', () => {
  it('every app, lib and test type-checks (tsc -p tsconfig.check.json)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.check.json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
