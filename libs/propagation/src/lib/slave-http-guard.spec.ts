import http from 'node:http';
import net, { AddressInfo } from 'node:net';
import { OutboundPolicy, ResolvedAddress, forbiddenRange } from '@switchboard/outbound';
import { SlaveHttp, callSlave } from './slave-http';

/**
 * The propagator's HTTP client under the outbound policy (docs/propagation.md, "Outbound requests
 * to slaves"). Only loopback listeners are used: each counts the TCP connections it accepts, so
 * "refused" means "no connection arrived", not just "an error came back".
 */

interface Listener {
  port: number;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

async function listen(host: string, handler?: http.RequestListener, port = 0): Promise<Listener> {
  const state = { connections: 0, requests: [] as string[] };
  const server = http.createServer((req, res) => {
    state.requests.push(req.url ?? '');
    if (handler) handler(req, res);
    else res.end('{"status":"SUCCESS"}');
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    requests: state.requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function ipv6LoopbackAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

describe('the propagator under the outbound policy (SLAVE_URL_ALLOW_PRIVATE=false)', () => {
  let v4: Listener;
  let v6: Listener | null = null;
  const resolved: string[] = [];
  /** A DNS stand-in: names under .test resolve as this table says (nothing leaves the machine). */
  const table = new Map<string, ResolvedAddress[]>();
  const resolve = async (name: string) => {
    resolved.push(name);
    const answer = table.get(name);
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return answer;
  };
  const guarded = new SlaveHttp(new OutboundPolicy({ allowPrivate: false, resolve }));

  beforeAll(async () => {
    v4 = await listen('127.0.0.1');
    if (await ipv6LoopbackAvailable()) v6 = await listen('::1');
  }, 30_000);
  afterAll(async () => {
    await guarded.onApplicationShutdown();
    await v4?.close();
    await v6?.close();
  }, 30_000);

  it('refuses every spelling of a loopback slave URL before connecting: no connection arrives', async () => {
    const p = v4.port;
    const urls = [
      `http://127.0.0.1:${p}/ipsconnect.php`,
      `http://127.1:${p}/ipsconnect.php`,
      `http://2130706433:${p}/ipsconnect.php`,
      `http://0x7f000001:${p}/ipsconnect.php`,
      `http://0177.0.0.1:${p}/ipsconnect.php`,
      `http://localhost:${p}/ipsconnect.php`,
      `http://LOCALHOST.:${p}/ipsconnect.php`,
      `http://[::ffff:127.0.0.1]:${p}/ipsconnect.php`,
      `http://[::ffff:7f00:1]:${p}/ipsconnect.php`,
      `https://127.0.0.1:${p}/ipsconnect.php`,
    ];
    if (v6) urls.push(`http://[::1]:${v6.port}/ipsconnect.php`, `http://[0:0:0:0:0:0:0:1]:${v6.port}/ipsconnect.php`);
    for (const url of urls) {
      const answer = await callSlave(url, 10_000, guarded);
      expect([url, answer]).toEqual([url, expect.objectContaining({ outcome: 'retry', refused: 'address', httpStatus: null })]);
      expect(answer.outcome === 'retry' && answer.error).toMatch(/^refused: .* is not a public address \((ipv4Mapped form of 127\.0\.0\.1, )?loopback/);
    }
    expect(v4.connections).toBe(0);
    expect(v6?.connections ?? 0).toBe(0);
  }, 30_000);

  it('resolves a name and refuses it when ANY of its addresses is forbidden: no connection arrives', async () => {
    table.set('loop.test', [{ address: '127.0.0.1', family: 4 }]);
    table.set('mapped.test', [{ address: '::ffff:127.0.0.1', family: 6 }]);
    // A public address beside a loopback one: refused as a whole, nothing is sent to either.
    table.set('mixed.test', [
      { address: '93.184.215.14', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ]);
    table.set('metadata.test', [{ address: '169.254.169.254', family: 4 }]);
    for (const [name, shown] of [
      ['loop.test', '127.0.0.1, not a public address (loopback)'],
      ['mapped.test', '::ffff:127.0.0.1, not a public address (ipv4Mapped form of 127.0.0.1, loopback)'],
      ['mixed.test', '127.0.0.1, not a public address (loopback)'],
      ['metadata.test', '169.254.169.254, not a public address (linkLocal)'],
    ]) {
      const answer = await callSlave(`http://${name}:${v4.port}/ipsconnect.php?do=x`, 10_000, guarded);
      expect(answer).toMatchObject({ outcome: 'retry', refused: 'address', error: `refused: ${name} resolves to ${shown}; slave URLs must point at public addresses (SLAVE_URL_ALLOW_PRIVATE=false)` });
    }
    const missing = await callSlave(`http://nowhere.test:${v4.port}/`, 10_000, guarded);
    expect(missing).toMatchObject({ outcome: 'retry', refused: 'resolution', error: 'refused: nowhere.test does not resolve (ENOTFOUND)' });
    expect(v4.connections).toBe(0);
  }, 30_000);

  it('refuses credentials and other schemes before anything is sent', async () => {
    const open = new SlaveHttp(new OutboundPolicy({ allowPrivate: true }));
    try {
      const withCredentials = await callSlave(`http://user:s3cret-pw@127.0.0.1:${v4.port}/ipsconnect.php`, 10_000, open);
      expect(withCredentials).toMatchObject({ outcome: 'retry', refused: 'credentials' });
      expect(JSON.stringify(withCredentials)).not.toContain('s3cret-pw');
      expect(await callSlave(`ftp://127.0.0.1:${v4.port}/`, 10_000, open)).toMatchObject({ outcome: 'retry', refused: 'scheme' });
      expect(v4.connections).toBe(0);
    } finally {
      await open.onApplicationShutdown();
    }
  }, 30_000);
});

describe('redirects and DNS answers under the outbound policy', () => {
  // Here 127.0.0.1 stands for a public address (the only change to the classification); every
  // other address, 127.0.0.2 and ::1 included, is judged as in production. Nothing leaves loopback.
  const classify = (address: string) => (address === '127.0.0.1' ? null : forbiddenRange(address));
  let calls: Record<string, number> = {};
  let answers: Record<string, ResolvedAddress[][]> = {};
  const resolve = async (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
    const list = answers[name];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    // Successive answers, the last one repeated: a rebinding DNS server.
    return list[Math.min(calls[name] - 1, list.length - 1)];
  };
  const http2 = new SlaveHttp(new OutboundPolicy({ allowPrivate: false, resolve, classify }));
  let redirect = '';
  let a: Listener;
  let b: Listener;
  let v6: Listener | null = null;

  beforeAll(async () => {
    a = await listen('127.0.0.1', (req, res) => {
      if (req.url?.startsWith('/redirect')) {
        res.writeHead(302, { location: redirect });
        res.end();
        return;
      }
      if (req.url?.startsWith('/big')) {
        res.end(Buffer.alloc(1024 * 1024 + 1, 0x20));
        return;
      }
      if (req.url?.startsWith('/exactly-1mib')) {
        const json = '{"status":"SUCCESS"}';
        res.end(json + ' '.repeat(1024 * 1024 - json.length));
        return;
      }
      res.end('{"status":"SUCCESS"}');
    });
    // B listens on another loopback address, on A's port: where a rebinding answer would lead.
    b = await listen('127.0.0.2', undefined, a.port);
    if (await ipv6LoopbackAvailable()) v6 = await listen('::1', undefined, a.port).catch(() => null);
  }, 30_000);
  beforeEach(() => {
    calls = {};
    answers = {};
  });
  afterAll(async () => {
    await http2.onApplicationShutdown();
    await a?.close();
    await b?.close();
    await v6?.close();
  }, 30_000);

  it('checks every redirect hop: a redirect to a forbidden address, name, scheme or credentials is refused and not followed', async () => {
    answers['inside.test'] = [[{ address: '127.0.0.2', family: 4 }]];
    const targets: [string, string][] = [
      [`http://127.0.0.2:${a.port}/ok`, 'address'],
      [`http://2130706434:${a.port}/ok`, 'address'],
      [`http://localhost:${a.port}/ok`, 'address'],
      [`http://[::1]:${a.port}/ok`, 'address'],
      [`http://[::ffff:127.0.0.2]:${a.port}/ok`, 'address'],
      [`http://inside.test:${a.port}/ok`, 'address'],
      [`http://user:hop-secret@127.0.0.1:${a.port}/ok`, 'credentials'],
      [`ftp://127.0.0.1:${a.port}/ok`, 'scheme'],
    ];
    for (const [target, rule] of targets) {
      redirect = target;
      const before = a.requests.length;
      const answer = await callSlave(`http://127.0.0.1:${a.port}/redirect`, 10_000, http2);
      expect([target, answer]).toEqual([target, expect.objectContaining({ outcome: 'retry', refused: rule })]);
      expect(answer.outcome === 'retry' && answer.error).toMatch(/^redirected to .*: refused: /);
      expect(JSON.stringify(answer)).not.toContain('hop-secret');
      // The first hop was served; the refused one was never requested.
      expect(a.requests.slice(before)).toEqual(['/redirect']);
    }
    expect(b.connections).toBe(0);
    expect(v6?.connections ?? 0).toBe(0);
    // A redirect to an allowed host is followed as before.
    redirect = `http://127.0.0.1:${a.port}/ok?after=redirect`;
    await expect(callSlave(`http://127.0.0.1:${a.port}/redirect`, 10_000, http2)).resolves.toMatchObject({ outcome: 'delivered' });
  }, 30_000);

  it('connects to exactly the address it checked: one resolution per new connection, no second lookup for a rebinding DNS to answer', async () => {
    // A rebinding DNS server: the allowed address and a forbidden one, alternately.
    const allowed = [{ address: '127.0.0.1', family: 4 }];
    const forbidden = [{ address: '127.0.0.2', family: 4 }];
    answers['flip.test'] = Array.from({ length: 40 }, (_, i) => (i % 2 ? forbidden : allowed));
    const requestsBefore = a.requests.length;
    const connectionsBefore = a.connections;
    const outcomes: string[] = [];
    for (let n = 0; n < 8; n++) {
      const answer = await callSlave(`http://flip.test:${a.port}/ok?n=${n}`, 10_000, http2);
      outcomes.push(answer.outcome === 'retry' ? `refused:${answer.refused}` : answer.outcome);
    }
    expect(outcomes[0]).toBe('delivered');
    expect(outcomes.every((o) => o === 'delivered' || o === 'refused:address')).toBe(true);
    // Every delivered request went to A, the address its connection's one resolution returned and
    // the policy checked; the forbidden answers led to no connection at all.
    const delivered = outcomes.filter((o) => o === 'delivered').length;
    expect(a.requests.length - requestsBefore).toBe(delivered);
    expect(b.connections).toBe(0);
    // One resolution per connection opened (kept-alive connections are reused without one) or refused.
    const refused = outcomes.length - delivered;
    expect(calls['flip.test']).toBe(a.connections - connectionsBefore + refused);
    expect(a.connections - connectionsBefore).toBeLessThan(delivered + 1);
  }, 30_000);

  it('a name that now resolves to a forbidden address gets no new connection', async () => {
    answers['moved.test'] = [[{ address: '127.0.0.2', family: 4 }]];
    await expect(callSlave(`http://moved.test:${a.port}/ok`, 10_000, http2)).resolves.toMatchObject({ outcome: 'retry', refused: 'address' });
    expect(calls['moved.test']).toBe(1);
    expect(b.connections).toBe(0);
  }, 30_000);

  it('keeps what the propagator guaranteed: one keep-alive connection, answers capped at 1 MiB', async () => {
    const fresh = new SlaveHttp(new OutboundPolicy({ allowPrivate: false, resolve, classify }));
    const before = a.connections;
    try {
      for (let i = 0; i < 6; i++) await expect(callSlave(`http://127.0.0.1:${a.port}/ok?i=${i}`, 10_000, fresh)).resolves.toMatchObject({ outcome: 'delivered' });
      // Connections are reused (undici waits one event-loop turn before reusing a socket, so a call
      // made at once after the previous answer may open a second one; never one per call).
      expect(a.connections - before).toBeLessThanOrEqual(2);
      await expect(callSlave(`http://127.0.0.1:${a.port}/exactly-1mib`, 10_000, fresh)).resolves.toMatchObject({ outcome: 'delivered' });
      await expect(callSlave(`http://127.0.0.1:${a.port}/big`, 10_000, fresh)).resolves.toMatchObject({ outcome: 'retry', error: 'answer larger than 1 MiB' });
    } finally {
      await fresh.onApplicationShutdown();
    }
  }, 30_000);
});
