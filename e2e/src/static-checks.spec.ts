import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support/run-source';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const node = (args: string[], input?: string) =>
  spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env, input, maxBuffer: 16 * 1024 * 1024 });

describe('static checks', () => {
  it("the README's layout lists every lib, and only libs that exist", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const layout = readme.slice(readme.indexOf('## Layout'), readme.indexOf('## Tests'));
    const listed = [...layout.matchAll(/^  ([a-z0-9-]+)\/ /gm)].map((m) => m[1]).sort();
    const libs = readdirSync(join(ROOT, 'libs'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(listed).toEqual(libs);
  });

  /** Jest runs TypeScript through SWC, which does not type-check: this does, for every project. */
  it('every app, lib and test type-checks (tsc -p tsconfig.check.json)', () => {
    const r = node([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.check.json']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 300_000);

  describe('Nx module boundaries (eslint)', () => {
    const eslint = join(ROOT, 'node_modules/eslint/bin/eslint.js');

    beforeAll(() => {
      // The boundary rule reads Nx's project graph, which this computes and caches.
      const graph = node([join(ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects']);
      expect(graph.status).toBe(0);
    }, 300_000);

    it('the whole tree respects them', () => {
      const r = node([eslint, '.']);
      expect(r.stdout + r.stderr).not.toMatch(/error/);
      expect(r.status).toBe(0);
    }, 300_000);

    it('a platform lib importing a domain lib is refused', () => {
      const r = node(
        [eslint, '--stdin', '--stdin-filename', 'libs/config/src/lib/probe.ts'],
        "import { SlavesService } from '@switchboard/identity';\nexport const x = SlavesService;\n",
      );
      expect(r.stdout).toMatch(/enforce-module-boundaries/);
      expect(r.status).toBe(1);
    }, 300_000);

    it('a lib importing an app is refused', () => {
      const r = node(
        [eslint, '--stdin', '--stdin-filename', 'libs/identity/src/lib/probe.ts'],
        "import { GatewayModule } from '@switchboard/app-gateway';\nexport const x = GatewayModule;\n",
      );
      expect(r.stdout).toMatch(/enforce-module-boundaries/);
      expect(r.status).toBe(1);
    }, 300_000);
  });
});
