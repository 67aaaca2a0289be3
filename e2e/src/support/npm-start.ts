import { ChildProcess, spawn } from 'node:child_process';
import { ROOT } from './run-source';

/**
 * Starts `npm start` in a process group of its own (so a test can end the whole group by its PID),
 * adds it to `running` for the test's cleanup; `out()` is everything it printed so far.
 */
export function startNpm(env: Record<string, string>, running: ChildProcess[]): { npm: ChildProcess; out: () => string } {
  let out = '';
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(npm);
  npm.stdout?.on('data', (d) => (out += d));
  npm.stderr?.on('data', (d) => (out += d));
  return { npm, out: () => out };
}
