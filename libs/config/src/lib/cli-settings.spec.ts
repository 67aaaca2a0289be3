import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCliSettings } from './cli-settings';
import { ConfigError } from './load-config';

const problems = (env: Record<string, string | undefined>, flags = {}) => {
  try {
    parseCliSettings(env, flags);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('parseCliSettings (the operator CLI)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-settings-'));
    writeFileSync(join(dir, 'token'), 'sbat_from-a-file\n');
    writeFileSync(join(dir, 'empty'), '\n');
    writeFileSync(join(dir, 'spaced'), 'two words\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to this machine\'s admin port, 30 s, and no token', () => {
    expect(parseCliSettings({})).toEqual({ adminUrl: 'http://127.0.0.1:3002', token: undefined, tokenSource: undefined, timeoutMs: 30_000 });
    expect(parseCliSettings({ ADMIN_PORT: '4002', HOST: '0.0.0.0' }).adminUrl).toBe('http://127.0.0.1:4002');
    expect(parseCliSettings({ HOST: '10.0.0.5' }).adminUrl).toBe('http://10.0.0.5:3002');
    expect(parseCliSettings({ HOST: '::1' }).adminUrl).toBe('http://[::1]:3002');
  });

  it('takes the URL from --url, then SWITCHBOARD_ADMIN_URL (trailing slash dropped); only plain http(s)', () => {
    expect(parseCliSettings({ SWITCHBOARD_ADMIN_URL: 'https://admin.example/' }).adminUrl).toBe('https://admin.example');
    expect(parseCliSettings({ SWITCHBOARD_ADMIN_URL: 'https://a.example' }, { url: 'http://b.example:8080' }).adminUrl).toBe('http://b.example:8080');
    expect(problems({ SWITCHBOARD_ADMIN_URL: 'ftp://x' })).toEqual(['SWITCHBOARD_ADMIN_URL must be an http(s) URL with a host (no user:password@, query or fragment)']);
    expect(problems({}, { url: 'http://user:pw@x' })[0]).toMatch(/^--url must be/);
  });

  it('takes the token from --token-file, SWITCHBOARD_ADMIN_TOKEN(_FILE), then ADMIN_TOKEN(_FILE), and says where from', () => {
    expect(parseCliSettings({ SWITCHBOARD_ADMIN_TOKEN: 't1', ADMIN_TOKEN: 't2' })).toMatchObject({ token: 't1', tokenSource: 'SWITCHBOARD_ADMIN_TOKEN' });
    expect(parseCliSettings({ ADMIN_TOKEN: 't2' })).toMatchObject({ token: 't2', tokenSource: 'ADMIN_TOKEN' });
    expect(parseCliSettings({ SWITCHBOARD_ADMIN_TOKEN_FILE: join(dir, 'token') })).toMatchObject({ token: 'sbat_from-a-file', tokenSource: `SWITCHBOARD_ADMIN_TOKEN_FILE (${join(dir, 'token')})` });
    expect(parseCliSettings({ ADMIN_TOKEN_FILE: join(dir, 'token') }).token).toBe('sbat_from-a-file');
    expect(parseCliSettings({ SWITCHBOARD_ADMIN_TOKEN: 't1' }, { tokenFile: join(dir, 'token') })).toMatchObject({ token: 'sbat_from-a-file', tokenSource: expect.stringMatching(/^--token-file/) });
    // An empty variable counts as unset.
    expect(parseCliSettings({ SWITCHBOARD_ADMIN_TOKEN: '', ADMIN_TOKEN: 't2' }).token).toBe('t2');
  });

  it('names each problem with the token', () => {
    expect(problems({ SWITCHBOARD_ADMIN_TOKEN: 'a', SWITCHBOARD_ADMIN_TOKEN_FILE: join(dir, 'token') })).toEqual(['SWITCHBOARD_ADMIN_TOKEN and SWITCHBOARD_ADMIN_TOKEN_FILE are both set: set only one']);
    expect(problems({}, { tokenFile: join(dir, 'missing') })).toEqual([`--token-file cannot be read (${join(dir, 'missing')}: no such file)`]);
    expect(problems({ ADMIN_TOKEN_FILE: join(dir, 'empty') })).toEqual([`the admin token from ADMIN_TOKEN_FILE (${join(dir, 'empty')}) is empty`]);
    expect(problems({ SWITCHBOARD_ADMIN_TOKEN_FILE: join(dir, 'spaced') })[0]).toMatch(/must be one line of printable characters without spaces$/);
    // A problem line never holds the token.
    expect(problems({ SWITCHBOARD_ADMIN_TOKEN: 'secret value' }).join()).not.toContain('secret');
  });

  it('reads the timeout as a duration', () => {
    expect(parseCliSettings({ SWITCHBOARD_TIMEOUT: '2m' }).timeoutMs).toBe(120_000);
    expect(parseCliSettings({ SWITCHBOARD_TIMEOUT: '2m' }, { timeout: '500ms' }).timeoutMs).toBe(500);
    expect(problems({ SWITCHBOARD_TIMEOUT: 'soon' })).toEqual(['SWITCHBOARD_TIMEOUT must be a duration between 1ms and 1h, such as 500ms, 30s or 2m']);
    expect(problems({}, { timeout: '0' })[0]).toMatch(/^--timeout must be/);
  });
});
