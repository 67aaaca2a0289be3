import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from '@switchboard/testing';
import { FakeSlave } from './support/fake-slave';
import { ipsClient, md5 } from './support/ips';
import { ROOT } from './support/run-source';
import { adminApi, http, MASTER_KEY as MK, startSystem, System } from './support/system';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const suite = available || process.env['CI'] ? describe : describe.skip;
if (!available) console.warn(`console-browser.spec: ${CHROMIUM} not found (apt-get install chromium)`);
/** Screenshots of this run (git-ignored); copies of the best are committed as docs/images/console-*.png. */
const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
const HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const SALT = '0123456789abcdefghijkl';
/** Every wait of a page: generous on a loaded 2-core machine. */
const PAGE_TIMEOUT_MS = 30_000;

/**
 * Issue 12: the web console in real headless Chromium (Debian's, driven by playwright-core; no
 * browser is downloaded). Sign in with a named token, see a failing slave, retry its dead delivery
 * once it is fixed and see it delivered, disable and enable a slave, unlock a locked member, filter
 * the audit, sign out. No page may trip its Content-Security-Policy.
 */
suite('web console in Chromium', () => {
  let sys: System;
  let browser: Browser;
  let page: Page;
  let healthy: FakeSlave;
  let failing: FakeSlave;
  let failingId: number;
  let healthyId: number;
  let lockedId: number;
  let deadId: string;
  let token: string;
  const problems: string[] = [];
  const admin = adminApi(() => sys);
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  const go = (path: string) => page.goto(sys.urls.admin + path, { timeout: PAGE_TIMEOUT_MS });
  /** Clicks a form's button and waits for the page it leads to. */
  const submit = async (selector: string, url: RegExp) => {
    await Promise.all([page.waitForURL(url, { timeout: PAGE_TIMEOUT_MS }), page.click(selector, { timeout: PAGE_TIMEOUT_MS })]);
  };

  beforeAll(async () => {
    if (!available) throw new Error(`Chromium is required at ${CHROMIUM}: apt-get install chromium`);
    mkdirSync(ARTIFACTS, { recursive: true });
    sys = await startSystem();
    const ips = ipsClient(sys.urls.gateway);
    healthy = await new FakeSlave('console-browser-healthy-0123456789').start();
    failing = await new FakeSlave('console-browser-failing-0123456789').start();
    for (const s of [healthy, failing]) expect((await ips.get({ do: 'verifySettings', key: MK, url: s.url, ourKey: s.key })).json().status).toBe('SUCCESS');
    const slaves = (await admin('/admin/slaves')).json().items as { id: number; url: string }[];
    healthyId = slaves.find((s) => s.url === healthy.url)!.id;
    failingId = slaves.find((s) => s.url === failing.url)!.id;
    token = (await admin('/admin/tokens', 'POST', { name: 'ops-laptop' })).json().token;
    // A member locked out by five wrong IPS logins.
    const locked = await admin('/admin/members', 'POST', { name: 'Mallory', email: 'mallory@example.test', password: 'correct horse' });
    lockedId = locked.json().id;
    for (let i = 0; i < 5; i++) await ips.get({ do: 'login', key: md5(MK, 'Mallory'), id: 'Mallory', idType: '1', password: md5(`wrong ${i}`) });
    await waitFor(async () => (await admin('/admin/members/locked')).json().items.some((m: { id: number }) => m.id === lockedId), 20_000, 'Mallory locked');
    // A registration that the failing slave answers with HTTP 500 until its delivery is dead.
    failing.mode = 'http500';
    expect((await ips.get({ do: 'register', key: MK, name: 'Dana', email: 'dana@example.test', pass_hash: HASH, pass_salt: SALT })).json().status).toBe('SUCCESS');
    deadId = await waitFor(async () => (await admin(`/admin/deliveries?slave_id=${failingId}&status=dead`)).json().items[0]?.id as string | undefined, 30_000, 'a dead delivery to the failing slave');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    // A CSP violation shows as a console error; so would a failed asset.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    // Loopback only: the console and the queue dashboard fetch nothing from another host.
    page.on('request', (r) => {
      const host = new URL(r.url()).hostname;
      if (r.url().startsWith('http') && host !== '127.0.0.1') problems.push(`request to ${host}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of [healthy, failing]) await s?.stop();
    await sys?.stop();
  }, 180_000);

  it('sign in with a named token: the overview shows the failing slave and every service', async () => {
    await go('/admin/console');
    expect(new URL(page.url()).pathname).toBe('/admin/console/sign-in');
    await page.fill('#token', token);
    await shot('sign-in');
    await submit('button[type=submit]', /\/admin\/console$/);
    expect(await page.textContent('#who')).toBe('ops-laptop');
    expect(await page.textContent('h1')).toBe('Overview');
    expect(await page.textContent(`#failing tr[data-slave="${failingId}"]`)).toContain(failing.url);
    expect(await page.textContent('[data-card="dead deliveries"] .n')).toBe('1');
    for (const service of ['gateway', 'auth', 'admin', 'propagator']) expect(await page.textContent(`tr[data-service="${service}"] .badge`)).toMatch(/^(ready|connected)$/);
    // The stylesheet applied (no inline style, CSP 'self').
    expect(await page.evaluate('getComputedStyle(document.querySelector("header")).display')).toBe('flex');
    await shot('overview');
  }, 60_000);

  it('slaves: the failing one is marked; disable with a reason, enable again', async () => {
    await go('/admin/console/slaves');
    expect(await page.textContent(`tr[data-slave="${failingId}"] .badge`)).toBe('failing');
    expect(await page.textContent(`tr[data-slave="${healthyId}"] .badge`)).toBe('healthy');
    await shot('slaves');
    await page.fill(`tr[data-slave="${healthyId}"] input[name=reason]`, 'maintenance');
    await submit(`tr[data-slave="${healthyId}"] button[data-test=disable]`, /ok=disabled/);
    expect(await page.textContent('[role=status]')).toContain(`Slave ${healthyId} is disabled`);
    expect(await page.textContent(`tr[data-slave="${healthyId}"]`)).toContain('admin: maintenance');
    expect((await admin('/admin/slaves')).json().items.find((s: { id: number }) => s.id === healthyId).enabled).toBe(false);
    await submit(`tr[data-slave="${healthyId}"] button[data-test=enable]`, /ok=enabled/);
    expect(await page.textContent(`tr[data-slave="${healthyId}"] .badge`)).toBe('healthy');
  }, 60_000);

  it('the slave is fixed: Retry on its dead delivery, and it is delivered', async () => {
    failing.mode = 'ok';
    await go('/admin/console/deliveries');
    expect(await page.textContent('h1')).toBe('Dead deliveries');
    expect(await page.textContent(`tr[data-delivery="${deadId}"] .badge`)).toBe('dead');
    await shot('dead-deliveries');
    await submit(`tr[data-delivery="${deadId}"] button[data-test=retry]`, /ok=retried/);
    expect(await page.textContent('[role=status]')).toContain(`Delivery ${deadId} is being retried now.`);
    await waitFor(
      async () => {
        await go(`/admin/console/deliveries/${deadId}`);
        return (await page.getAttribute('#delivery', 'data-status')) === 'delivered';
      },
      30_000,
      'the delivery delivered',
    );
    expect(failing.got('register').some((r) => r.keyOk)).toBe(true);
    await shot('delivered');
  }, 60_000);

  it('lockouts: unlock a locked member', async () => {
    await go('/admin/console/lockouts');
    expect(await page.textContent(`tr[data-member="${lockedId}"]`)).toContain('Mallory');
    await shot('lockouts');
    await submit(`tr[data-member="${lockedId}"] button[data-test=unlock]`, /ok=unlocked/);
    expect(await page.textContent('[role=status]')).toBe(`Member ${lockedId} is unlocked.`);
    expect(await page.$(`tr[data-member="${lockedId}"]`)).toBeNull();
    expect((await admin('/admin/members/locked')).json().items.some((m: { id: number }) => m.id === lockedId)).toBe(false);
  }, 60_000);

  it('audit: filter by type and member; the console\'s actions carry the token\'s name', async () => {
    await go('/admin/console/audit');
    await page.fill('input[name=type]', 'admin_action');
    await page.fill('input[name=member_id]', String(lockedId));
    await submit('form.filters button[type=submit]', /type=admin_action/);
    const rows = await page.$$eval('#audit tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.includes('admin_action'))).toBe(true);
    expect(rows.some((r) => r.includes('/admin/console/members/:id/unlock') && r.includes('ops-laptop'))).toBe(true);
    // A time range that ends before everything: nothing.
    await go(`/admin/console/audit?type=admin_action&until=2001-01-01T00:00`);
    expect(await page.textContent('#audit')).toBe('No audit entries match.');
    await go('/admin/console/audit?type=admin_action');
    expect(await page.textContent('#audit')).toContain('/admin/console/deliveries/:id/retry');
    await shot('audit');
  }, 60_000);

  it('queues: the console\'s Queues link opens Bull Board in the same session, with the delivery queue', async () => {
    await go('/admin/console');
    await submit('nav a[href="/admin/queues"]', /\/admin\/queues$/);
    // Bull Board's page, its scripts and its API calls all pass the admin authentication on the session cookie.
    await page.waitForSelector('text=deliveries', { timeout: PAGE_TIMEOUT_MS });
    // The queue's own page: its jobs by state (the completed delivery of the retry above among them).
    await page.click('a:has-text("deliveries")');
    await page.waitForURL(/\/admin\/queues\/queue\/deliveries/, { timeout: PAGE_TIMEOUT_MS });
    await page.waitForLoadState('networkidle', { timeout: PAGE_TIMEOUT_MS });
    await shot('queues');
    expect(problems).toEqual([]);
  }, 60_000);

  it('sign out: back to the sign-in page, and the pages need a session again', async () => {
    await go('/admin/console');
    await submit('form.signout button', /\/sign-in\?ok=signed-out/);
    expect(await page.textContent('[role=status]')).toBe('You have signed out.');
    await go('/admin/console/slaves');
    expect(new URL(page.url()).pathname).toBe('/admin/console/sign-in');
    expect(problems).toEqual([]);
  }, 60_000);
});
