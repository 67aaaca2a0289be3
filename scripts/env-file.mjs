// The env file `npm start` writes and reads (`.env`, or ENV_FILE), shared by the scripts that run
// from a clone (start.mjs, cli.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The env file's path: ENV_FILE (relative to the project root) or `.env`. */
export function envFilePath(root) {
  return resolve(root, process.env.ENV_FILE || '.env');
}

/** KEY=VALUE lines; # comments; optional single or double quotes around the value. */
export function parseEnvFile(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/** The env file's variables (none when it does not exist). */
export function readEnvFile(path) {
  return existsSync(path) ? parseEnvFile(readFileSync(path, 'utf8')) : {};
}
