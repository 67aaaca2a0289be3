import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readConfigs } from 'jest-config';
import * as ts from 'typescript';
import { ROOT } from './support/run-source';

/**
 * The suite must not flake on a loaded machine because of Jest's 5 s default timeout (a clean CI run
 * once failed that way in migrations.spec.ts). Jest reads `testTimeout` from the configuration it
 * was started with only: under `npm test` that is the root jest.config.cjs, and a project's own
 * `testTimeout` is ignored. So the root sets a generous default, and every test or hook that waits
 * states its own bound as well.
 */
describe('test timeouts', () => {
  it('npm test (the root Jest configuration) gives a test without its own timeout at least 60 s', async () => {
    const { globalConfig } = await readConfigs({ $0: 'jest', _: [] }, [ROOT]);
    expect(globalConfig.testTimeout).toBeGreaterThanOrEqual(60_000);
  }, 120_000);

  it('so does running the e2e project alone (-c e2e/jest.config.cjs)', async () => {
    const { globalConfig } = await readConfigs({ $0: 'jest', _: [], config: join(ROOT, 'e2e/jest.config.cjs') }, [ROOT]);
    expect(globalConfig.testTimeout).toBeGreaterThanOrEqual(60_000);
  }, 120_000);

  it('every test or hook that waits (async, or runs a process synchronously) has an explicit timeout', () => {
    const missing: string[] = [];
    for (const file of specFiles()) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      for (const call of waitingCallsWithoutTimeout(source)) {
        const { line } = source.getLineAndCharacterOfPosition(call.getStart());
        missing.push(`${relative(ROOT, file)}:${line + 1} ${call.getText().split('\n')[0].slice(0, 100)}`);
      }
    }
    expect(missing).toEqual([]);
  }, 120_000);
});

/** Every *.spec.ts under e2e/src, libs and apps. */
function specFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.spec.ts')) out.push(path);
    }
  };
  for (const dir of ['e2e/src', 'libs', 'apps']) walk(join(ROOT, dir));
  return out;
}

const TESTS = new Set(['it', 'test']);
const HOOKS = new Set(['beforeAll', 'afterAll', 'beforeEach', 'afterEach']);

/**
 * `it`/`test` (with .skip, .only, .concurrent, .each(...)) and hook calls whose function waits but
 * that pass no timeout. A synchronous function cannot be timed out by Jest, so it needs none unless it
 * runs a process (spawnSync and the like), which is the kind of wait that a bound documents.
 */
function waitingCallsWithoutTimeout(source: ts.SourceFile): ts.CallExpression[] {
  const found: ts.CallExpression[] = [];
  const waits = (fn: ts.Expression) =>
    !(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) ||
    (ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async) !== 0 ||
    /\b(spawnSync|execFileSync|execSync)\b/.test(fn.getText());
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      let callee: ts.Expression = node.expression;
      if (ts.isCallExpression(callee)) callee = callee.expression; // it.each(table)(name, fn)
      const root = ts.isPropertyAccessExpression(callee) ? callee.expression : callee;
      const name = ts.isIdentifier(root) ? root.text : undefined;
      const todo = ts.isPropertyAccessExpression(callee) && callee.name.text === 'todo';
      if (name && (TESTS.has(name) || HOOKS.has(name)) && !todo) {
        const fnIndex = HOOKS.has(name) ? 0 : 1;
        const fn = node.arguments[fnIndex];
        if (fn && node.arguments.length === fnIndex + 1 && waits(fn)) found.push(node);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
