import { resolve } from 'node:path';
import { ConfigError, readSecretFile } from './load-config';
import { parseDuration } from './schema';

/**
 * The operator CLI's own settings (libs/cli-commands): where the admin API is, the admin token it sends and
 * how long it waits. Not a service setting: the CLI is a client of the admin REST API.
 *
 * | Setting | Default |
 * |---|---|
 * | `--url`, `SWITCHBOARD_ADMIN_URL` | `http://<HOST or 127.0.0.1>:<ADMIN_PORT or 3002>` |
 * | `--token-file`, `SWITCHBOARD_ADMIN_TOKEN`, `SWITCHBOARD_ADMIN_TOKEN_FILE`, `ADMIN_TOKEN`, `ADMIN_TOKEN_FILE` | none (the first set wins, in this order) |
 * | `--timeout`, `SWITCHBOARD_TIMEOUT` | `30s` per request |
 *
 * A token is never taken from the command line (other users can read a process's arguments).
 */
export interface CliSettings {
  adminUrl: string;
  /** The bearer token, or undefined when none is configured (commands that need none still run). */
  token: string | undefined;
  /** Where the token came from, for messages (never the token). */
  tokenSource: string | undefined;
  timeoutMs: number;
}

export interface CliFlags {
  url?: string;
  tokenFile?: string;
  timeout?: string;
}

const DEFAULT_TIMEOUT = '30s';
/** A bearer token: one line of printable ASCII (what an HTTP header can carry). */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

function httpBase(value: string): string | undefined {
  try {
    const u = new URL(value);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname || u.username || u.password || u.search || u.hash) return undefined;
    return u.toString().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** The admin API's address when none is given: this machine's admin port (npm start, a container). */
function defaultAdminUrl(env: Record<string, string | undefined>): string {
  const port = env['ADMIN_PORT'] && /^\d{1,5}$/.test(env['ADMIN_PORT']) ? env['ADMIN_PORT'] : '3002';
  const host = env['HOST'] && !['0.0.0.0', '::', '[::]'].includes(env['HOST']) ? env['HOST'] : '127.0.0.1';
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/**
 * Reads the CLI's settings from its flags and environment. Throws a ConfigError naming each
 * problem (a URL that is not http(s), a token file that cannot be read, a variable and its `_FILE`
 * both set, a malformed duration).
 */
export function parseCliSettings(env: Record<string, string | undefined>, flags: CliFlags = {}): CliSettings {
  const problems: string[] = [];
  const set = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);

  const urlGiven = flags.url ?? set('SWITCHBOARD_ADMIN_URL');
  const urlName = flags.url !== undefined ? '--url' : 'SWITCHBOARD_ADMIN_URL';
  let adminUrl = defaultAdminUrl(env);
  if (urlGiven !== undefined) {
    const base = httpBase(urlGiven);
    if (base === undefined) problems.push(`${urlName} must be an http(s) URL with a host (no user:password@, query or fragment)`);
    else adminUrl = base;
  }

  const timeoutGiven = flags.timeout ?? set('SWITCHBOARD_TIMEOUT') ?? DEFAULT_TIMEOUT;
  const timeoutName = flags.timeout !== undefined ? '--timeout' : 'SWITCHBOARD_TIMEOUT';
  const timeoutMs = parseDuration(timeoutGiven);
  if (timeoutMs === undefined || timeoutMs < 1 || timeoutMs > 3_600_000) problems.push(`${timeoutName} must be a duration between 1ms and 1h, such as 500ms, 30s or 2m`);

  let token: string | undefined;
  let tokenSource: string | undefined;
  const fromFile = (label: string, path: string) => {
    const read = readSecretFile('token', resolve(path), label);
    if ('problem' in read) problems.push(read.problem);
    else {
      token = read.value;
      tokenSource = `${label} (${path})`;
    }
  };
  if (flags.tokenFile !== undefined) fromFile('--token-file', flags.tokenFile);
  else {
    for (const name of ['SWITCHBOARD_ADMIN_TOKEN', 'ADMIN_TOKEN']) {
      const value = set(name);
      const file = set(`${name}_FILE`);
      if (value !== undefined && file !== undefined) {
        problems.push(`${name} and ${name}_FILE are both set: set only one`);
        break;
      }
      if (value !== undefined) {
        token = value;
        tokenSource = name;
        break;
      }
      if (file !== undefined) {
        fromFile(`${name}_FILE`, file);
        break;
      }
    }
  }
  if (token === '') {
    problems.push(`the admin token from ${tokenSource} is empty`);
    token = undefined;
  } else if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    problems.push(`the admin token from ${tokenSource} must be one line of printable characters without spaces`);
    token = undefined;
  }

  if (problems.length) throw new ConfigError(problems);
  return { adminUrl, token, tokenSource, timeoutMs: timeoutMs as number };
}
