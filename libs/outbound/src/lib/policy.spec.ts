import type { LookupOptions } from 'node:dns';
import { OutboundPolicy, ResolvedAddress, withoutCredentials } from './policy';

const PUBLIC = { address: '93.184.215.14', family: 4 };

/** A policy whose DNS is a table (no query leaves the machine), counting what it was asked. */
function policyWith(table: Record<string, ResolvedAddress[] | Error | 'hang'>, allowPrivate = false) {
  const asked: string[] = [];
  const policy = new OutboundPolicy({
    allowPrivate,
    resolveTimeoutMs: 200,
    resolve: async (name) => {
      asked.push(name);
      const answer = table[name];
      if (answer === 'hang') return new Promise<never>(() => undefined);
      if (answer instanceof Error) throw answer;
      if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return answer;
    },
  });
  return { policy, asked };
}

describe('OutboundPolicy.checkUrl (registration: verifySettings, admin)', () => {
  it('accepts a name whose every address is public, and refuses it when ANY address is forbidden', async () => {
    const { policy } = policyWith({
      'forum.example': [PUBLIC, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }],
      'mixed.example': [PUBLIC, { address: '10.1.2.3', family: 4 }],
      'v6.example': [PUBLIC, { address: '::ffff:192.168.0.1', family: 6 }],
      'meta.example': [{ address: '169.254.169.254', family: 4 }],
    });
    await expect(policy.checkUrl('https://forum.example/applications/core/interface/ipsconnect/ipsconnect.php')).resolves.toBeNull();
    const mixed = await policy.checkUrl('https://mixed.example/ipsconnect.php');
    expect(mixed).toMatchObject({ rule: 'address', message: expect.stringContaining('mixed.example resolves to 10.1.2.3, not a public address (private)') });
    await expect(policy.checkUrl('http://v6.example/')).resolves.toMatchObject({ rule: 'address', message: expect.stringContaining('ipv4Mapped form of 192.168.0.1, private') });
    await expect(policy.checkUrl('http://meta.example/latest/')).resolves.toMatchObject({ rule: 'address', message: expect.stringContaining('linkLocal') });
  }, 30_000);

  it('refuses a name that does not resolve, and one that cannot be resolved now (temporary), failing closed', async () => {
    const { policy } = policyWith({
      'slow.example': 'hang',
      'flaky.example': Object.assign(new Error('getaddrinfo EAI_AGAIN flaky.example'), { code: 'EAI_AGAIN' }),
      'empty.example': [],
    });
    await expect(policy.checkUrl('http://missing.example/')).resolves.toMatchObject({ rule: 'resolution', temporary: false, message: 'missing.example does not resolve (ENOTFOUND)' });
    await expect(policy.checkUrl('http://empty.example/')).resolves.toMatchObject({ rule: 'resolution', temporary: false });
    await expect(policy.checkUrl('http://slow.example/')).resolves.toMatchObject({ rule: 'resolution', temporary: true, message: 'slow.example was not resolved within 200 ms' });
    await expect(policy.checkUrl('http://flaky.example/')).resolves.toMatchObject({ rule: 'resolution', temporary: true });
  }, 30_000);

  it('checks the scheme and credentials first, and literal addresses and loopback names without asking DNS', async () => {
    const { policy, asked } = policyWith({});
    await expect(policy.checkUrl('gopher://forum.example/')).resolves.toMatchObject({ rule: 'scheme' });
    await expect(policy.checkUrl('javascript:alert(1)')).resolves.toMatchObject({ rule: 'scheme' });
    await expect(policy.checkUrl('http://admin:pw@forum.example/')).resolves.toMatchObject({ rule: 'credentials' });
    await expect(policy.checkUrl('not a url')).resolves.toMatchObject({ rule: 'malformed' });
    await expect(policy.checkUrl('http://127.1:3001/internal')).resolves.toMatchObject({ rule: 'address' });
    await expect(policy.checkUrl('http://sub.localhost:6379/')).resolves.toMatchObject({ rule: 'address' });
    await expect(policy.checkUrl('http://93.184.215.14/ipsconnect.php')).resolves.toBeNull();
    expect(asked).toEqual([]);
  }, 30_000);

  it('with SLAVE_URL_ALLOW_PRIVATE=true asks no DNS and lifts only the address rule', async () => {
    const { policy, asked } = policyWith({}, true);
    await expect(policy.checkUrl('http://localhost:3001/')).resolves.toBeNull();
    await expect(policy.checkUrl('http://unresolvable.example/')).resolves.toBeNull();
    await expect(policy.checkUrl('http://u:p@127.0.0.1/')).resolves.toMatchObject({ rule: 'credentials' });
    await expect(policy.checkUrl('ftp://127.0.0.1/')).resolves.toMatchObject({ rule: 'scheme' });
    expect(asked).toEqual([]);
  }, 30_000);
});

describe('OutboundPolicy.lookup (net.connect hook)', () => {
  const lookupOf = (policy: OutboundPolicy, name: string, options: LookupOptions) =>
    new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
      policy.lookup(name, options as never, (err, address, family) => resolve({ err, address, family })),
    );

  it('hands the socket exactly the checked addresses, one family or all, and refuses with the policy error', async () => {
    const { policy, asked } = policyWith({
      'dual.example': [PUBLIC, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }],
      'bad.example': [PUBLIC, { address: '127.0.0.1', family: 4 }],
    });
    await expect(lookupOf(policy, 'dual.example', { all: true })).resolves.toEqual({ err: null, address: [PUBLIC, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }], family: undefined });
    await expect(lookupOf(policy, 'dual.example', { family: 6 })).resolves.toEqual({ err: null, address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 });
    await expect(lookupOf(policy, 'dual.example', {})).resolves.toEqual({ err: null, address: PUBLIC.address, family: 4 });
    const refused = await lookupOf(policy, 'bad.example', { all: true });
    expect(refused.err).toMatchObject({ name: 'OutboundRefusal', rule: 'address' });
    expect(asked).toEqual(['dual.example', 'dual.example', 'dual.example', 'bad.example']);
  }, 30_000);
});

describe('withoutCredentials', () => {
  it('drops user and password, and nothing else', () => {
    expect(withoutCredentials('http://user:pw@forum.example:8080/ips.php?a=1')).toBe('http://forum.example:8080/ips.php?a=1');
    expect(withoutCredentials('https://token@forum.example/')).toBe('https://forum.example/');
    expect(withoutCredentials('http://forum.example/ips.php?email=a@b')).toBe('http://forum.example/ips.php?email=a@b');
    expect(withoutCredentials('http://127.0.0.1:8081/x')).toBe('http://127.0.0.1:8081/x');
    expect(withoutCredentials('http://us er:p w@[::1/x')).toBe('http://[::1/x');
  });
});
