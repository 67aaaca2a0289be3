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

/**
 * The settings `npm start` gives the services when neither the environment nor the env file sets
 * them (local ports, the local PostgreSQL and Redis, URLs on this machine), filled into `env`.
 * `npm run cli` applies the same, so its `config check` and `backup` see what the services see.
 */
export function applyLocalDefaults(env) {
  env.HOST ||= '127.0.0.1';
  env.GATEWAY_PORT ||= '3000';
  env.AUTH_PORT ||= '3001';
  env.ADMIN_PORT ||= '3002';
  env.PROPAGATOR_PORT ||= '3003';
  env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/switchboard';
  env.REDIS_URL ||= 'redis://127.0.0.1:6379/0';
  const local = env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;
  env.PUBLIC_URL ||= `http://${local}:${env.GATEWAY_PORT}`;
  env.AUTH_URL ||= `http://${local}:${env.AUTH_PORT}`;
  env.PROPAGATOR_URL ||= `http://${local}:${env.PROPAGATOR_PORT}`;
  return env;
}
