import { md5, query } from './support/ips';
import { ADMIN_TOKEN, MASTER_KEY as MK, System, http, startSystem } from './support/system';

const WRONG = '$2a$13$abcdefghijklmnopqrstuughKQK2f/mJU.giKfFRQJ4/CTErrHLRq';

/**
 * TRUST_PROXY: requests come from 127.0.0.1 with `X-Forwarded-For`. When 127.0.0.1 is a trusted proxy
 * the header names the client (per-address login limit, access log of gateway and admin); when it
 * is not, the header is ignored and every request is 127.0.0.1's.
 */
describe('TRUST_PROXY (X-Forwarded-For believed only from the listed proxies)', () => {
  /** A failed IPS login "from" `client` (sent as X-Forwarded-For); the answer's status. */
  const failedLogin = async (sys: System, client: string) => {
    const res = await http(`${sys.urls.gateway}/ipsconnect?${query({ do: 'login', key: md5(MK, 'nobody'), idType: '3', id: 'nobody', password: WRONG })}`, {
      headers: { 'x-forwarded-for': client },
    });
    return res.json().status as string;
  };
  /** The remoteAddress of the access-log lines of `url` (a path with a marker query). */
  const loggedAddresses = (sys: System, marker: string) =>
    sys.logs.lines
      .filter((l) => l.includes(marker) && l.includes('request completed'))
      .map((l) => (JSON.parse(l) as { req?: { remoteAddress?: string } }).req?.remoteAddress);

  describe('with TRUST_PROXY=127.0.0.1', () => {
    let sys: System;
    beforeAll(async () => {
      sys = await startSystem({ LOGIN_CALLER_LIMIT: '2', TRUST_PROXY: '127.0.0.1' });
    }, 180_000);
    afterAll(async () => {
      await sys?.stop();
    }, 180_000);

    it('limits each forwarded client on its own address', async () => {
      expect(await failedLogin(sys, '203.0.113.7')).toBe('ACCOUNT_NOT_FOUND');
      expect(await failedLogin(sys, '203.0.113.7')).toBe('ACCOUNT_NOT_FOUND');
      expect(await failedLogin(sys, '203.0.113.7')).toBe('ACCOUNT_LOCKED');
      // Another client behind the same proxy is not limited by the first one's failures.
      expect(await failedLogin(sys, '203.0.113.8')).toBe('ACCOUNT_NOT_FOUND');
      // The right-most untrusted address is the client: a spoofed left part changes nothing.
      expect(await failedLogin(sys, '198.51.100.1, 203.0.113.7')).toBe('ACCOUNT_LOCKED');
    }, 60_000);

    it('logs the forwarded client as remoteAddress, on the gateway and on admin', async () => {
      await http(`${sys.urls.gateway}/ipsconnect?marker=gw-trusted`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      await http(`${sys.urls.admin}/admin/slaves?marker=admin-trusted`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-forwarded-for': '2001:db8::5' },
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(loggedAddresses(sys, 'gw-trusted')).toEqual(['203.0.113.9']);
      expect(loggedAddresses(sys, 'admin-trusted')).toEqual(['2001:db8::5']);
    }, 60_000);
  });

  describe('without TRUST_PROXY (the default)', () => {
    let sys: System;
    beforeAll(async () => {
      sys = await startSystem({ LOGIN_CALLER_LIMIT: '2' });
    }, 180_000);
    afterAll(async () => {
      await sys?.stop();
    }, 180_000);

    it('ignores X-Forwarded-For: every request is the TCP peer, 127.0.0.1', async () => {
      expect(await failedLogin(sys, '203.0.113.7')).toBe('ACCOUNT_NOT_FOUND');
      expect(await failedLogin(sys, '203.0.113.7')).toBe('ACCOUNT_NOT_FOUND');
      // A different forwarded address does not escape the limit.
      expect(await failedLogin(sys, '203.0.113.8')).toBe('ACCOUNT_LOCKED');
      await http(`${sys.urls.gateway}/ipsconnect?marker=gw-untrusted`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      await new Promise((r) => setTimeout(r, 200));
      expect(loggedAddresses(sys, 'gw-untrusted')).toEqual(['127.0.0.1']);
    }, 60_000);
  });
});
