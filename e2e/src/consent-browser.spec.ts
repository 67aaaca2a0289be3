import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { SIGNIN_MESSAGES } from '@switchboard/app-api';
import { ApiClient } from './support/api-client';
import { ROOT } from './support/run-source';
import { ADMIN_TOKEN, System, http as request, startSystem } from './support/system';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const suite = available || process.env['CI'] ? describe : describe.skip;
if (!available) console.warn(`consent-browser.spec: ${CHROMIUM} not found (apt-get install chromium)`);
const ARTIFACTS = join(ROOT, 'test-artifacts');

/** The consent page in real headless Chromium (Debian's), driven by playwright-core (A9). */
suite('consent page in Chromium', () => {
  let sys: System;
  let browser: Browser;
  let web: ApiClient;
  let callback: http.Server;
  let callbackUrl: string;
  const frobs: string[] = [];

  beforeAll(async () => {
    if (!available) throw new Error(`Chromium is required at ${CHROMIUM}: apt-get install chromium`);
    mkdirSync(ARTIFACTS, { recursive: true });
    callback = http.createServer((req, res) => {
      const frob = new URL(req.url ?? '/', 'http://x').searchParams.get('frob');
      if (frob) frobs.push(frob);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!DOCTYPE html><title>Callback</title><p id="done">Back at the application.</p>');
    });
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', () => r()));
    callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
    sys = await startSystem();
    const admin = (path: string, body: unknown) =>
      request(sys.urls.admin + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });
    const w = await admin('/admin/apps', { title: 'Holiday Album', description: 'Arranges your holiday pictures.', type: 'web', callback_url: callbackUrl });
    web = new ApiClient(sys.urls.gateway, w.json().api_key, w.json().secret);
    await admin('/admin/members', { name: 'Dana', email: 'dana@example.test', password: 'correct horse', pass_salt: 'abcdefghijklmnopqrstuv' });
    await admin('/admin/members', { name: 'Eve', email: 'eve@example.test', password: 'correct horse', pass_salt: 'abcdefghijklmnopqrstuv' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
    await new Promise((r) => callback?.close(r));
  }, 180_000);

  const link = () => {
    const params = { api_key: web.apiKey, perm_profile: 'write', perm_network: 'read' };
    return `${sys.urls.gateway}/apps/authorize?${new URLSearchParams({ ...params, api_sig: web.sign('', params) })}`;
  };

  it('sign in, read the app and the permissions in words, approve, land on the callback with a frob', async () => {
    const page = await browser.newPage();
    await page.goto(link());
    await page.fill('#login', 'Dana');
    await page.fill('#password', 'correct horse');
    await page.click('button[type=submit]');
    await page.waitForSelector('button[value=approve]');
    const text = await page.textContent('body');
    expect(text).toContain('Holiday Album');
    expect(text).toContain('Arranges your holiday pictures.');
    expect(text).toContain('see and change your account: name and e-mail address');
    expect(text).toContain('see the sites of the network and your contacts');
    await page.screenshot({ path: join(ARTIFACTS, 'consent.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[value=approve]')]);
    expect(await page.textContent('#done')).toBe('Back at the application.');
    const frob = new URL(page.url()).searchParams.get('frob')!;
    expect(frobs).toContain(frob);
    expect((await web.call('auth.getToken', { frob })).json().auth.user.username).toBe('Dana');
    await page.close();
  }, 60_000);

  it('deny', async () => {
    const page = await browser.newPage();
    await page.goto(link());
    await page.fill('#login', 'dana@example.test');
    await page.fill('#password', 'correct horse');
    await page.click('button[type=submit]');
    await page.click('button[value=deny]');
    expect(await page.textContent('h1')).toBe('Authorization denied');
    await page.close();
  }, 60_000);

  it('a wrong password, then a locked account even with the right password', async () => {
    const page = await browser.newPage();
    await page.goto(link());
    for (let i = 0; i < 5; i++) {
      await page.fill('#login', 'Eve');
      await page.fill('#password', `wrong ${i}`);
      await page.click('button[type=submit]');
      if (i === 0) expect(await page.textContent('[role=alert]')).toBe(SIGNIN_MESSAGES.wrong);
    }
    await page.fill('#login', 'Eve');
    await page.fill('#password', 'correct horse');
    await page.click('button[type=submit]');
    // Locked: the same words as a wrong password (issue 10 §2), which mention the lock.
    expect(await page.textContent('[role=alert]')).toBe(SIGNIN_MESSAGES.wrong);
    expect(SIGNIN_MESSAGES.wrong).toContain('locked');
    await page.screenshot({ path: join(ARTIFACTS, 'consent-locked.png') });
    await page.close();
  }, 180_000);
});
