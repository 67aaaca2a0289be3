import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED_SECRETS, SERVICE_KEYS, ServiceName, parseConfig } from '@switchboard/config';
import { protocolHash } from '@switchboard/credentials';
import { freePort, waitFor } from '@switchboard/testing';
import { ApiClient } from './support/api-client';
import { FakeSlave } from './support/fake-slave';
import { ipsClient, md5 } from './support/ips';
import { ROOT } from './support/run-source';
import { ADMIN_TOKEN, adminApi, http, MASTER_KEY as MK, startSystem, System } from './support/system';

/** Every wait on a CLI process: SWC compiles the CLI on each start, and the machine is loaded. */
const PROCESS_TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => any;
}

/**
 * The operator CLI (issue 12), run as operators run it: a child process per command, from source the
 * way `npm run cli` starts it, against the real system (admin API, PostgreSQL, Redis). Each command
 * is checked by what the admin API reports afterwards, not by the CLI's own words alone.
 */
describe('operator CLI (switchboard …)', () => {
  let sys: System;
  let a: FakeSlave;
  let b: FakeSlave;
  let ips: ReturnType<typeof ipsClient>;
  const admin = adminApi(() => sys);

  /** `switchboard <args>` with the admin URL and token of the system unless `env` says otherwise. */
  const cli = (args: string[], opts: { env?: Record<string, string | undefined>; input?: string; bare?: boolean } = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const env: Record<string, string> = {
        PATH: process.env['PATH'] ?? '',
        SWC_NODE_PROJECT: 'apps/cli/tsconfig.app.json',
        TS_NODE_PROJECT: 'tsconfig.base.json',
      };
      const given = { ...(opts.bare ? {} : { SWITCHBOARD_ADMIN_URL: sys.urls.admin, SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN }), ...opts.env };
      for (const [k, v] of Object.entries(given)) if (v !== undefined) env[k] = v;
      const child = spawn(process.execPath, ['-r', '@swc-node/register', '-r', 'tsconfig-paths/register', 'apps/cli/src/main.ts', ...args], {
        cwd: ROOT,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.end(opts.input ?? '');
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`switchboard ${args.join(' ')} did not exit within ${PROCESS_TIMEOUT_MS} ms; stderr: ${stderr}`));
      }, PROCESS_TIMEOUT_MS);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) });
      });
    });

  /** A failure as operators should see it: one clear message on stderr, no stack trace, nothing on stdout. */
  const expectClean = (r: Run, code: number, words: RegExp) => {
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.stringMatching(words) });
    expect(r.stderr).not.toMatch(/\n\s+at |Error: |TypeError|ZodError/);
    expect(r.stderr).toMatch(/^(switchboard: |error: )/);
  };

  beforeAll(async () => {
    sys = await startSystem();
    ips = ipsClient(sys.urls.gateway);
    a = await new FakeSlave('key-of-cli-slave-a-0123456789').start();
    b = await new FakeSlave('key-of-cli-slave-b-0123456789').start();
  }, 180_000);
  afterAll(async () => {
    for (const s of [a, b]) await s?.stop();
    await sys?.stop();
  }, 180_000);

  it('admin-token create | list | revoke: the token is shown once, works, is listed, and is refused once revoked', async () => {
    const created = await cli(['admin-token', 'create', 'cli-ops', '--json']);
    expect(created.code).toBe(0);
    const { id, token } = created.json();
    expect(token).toMatch(/^sbat_[A-Za-z0-9_-]{43}$/);
    // The new token works against the API, and with the CLI (from a file, as --token-file reads it).
    expect((await admin('/admin/slaves', 'GET', undefined, token)).status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });

    const human = await cli(['--token-file', join(dir, 'token'), 'admin-token', 'list'], { env: { SWITCHBOARD_ADMIN_TOKEN: undefined } });
    rmSync(dir, { recursive: true, force: true });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^${id}\\s+cli-ops\\s+\\S+\\s+bootstrap\\s`, 'm'));
    expect(human.stdout).not.toContain(token);

    const revoked = await cli(['admin-token', 'revoke', String(id), '--json']);
    expect(revoked.code).toBe(0);
    expect(revoked.json()).toMatchObject({ id, name: 'cli-ops', revoked_by: 'bootstrap' });
    expect((await admin('/admin/slaves', 'GET', undefined, token)).status).toBe(401);
    const listed = (await admin('/admin/tokens?revoked=true')).json().items as { id: number }[];
    expect(listed.map((t) => t.id)).toContain(id);

    // The revoked token, used by the CLI: exit 1, "refused", no stack trace, the token never printed.
    const refused = await cli(['slave', 'list'], { env: { SWITCHBOARD_ADMIN_TOKEN: token } });
    expectClean(refused, 1, /the admin token was refused \(401 Unauthorized/);
    expect(refused.stdout + refused.stderr).not.toContain(token);
  }, 240_000);

  it('slave add | list | disable | enable | set-url | delete change what the API reports', async () => {
    const added = await cli(['slave', 'add', a.url]);
    expect(added.code).toBe(0);
    const key = /^[0-9a-f]{48}$/m.exec(added.stdout)?.[0];
    expect(added.stdout).toContain('shown only this once');
    expect(key).toBeDefined();
    const id = Number(/^Slave (\d+) registered/m.exec(added.stdout)?.[1]);
    // The slave registers with the key the CLI showed (its per-slave master key).
    expect((await ips.get({ do: 'verifySettings', key: key!, url: a.url, ourKey: a.key })).json().status).toBe('SUCCESS');

    const list = await cli(['slave', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(list.json()).toEqual([expect.objectContaining({ id, url: a.url, enabled: true, pending: 0, dead: 0 })]);

    const off = await cli(['slave', 'disable', String(id), '--reason', 'maintenance']);
    expect([off.code, off.stdout]).toEqual([0, `Slave ${id} (${a.url}) is disabled (admin: maintenance).\n`]);
    expect((await admin('/admin/slaves')).json().items[0]).toMatchObject({ id, enabled: false, disabled_reason: 'admin: maintenance' });

    const on = await cli(['slave', 'enable', String(id)]);
    expect(on.code).toBe(0);
    expect((await admin('/admin/slaves')).json().items[0]).toMatchObject({ id, enabled: true, disabled_reason: null });

    // A URL typo fixed in place; then the same URL again: 409 with the API's words and the CLI's hint.
    const moved = await cli(['slave', 'set-url', String(id), b.url, '--json']);
    expect(moved.code).toBe(0);
    expect(moved.json()).toMatchObject({ id, url: b.url, enabled: true });
    const again = await cli(['slave', 'add', b.url]);
    expectClean(again, 1, /Conflict: .*\(slave_exists\)[\s\S]*--rotate/);
    const rotated = await cli(['slave', 'add', b.url, '--rotate', '--json']);
    expect(rotated.code).toBe(0);
    expect(rotated.json()).toMatchObject({ id, url: b.url, created: false, master_key: expect.stringMatching(/^[0-9a-f]{48}$/) });
    expect(rotated.json().master_key).not.toBe(key);

    // Deleting needs --yes; nothing is sent without it.
    const unsure = await cli(['slave', 'delete', String(id)]);
    expectClean(unsure, 2, /cannot be undone: add --yes/);
    expect((await admin('/admin/slaves')).json().items).toHaveLength(1);
    const gone = await cli(['slave', 'delete', String(id), '--yes']);
    expect([gone.code, gone.stdout]).toEqual([0, `Slave ${id} deleted.\n`]);
    expect((await admin('/admin/slaves')).json().items).toEqual([]);
  }, 300_000);

  it('member create (password from stdin) | list | ban | unban | unlock', async () => {
    const created = await cli(['member', 'create', '--name', 'CliAlice', '--email', 'cli-alice@example.test', '--password-stdin', '--json'], { input: 'correct horse battery\n' });
    expect(created.code).toBe(0);
    const member = created.json();
    expect(member).toMatchObject({ name: 'CliAlice', email: 'cli-alice@example.test', banned: false });
    // The password is what stdin held, without its line break: a slave's login with its hash succeeds.
    const hash = await protocolHash('correct horse battery', member.pass_salt);
    const login = (password: string) => ips.get({ do: 'login', key: md5(MK, 'CliAlice'), id: 'CliAlice', idType: '1', password });
    expect((await login(hash)).json().status).toBe('SUCCESS');

    const listed = await cli(['member', 'list', '--search', 'cli-ALICE']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${member.id}\\s+CliAlice\\s+cli-alice@example\\.test\\s+no\\s`, 'm'));

    const banned = await cli(['member', 'ban', String(member.id)]);
    expect([banned.code, banned.stdout]).toEqual([0, `Banned: Member ${member.id} "CliAlice" <cli-alice@example.test>, banned.\n`]);
    expect((await admin(`/admin/members/${member.id}`)).json().banned).toBe(true);
    const unbanned = await cli(['member', 'unban', String(member.id), '--json']);
    expect(unbanned.code).toBe(0);
    expect(unbanned.json()).toMatchObject({ id: member.id, banned: false });
    expect((await admin(`/admin/members/${member.id}`)).json().banned).toBe(false);

    // Locked by wrong passwords (LOGIN_LOCK_THRESHOLD 5), unlocked by the CLI.
    for (let i = 0; i < 5; i++) await login(md5(`wrong${i}`));
    await waitFor(async () => (await admin(`/admin/members/${member.id}`)).json().locked_until !== null, 15_000, 'the member locked');
    const unlocked = await cli(['member', 'unlock', String(member.id)]);
    expect(unlocked.code).toBe(0);
    expect((await admin(`/admin/members/${member.id}`)).json()).toMatchObject({ locked_until: null, failed_logins: 0 });
    expect((await login(hash)).json().status).toBe('SUCCESS');
  }, 300_000);

  it('app create | list | rotate-secret: the secret is shown once; the old one stops verifying', async () => {
    const created = await cli(['app', 'create', '--title', 'CLI Gallery', '--type', 'web', '--callback-url', 'https://gallery.example/cb', '--json']);
    expect(created.code).toBe(0);
    const app = created.json();
    expect(app).toMatchObject({ title: 'CLI Gallery', type: 'web', callback_url: 'https://gallery.example/cb', enabled: true });
    const old = new ApiClient(sys.urls.gateway, app.api_key, app.secret);
    expect((await old.call('test.echo', { echo: 'before' })).json().echo).toBe('before');

    const listed = await cli(['app', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${app.api_key}\\s+web\\s+yes\\s+md5\\s+-\\s+\\S+\\s+CLI Gallery$`, 'm'));
    expect(listed.stdout).not.toContain(app.secret);

    const rotated = await cli(['app', 'rotate-secret', app.api_key]);
    expect(rotated.code).toBe(0);
    const secret = /^[0-9a-f]{32}$/m.exec(rotated.stdout)?.[0];
    expect(secret).toBeDefined();
    expect(secret).not.toBe(app.secret);
    expect((await new ApiClient(sys.urls.gateway, app.api_key, secret!).call('test.echo', { echo: 'after' })).json().echo).toBe('after');
    expect((await old.call('test.echo', { echo: 'stale' })).json().echo).toBeUndefined();
  }, 240_000);

  it('deliveries list | retry <id> | retry --slave <id> | retry --all: dead letters delivered once the slave is fixed', async () => {
    const slave = await new FakeSlave('key-of-cli-slave-c-0123456789').start();
    try {
      expect((await ips.get({ do: 'verifySettings', key: MK, url: slave.url, ourKey: slave.key })).json().status).toBe('SUCCESS');
      const slaveId = ((await admin('/admin/slaves')).json().items as { id: number; url: string }[]).find((s) => s.url === slave.url)!.id;
      slave.mode = 'http500';
      const dead = async () => (await admin(`/admin/deliveries?slave_id=${slaveId}&status=dead`)).json().items as { id: string; member_id: number }[];
      /** A member created through the API, whose delivery to the failing slave ends dead (4 quick attempts). */
      const deadLetter = async (n: number) => {
        const m = (await admin('/admin/members', 'POST', { name: `CliDead${n}`, email: `cli-dead${n}@example.test`, password: 'pw' })).json();
        await waitFor(async () => (await dead()).some((d) => d.member_id === m.id), 30_000, `the delivery of member ${m.id} dead`);
        return { member: m.id as number, delivery: (await dead()).find((d) => d.member_id === m.id)!.id };
      };
      const delivered = (member: number) =>
        waitFor(
          async () => ((await admin(`/admin/deliveries?slave_id=${slaveId}&member_id=${member}`)).json().items as { status: string }[]).every((d) => d.status === 'delivered'),
          30_000,
          `member ${member} delivered`,
        );

      const first = await deadLetter(1);
      const listed = await cli(['deliveries', 'list', '--status', 'dead', '--slave', String(slaveId), '--json']);
      expect(listed.code).toBe(0);
      expect(listed.json()).toEqual([expect.objectContaining({ id: first.delivery, slave_id: slaveId, member_id: first.member, action: 'register', status: 'dead' })]);

      slave.mode = 'ok';
      const one = await cli(['deliveries', 'retry', first.delivery]);
      expect([one.code, one.stdout]).toEqual([0, `Retrying deliveries: ${first.delivery}.\n`]);
      await delivered(first.member);

      slave.mode = 'http500';
      const second = await deadLetter(2);
      slave.mode = 'ok';
      const bySlave = await cli(['deliveries', 'retry', '--slave', String(slaveId), '--json']);
      expect(bySlave.code).toBe(0);
      expect(bySlave.json()).toEqual({ slave_id: slaveId, retried: [second.delivery] });
      await delivered(second.member);

      slave.mode = 'http500';
      const third = await deadLetter(3);
      slave.mode = 'ok';
      const all = await cli(['deliveries', 'retry', '--all']);
      expect(all.code).toBe(0);
      expect(all.stdout).toMatch(new RegExp(`^${slaveId}\\s+1\\s+${third.delivery}$`, 'm'));
      await delivered(third.member);
      await waitFor(async () => (await dead()).length === 0, 30_000, 'no dead letter left');
    } finally {
      await slave.stop();
    }
  }, 300_000);

  describe('config check', () => {
    it('reports every service ok and reaches PostgreSQL and Redis', async () => {
      const r = await cli(['config', 'check'], { bare: true, env: sys.env });
      expect(r.code).toBe(0);
      for (const service of Object.keys(SERVICE_KEYS)) expect(r.stdout).toMatch(new RegExp(`^  ok\\s+${service}$`, 'm'));
      expect(r.stdout).toMatch(/^PostgreSQL\s+ok\s+postgres:\/\/.*PostgreSQL \d+.*, (\d+) of \1 migrations applied$/m);
      expect(r.stdout).toMatch(/^Redis\s+ok\s+redis:\/\/.*Redis \d+/m);
      expect(r.stdout).toContain('All checks passed.');
    }, 120_000);

    it('fails clearly, naming each setting, with a bad DATABASE_URL and a missing MASTER_KEY', async () => {
      const r = await cli(['config', 'check', '--json'], { bare: true, env: { ...sys.env, DATABASE_URL: 'mysql://127.0.0.1/switchboard', MASTER_KEY: undefined } });
      expect(r.code).toBe(1);
      const report = r.json();
      expect(report.ok).toBe(false);
      expect(report.configuration.auth).toEqual({
        ok: false,
        problems: expect.arrayContaining(['MASTER_KEY is required (or MASTER_KEY_FILE)', expect.stringMatching(/^DATABASE_URL must be a PostgreSQL URL/)]),
      });
      expect(report.configuration.gateway.problems).toEqual([expect.stringMatching(/^DATABASE_URL must be/)]);
      expect(report.postgres).toMatchObject({ ok: false, detail: expect.stringMatching(/^not checked: DATABASE_URL must be/) });
      expect(report.redis).toMatchObject({ ok: true });
      expect(r.stderr).toBe('switchboard: config check failed (see the report above)\n');
    }, 120_000);

    it('fails for an unreachable Redis (a closed port of 127.0.0.1), within its timeout', async () => {
      const port = await freePort();
      const started = Date.now();
      const r = await cli(['config', 'check'], { bare: true, env: { ...sys.env, REDIS_URL: `redis://127.0.0.1:${port}/0` } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^Redis\\s+FAILED\\s+redis://127\\.0\\.0\\.1:${port}/0: .*ECONNREFUSED`, 'm'));
      expect(r.stdout).toMatch(/^PostgreSQL\s+ok\s/m);
      expect(r.stdout).toContain('Some checks FAILED');
      expect(Date.now() - started).toBeLessThan(PROCESS_TIMEOUT_MS);
    }, 120_000);
  });

  it('secrets generate: fresh values for every secret setting, in .env form, that the configuration accepts', async () => {
    const [human, machine] = await Promise.all([cli(['secrets', 'generate'], { bare: true }), cli(['secrets', 'generate', '--json'], { bare: true })]);
    expect([human.code, machine.code]).toEqual([0, 0]);
    const dotenv = Object.fromEntries(human.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(Object.keys(dotenv)).toEqual([...GENERATED_SECRETS]);
    expect(Object.keys(machine.json())).toEqual([...GENERATED_SECRETS]);
    for (const name of GENERATED_SECRETS) {
      expect(dotenv[name]).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(dotenv[name]).not.toBe(machine.json()[name]);
    }
    for (const service of Object.keys(SERVICE_KEYS) as ServiceName[]) expect(() => parseConfig(service, { ...sys.env, ...dotenv })).not.toThrow();
  }, 120_000);

  it('backup: the pg_dump command for DATABASE_URL without its password, SECRETS_KEY, what a Redis loss costs', async () => {
    const r = await cli(['backup'], { bare: true, env: { DATABASE_URL: 'postgres://switchboard:hunter2-secret@db.internal:5433/switchboard' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pg_dump -Fc -d postgres://switchboard@db.internal:5433/switchboard > switchboard-$(date +%F).dump');
    expect(r.stdout).toContain('The password is not printed');
    expect(r.stdout).toMatch(/SECRETS_KEY: .*cannot be used/);
    expect(r.stdout).toMatch(/Redis needs no backup\. Losing its data costs/);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  }, 120_000);

  it('bad input and a wrong setup: a usage error (2) or the API\'s problem (1), cannot reach (3), never a crash', async () => {
    const closed = await freePort();
    const cases: [string[], { env?: Record<string, string | undefined>; bare?: boolean }, number, RegExp][] = [
      [['slave', 'list'], { env: { SWITCHBOARD_ADMIN_TOKEN: 'not-a-token-0123456789abcdef0123456789' } }, 1, /the admin token was refused \(401/],
      [['slave', 'list'], { env: { SWITCHBOARD_ADMIN_URL: `http://127.0.0.1:${closed}` } }, 3, /cannot reach the admin API at http:\/\/127\.0\.0\.1:\d+: connection refused/],
      [['slave', 'list'], { bare: true, env: { SWITCHBOARD_ADMIN_URL: 'http://127.0.0.1:9' } }, 2, /no admin token: set SWITCHBOARD_ADMIN_TOKEN/],
      [['slave', 'disable', 'abc'], {}, 2, /the slave id must be a whole number/],
      [['slave', 'add', 'ftp://forum.example/x'], {}, 2, /invalid input \(nothing was sent\)\n {2}url: /],
      [['admin-token', 'create', 'bootstrap'], {}, 2, /name: bootstrap is the name of ADMIN_TOKEN/],
      [['admin-token', 'revoke', '999999'], {}, 1, /^switchboard: Not Found: no such live admin token\n$/],
      [['member', 'create', '--name', 'X', '--email', 'x@example.test'], {}, 2, /give the password on standard input with --password-stdin/],
      [['slave', 'list', '--bogus'], {}, 2, /^error: unknown option '--bogus'/],
      [['nonsense'], {}, 2, /unknown command 'switchboard nonsense'/],
    ];
    for (const [args, opts, code, words] of cases) {
      const r = await cli(args, { ...opts, input: 'pw\n' });
      expect({ args, stdout: r.stdout }).toEqual({ args, stdout: '' });
      expectClean(r, code, words);
    }
    // Nothing reached the API from the refused inputs.
    expect((await admin('/admin/members?q=x@example.test')).json().items).toEqual([]);
  }, 600_000);

  it('npm run cli -- … runs it from source with the env file npm start writes; the image has a switchboard command running the built CLI', async () => {
    // The token and the admin's address only in the env file (as `npm start` leaves them in .env).
    const envDir = mkdtempSync(join(tmpdir(), 'switchboard-cli-env-'));
    const envFile = join(envDir, '.env');
    const npmCli = (args: string[], file: string) =>
      new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn('npm', ['run', '--silent', 'cli', '--', ...args], {
          cwd: ROOT,
          env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ENV_FILE: file },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        let stdout = '';
        child.stdout.on('data', (d) => (stdout += d));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error('npm run cli did not exit in time'));
        }, PROCESS_TIMEOUT_MS);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout });
        });
      });
    try {
      writeFileSync(envFile, `# as npm start writes it\nADMIN_TOKEN=${ADMIN_TOKEN}\nSWITCHBOARD_ADMIN_URL="${sys.urls.admin}"\n`, { mode: 0o600 });
      const npm = await npmCli(['slave', 'list', '--json'], envFile);
      expect(npm.code).toBe(0);
      expect(Array.isArray(JSON.parse(npm.stdout))).toBe(true);
      // config check from an env file holding only what npm start writes there (the secrets; here the
      // test's stores too): the rest (PUBLIC_URL, the services' URLs and ports) are npm start's
      // defaults, which the CLI applies as it does, so a working setup checks out.
      const secrets = ['MASTER_KEY', 'SECRETS_KEY', 'ADMIN_TOKEN', 'INTERNAL_TOKEN', 'DATABASE_URL', 'REDIS_URL'].map((name) => `${name}=${sys.env[name]}`);
      const started = join(envDir, 'started.env');
      writeFileSync(started, secrets.join('\n') + '\n', { mode: 0o600 });
      const check = await npmCli(['config', 'check'], started);
      expect({ code: check.code, stdout: check.stdout }).toEqual({ code: 0, stdout: expect.stringContaining('All checks passed.') });
    } finally {
      rmSync(envDir, { recursive: true, force: true });
    }
    // Every command's help names the global options too; help is not an error.
    const help = await cli(['slave', 'list', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: switchboard slave list \[options\][\s\S]*--disabled[\s\S]*Global Options:[\s\S]*--token-file <path>/);

    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.build).toMatch(/--projects=\S*\bcli\b/);
    const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^RUN npx nx run-many -t build --projects=\S*\bcli\b/m);
    expect(dockerfile).toContain('COPY docker/switchboard /usr/local/bin/switchboard');
    expect(readFileSync(join(ROOT, 'docker/switchboard'), 'utf8')).toContain('exec node /app/dist/apps/cli/main.js "$@"');
  }, 120_000);
});
