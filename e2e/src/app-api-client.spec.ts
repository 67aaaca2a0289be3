import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support/run-source';
import { ADMIN_TOKEN, System, http, startSystem } from './support/system';

const phpReady = spawnSync('php', ['-m'], { encoding: 'utf8' });
const available = phpReady.status === 0 && /SimpleXML/i.test(phpReady.stdout) && /curl/i.test(phpReady.stdout);
const suite = available || process.env['CI'] ? describe : describe.skip;
if (!available) console.warn('app-api-client.spec: php-cli, php-curl and php-xml are needed (apt-get install php-cli php-curl php-xml)');

/** An independent PHP client (conformance/app-api/client.php) runs both flows in JSON and XML. */
suite('application API: an independent PHP client', () => {
  let sys: System;
  beforeAll(async () => {
    if (!available) throw new Error('install php-cli php-curl php-xml');
    sys = await startSystem();
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('completes the desktop and web flows end to end, json and xml', async () => {
    const admin = (body: unknown, path = '/admin/apps') =>
      http(sys.urls.admin + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } }).then((r) => r.json());
    const desktop = await admin({ title: 'PHP desktop', type: 'desktop' });
    const callback = 'http://127.0.0.1:9/php-callback';
    const web = await admin({ title: 'PHP web', type: 'web', callback_url: callback });
    await admin({ name: 'Carol', email: 'carol@example.test', password: 'pässwörd✓', pass_salt: 'abcdefghijklmnopqrstuv' }, '/admin/members');
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('php', [join(ROOT, 'conformance/app-api/client.php')], {
        env: {
          PATH: process.env['PATH'] ?? '',
          API_BASE: `${sys.urls.gateway}/api`,
          AUTHORIZE_URL: `${sys.urls.gateway}/apps/authorize`,
          DESKTOP_KEY: desktop.api_key,
          DESKTOP_SECRET: desktop.secret,
          WEB_KEY: web.api_key,
          WEB_SECRET: web.secret,
          WEB_CALLBACK: callback,
          LOGIN: 'Carol', // the name: the client changes the e-mail address on the way
          PASSWORD: 'pässwörd✓',
          NEW_EMAIL_PREFIX: 'carol-new',
        },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
    const failures = run.out.split('\n').filter((l) => l.startsWith('not ok') || l.startsWith('# ') || /error|warning/i.test(l));
    expect({ code: run.code, failures }).toEqual({ code: 0, failures: [expect.stringMatching(/checks, 0 failed/)] });
    expect(run.out).toMatch(/^ok \d+ - \[xml\] web: auth.getToken$/m);
  }, 120_000);
});
