import type { ChildProcess } from 'node:child_process';
import { GrantsService } from '@switchboard/app-api';
import { freePort, waitFor } from '@switchboard/testing';
import { ApiClient } from './support/api-client';
import { ipsClient, md5 } from './support/ips';
import { spawnAppFromSource } from './support/run-source';
import { adminApi, http, MASTER_KEY as MK, startSystem, System } from './support/system';

const SALT_A = 'abcdefghijklmnopqrstuv';
const SALT_B = 'ZYXWVUTSRQPONMLKJIHGFE';
const hashFor = (salt: string) => `$2a$13$${salt}${'u'.repeat(31)}`;

/**
 * Issue 11, "never stale": whatever a gateway keeps, a read may not be older than the last committed
 * change. Two gateway processes: the in-process one of the test system (A) and a second one started
 * from source as its own process (B). Every change is made through one and checked on the other at
 * once, with no wait in between.
 */
describe('never stale: two gateway processes see every committed change on their next call', () => {
  let sys: System;
  let b: { child: ChildProcess; output: () => string };
  let a: ReturnType<typeof ipsClient>;
  let bIps: ReturnType<typeof ipsClient>;
  let bUrl: string;
  const admin = adminApi(() => sys);

  beforeAll(async () => {
    sys = await startSystem({ API_CLIENT_LIMIT: '100000' });
    a = ipsClient(sys.urls.gateway);
    const port = await freePort();
    bUrl = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(Object.entries(sys.env).filter(([, v]) => v !== undefined)) as Record<string, string>;
    b = spawnAppFromSource('gateway', { ...env, GATEWAY_PORT: String(port), LOG_LEVEL: 'warn' });
    await waitFor(async () => (await fetch(`${bUrl}/health/ready`)).ok, 120_000, `the second gateway to be ready; output: ${b?.output()}`);
    bIps = ipsClient(bUrl);
  }, 240_000);

  afterAll(async () => {
    if (b?.child.exitCode === null) {
      const exited = new Promise((resolve) => b.child.once('exit', resolve));
      b.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (b.child.exitCode === null) b.child.kill('SIGKILL');
    }
    await sys?.stop();
  }, 180_000);

  it('fetchSalt right after changePassword returns the new salt, on both gateways', async () => {
    const reg = (await a.get({ do: 'register', key: MK, name: 'Salty', email: 'salty@example.test', pass_hash: hashFor(SALT_A), pass_salt: SALT_A })).json();
    expect(reg.status).toBe('SUCCESS');
    const id = String(reg.connect_id);
    for (const [salt, via, other] of [
      [SALT_B, a, bIps],
      [SALT_A, bIps, a],
    ] as const) {
      expect((await via.get({ do: 'changePassword', key: md5(MK, id), id, pass_hash: hashFor(salt), pass_salt: salt })).json().status).toBe('SUCCESS');
      for (const gw of [other, via]) {
        expect((await gw.get({ do: 'fetchSalt', key: md5(MK, 'Salty'), id: 'Salty', idType: '1' })).json()).toEqual({ status: 'SUCCESS', pass_salt: salt });
      }
    }
  }, 60_000);

  it('a deleted member is not found and cannot log in on the next call of either gateway', async () => {
    const reg = (await bIps.get({ do: 'register', key: MK, name: 'Gone', email: 'gone@example.test', pass_hash: hashFor(SALT_A), pass_salt: SALT_A })).json();
    const id = String(reg.connect_id);
    const login = (via: typeof a) => via.get({ do: 'login', key: md5(MK, 'Gone'), id: 'Gone', idType: '1', password: hashFor(SALT_A) });
    expect((await login(a)).json().status).toBe('SUCCESS');
    expect((await a.get({ do: 'delete', key: md5(MK, id), id })).json().status).toBe('SUCCESS');
    for (const via of [bIps, a]) {
      expect((await via.get({ do: 'fetchId', key: md5(MK, 'gone@example.test'), id: 'gone@example.test', idType: '2' })).json()).toEqual({ status: 'ACCOUNT_NOT_FOUND' });
      expect((await via.get({ do: 'checkName', key: MK, name: 'Gone' })).json()).toEqual({ status: 'SUCCESS', used: 0 });
      expect((await login(via)).json().status).toBe('ACCOUNT_NOT_FOUND');
    }
  }, 60_000);

  it('a banned member\'s application token is refused (108) on the next call of either gateway (IPS login leaves bans to the slaves, spec §2.11)', async () => {
    const reg = (await a.get({ do: 'register', key: MK, name: 'Banned', email: 'banned@example.test', pass_hash: hashFor(SALT_A), pass_salt: SALT_A })).json();
    const id = String(reg.connect_id);
    const created = (await admin('/admin/apps', 'POST', { title: 'Ban check', type: 'desktop' })).json();
    const clients = [new ApiClient(sys.urls.gateway, created.api_key, created.secret), new ApiClient(bUrl, created.api_key, created.secret)];
    const frob = (await clients[0].call('auth.getFrob')).json().auth.frob;
    expect(await sys.apps.auth.get(GrantsService, { strict: false }).approveFrob(created.api_key, frob, Number(id), { profile: 'read' }, new Date())).toBe(true);
    const token = (await clients[1].call('auth.getToken', { frob })).json().auth.token as string;
    for (const c of clients) expect((await c.call('account.get', { auth_token: token })).json().user.user_id).toBe(id);
    expect((await bIps.get({ do: 'ban', key: md5(MK, id), id, status: '1' })).json().status).toBe('SUCCESS');
    for (const c of clients) expect((await c.call('account.get', { auth_token: token })).json().api.code).toBe('108');
  }, 60_000);

  it('a per-slave master key works at once when issued, and the key it replaced is refused on the next call', async () => {
    const url = 'http://127.0.0.1:9/never-stale.php';
    const first = (await admin('/admin/slaves', 'POST', { url })).json().master_key as string;
    // No wait: the key was committed before the answer, so both gateways must accept it now.
    for (const gw of [bIps, a]) expect((await gw.get({ do: 'checkEmail', key: first, email: 'x@y', url })).json()).toEqual({ status: 'SUCCESS', used: 0 });
    // Re-posting the URL changes nothing (409); rotation is explicit.
    expect((await admin('/admin/slaves', 'POST', { url })).status).toBe(409);
    for (const gw of [a, bIps]) expect((await gw.get({ do: 'checkEmail', key: first, email: 'x@y', url })).json()).toEqual({ status: 'SUCCESS', used: 0 });
    const second = (await admin('/admin/slaves', 'POST', { url, rotate: true })).json().master_key as string;
    expect(second).not.toBe(first);
    for (const gw of [a, bIps]) {
      expect((await gw.get({ do: 'checkEmail', key: first, email: 'x@y', url })).json()).toEqual({ status: 'BAD_KEY' });
      expect((await gw.get({ do: 'fetchSalt', key: md5(first, 'Salty'), id: 'Salty', idType: '1', url })).json()).toEqual({ status: 'BAD_KEY' });
      expect((await gw.get({ do: 'checkEmail', key: second, email: 'x@y', url })).json()).toEqual({ status: 'SUCCESS', used: 0 });
    }
  }, 60_000);

  it('switching the global master key off refuses it on the next call of every gateway, and on again accepts it', async () => {
    for (const [enabled, expected] of [
      [false, { status: 'BAD_KEY' }],
      [true, { status: 'SUCCESS', used: 0 }],
    ] as const) {
      expect((await admin('/admin/settings', 'PATCH', { global_master_key: enabled })).status).toBe(200);
      for (const gw of [bIps, a]) expect((await gw.get({ do: 'checkEmail', key: MK, email: 'nobody@example.test' })).json()).toEqual(expected);
    }
  }, 60_000);

  it('a disabled application key is refused on its next call through either gateway, and works again when enabled', async () => {
    const created = (await admin('/admin/apps', 'POST', { title: 'Stale?', type: 'desktop' })).json();
    const clients = [new ApiClient(sys.urls.gateway, created.api_key, created.secret), new ApiClient(bUrl, created.api_key, created.secret)];
    for (const c of clients) expect((await c.call('test.echo', { echo: 'hi' })).json().echo).toBe('hi');
    expect((await admin(`/admin/apps/${created.api_key}`, 'PATCH', { enabled: false })).status).toBe(200);
    for (const c of clients) expect((await c.call('test.echo', { echo: 'hi' })).json().api.code).toBe('101');
    expect((await admin(`/admin/apps/${created.api_key}`, 'PATCH', { enabled: true })).status).toBe(200);
    for (const c of clients) expect((await c.call('test.echo', { echo: 'hi' })).json().echo).toBe('hi');
  }, 60_000);
});
