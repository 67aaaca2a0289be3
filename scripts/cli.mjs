#!/usr/bin/env node
// `npm run cli -- <command>`: the operator CLI from source (docs/cli.md). Like `npm start`, it reads
// the env file (`.env`, or ENV_FILE) under the environment, so the ADMIN_TOKEN and ADMIN_PORT that
// `npm start` generated there reach the CLI without exporting them; a variable set in the
// environment wins over the file. The defaults `npm start` gives the services apply too (the local
// PostgreSQL and Redis, PUBLIC_URL on this machine), so `config check` checks what they use.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyLocalDefaults, envFilePath, readEnvFile } from './env-file.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const processEnv = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== ''));
const env = {
  ...applyLocalDefaults({ ...readEnvFile(envFilePath(ROOT)), ...processEnv }),
  SWC_NODE_PROJECT: join(ROOT, 'apps/cli/tsconfig.app.json'),
  TS_NODE_PROJECT: join(ROOT, 'tsconfig.base.json'),
};
const child = spawn(process.execPath, ['-r', '@swc-node/register', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/cli/src/main.ts'), ...process.argv.slice(2)], {
  cwd: ROOT,
  env,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
