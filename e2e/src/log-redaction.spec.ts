import { Writable } from 'node:stream';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import pino from 'pino';
import { ARRAY_PARAM, parseForm } from '@switchboard/ips-protocol';
import { SECRET_NAMES, pinoOptions } from '@switchboard/runtime';
import { ADMIN_TOKEN, MASTER_KEY, System, http, startSystem } from './support/system';

/** Spec D16: keys, hashes, salts, signatures, tokens and secrets never reach a log line. */
describe('log redaction', () => {
  let sys: System;
  const SECRETS = {
    ourKey: 'OURKEY-fedcba9876543210fedcba98',
    password: '$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe',
    pass_hash: '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.',
    pass_salt: 'SALT0123456789abcdefgh',
    api_sig: 'SIG8ae34e6d4abe8384cf45c70f9b90c6',
    auth_token: 'TOKEN987654321-e5a5b9c3d5a77eab',
    frob: 'FROB123456789-0ad5e2a80ad5e2a8',
    secret: 'SECRET0a2b3c4d5e6a7b8d',
  };

  beforeAll(async () => {
    sys = await startSystem();
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  it('keeps every secret out of request logs, application logs and error logs', async () => {
    const query = new URLSearchParams({ do: 'verifySettings', key: MASTER_KEY, url: 'http://127.0.0.1:8081/x', ...SECRETS });
    // GET with every secret in the query string, a POST with them in the body, an unknown action,
    // a failing body, an unauthorized and an authorized admin call.
    expect((await http(`${sys.urls.gateway}/ipsconnect?${query}`)).text).toBe('{"status":"SUCCESS"}');
    expect((await http(`${sys.urls.gateway}/ipsconnect`, { method: 'POST', body: query.toString() })).status).toBe(200);
    await http(`${sys.urls.gateway}/ipsconnect?do=nosuch&${query}`);
    await http(`${sys.urls.gateway}/ipsconnect?${query}`, { method: 'POST', body: 'x=' + 'a'.repeat(70_000) });
    await http(`${sys.urls.admin}/admin/slaves?${query}`, { headers: { authorization: 'Bearer wrong-but-secret-token-value' } });
    await http(`${sys.urls.admin}/admin/slaves`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, cookie: `sid=${SECRETS.secret}` } });
    // Application code logging an object or a message that carries secrets.
    const logger = new Logger('RedactionProbe');
    logger.log({ msg: 'probe object', key: MASTER_KEY, nested: { pass_hash: SECRETS.pass_hash, frob: SECRETS.frob } });
    logger.warn(`probe message GET /ipsconnect?do=login&key=${MASTER_KEY}&password=${SECRETS.password}`);
    logger.error(new Error(`probe error api_sig=${SECRETS.api_sig}&auth_token=${SECRETS.auth_token}`));
    // The pino options every service uses, with interpolation arguments and secrets inside text.
    const raw = pino(pinoOptions({ service: 'probe', level: 'info' }), sys.logs);
    raw.info('probe interpolation %o %j %s', { password: SECRETS.password }, { auth_token: SECRETS.auth_token }, `frob=${SECRETS.frob}`);
    raw.info(`probe json {"secret":"${SECRETS.secret}"} Authorization: Bearer ${SECRETS.auth_token}`);
    await http(`${sys.urls.gateway}/health/ready`);
    await http(`${sys.urls.admin}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await new Promise((r) => setTimeout(r, 200));

    const text = sys.logs.text;
    // The requests were logged (so the assertion below is not vacuous)…
    expect(text).toContain('/ipsconnect?do=verifySettings');
    expect(text).toContain('probe object');
    expect(text).toContain('probe message');
    expect(text).toContain('probe interpolation');
    expect(text).toContain('[REDACTED]');
    // …and no secret value appears anywhere.
    for (const value of [MASTER_KEY, ADMIN_TOKEN, 'wrong-but-secret-token-value', ...Object.values(SECRETS)]) {
      expect({ value, found: text.includes(value) }).toEqual({ value, found: false });
    }
    expect(text).not.toContain('test-internal-token');
    // Every line is JSON with the service and a request id for request logs.
    for (const line of sys.logs.lines) expect(() => JSON.parse(line)).not.toThrow();
    const requestLine = sys.logs.lines.map((l) => JSON.parse(l)).find((l) => l.req?.url?.startsWith('/ipsconnect'));
    expect(requestLine.service).toBe('gateway');
    expect(requestLine.req.id).toMatch(/^[0-9a-f-]{36}$/);
    // Probes and scrapes are not logged.
    expect(sys.logs.lines.map((l) => JSON.parse(l).req?.url ?? '').filter((u: string) => /^\/(health|metrics)/.test(u))).toEqual([]);
  }, 60_000);

  // Issue 10 §3: the parser, not the raw text, decides which parameter a spelling is. Each spelling
  // below is read by the IPS parser as a secret parameter (checked here); its value must never be
  // logged, in the request line or in a message that quotes the URL.
  it('redacts every spelling the IPS parser maps to a secret name', async () => {
    const keySpellings = ['key%00', '%00key', 'ke%00y', '%20key', '+key', '++key', '%20%00key', '%6Bey', '%6B%65%79', 'key%E2%80%AE', '%E2%80%AEkey', 'k%E2%80%AEey'];
    const arraySpellings: [string, string][] = [['key[]', 'key'], ['key[0]', 'key'], ['key%5B%5D', 'key'], ['ourKey[]', 'ourKey'], ['pass_hash[x]', 'pass_hash']];
    const otherSpellings: [string, string][] = [
      ['ourKey%00', 'ourKey'],
      ['%20ourKey', 'ourKey'],
      ['+ourKey', 'ourKey'],
      ['pass.hash', 'pass_hash'],
      ['pass%2Ehash', 'pass_hash'],
      ['pass+hash', 'pass_hash'],
      ['pass%20hash', 'pass_hash'],
      ['pass_hash%00', 'pass_hash'],
      ['pass.salt', 'pass_salt'],
      ['+password', 'password'],
      ['password%00', 'password'],
      ['api%5Fsig', 'api_sig'],
      ['auth.token', 'auth_token'],
      ['frob%E2%80%AE', 'frob'],
    ];
    const values: string[] = [];
    const value = (i: number) => {
      const v = `S3CRET-${i}-${Math.random().toString(36).slice(2, 10)}`;
      values.push(v);
      return v;
    };
    const ips = `${sys.urls.gateway}/ipsconnect`;
    let i = 0;
    for (const spelling of keySpellings) {
      // The parser reads this spelling as `key`: the master key is accepted (a wrong key says BAD_KEY).
      const q = `do=checkEmail&${spelling}=${MASTER_KEY}&email=nobody@example.test`;
      expect(parseForm(q).get('key')).toBe(MASTER_KEY);
      expect([spelling, (await http(`${ips}?${q}`)).json()]).toEqual([spelling, { status: 'SUCCESS', used: 0 }]);
      // The same spelling carrying another secret value.
      const v = value(i);
      expect(parseForm(`${spelling}=${v}`).get('key')).toBe(v);
      await http(`${ips}?do=checkEmail&email=a@example.test&${spelling}=${v}`);
      new Logger('RedactionProbe').warn(`probe spelling GET /ipsconnect?do=checkEmail&${spelling}=${v}&email=a@example.test`);
      i++;
    }
    for (const [spelling, name] of [...arraySpellings, ...otherSpellings]) {
      const v = value(i++);
      const parsed = parseForm(`${spelling}=${v}`).get(name);
      expect([spelling, parsed]).toEqual([spelling, arraySpellings.some(([s]) => s === spelling) ? ARRAY_PARAM : v]);
      await http(`${ips}?do=checkEmail&key=${MASTER_KEY}&email=a@example.test&${spelling}=${v}`);
      await http(`${ips}`, { method: 'POST', body: `do=checkEmail&${spelling}=${v}` });
      new Logger('RedactionProbe').warn(`probe spelling GET /ipsconnect?do=checkEmail&${spelling}=${v}&email=a@example.test`);
    }
    await new Promise((r) => setTimeout(r, 200));
    const text = sys.logs.text;
    expect(text.match(/\/ipsconnect\?do=checkEmail/g)!.length).toBeGreaterThanOrEqual(2 * keySpellings.length + arraySpellings.length + otherSpellings.length);
    expect(text).toContain('probe spelling');
    for (const v of [MASTER_KEY, ...values]) expect({ v, found: text.includes(v) }).toEqual({ v, found: false });
  }, 60_000);
});

/**
 * The property behind the test above: for any parameter spelling that the IPS parser reads as a
 * secret name, the value is absent from the request log line and from a message quoting the URL.
 */
describe('log redaction follows the parser (property)', () => {
  const secretNames = SECRET_NAMES as readonly string[];
  const pct = (c: string) => [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
  // Spellings: a secret name with edits the PHP-style parser undoes (and some it does not).
  const edit = fc.oneof(
    fc.constant((n: string) => '+' + n),
    fc.constant((n: string) => '%20' + n),
    fc.constant((n: string) => n + '%00'),
    fc.constant((n: string) => '%00' + n),
    fc.constant((n: string) => n + '%E2%80%AE'),
    fc.constant((n: string) => n.replace('_', '.')),
    fc.constant((n: string) => n.replace('_', '+')),
    fc.constant((n: string) => n.replace('_', '%20')),
    fc.constant((n: string) => n + '[]'),
    fc.constant((n: string) => n + '[x'),
    fc.constant((n: string) => n + '%5B0%5D'),
    fc.constant((n: string) => n.toUpperCase()),
    fc.nat().map((k) => (n: string) => (n.length ? n.slice(0, k % n.length) + '%00' + n.slice(k % n.length) : n)),
    fc.nat().map((k) => (n: string) => (n.length ? n.slice(0, k % n.length) + pct(n[k % n.length]) + n.slice((k % n.length) + 1) : n)),
  );
  const spelling = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...secretNames), fc.array(edit, { maxLength: 4 })).map(([n, edits]) => edits.reduce((acc, f) => f(acc), n)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)) },
  );
  const secretValue = fc.string({ minLength: 4, maxLength: 24 }).map((s) => 'S3cr3t' + s);

  it('for any spelling s, if the parser reads s as a secret name, no log line holds its value', () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = pino(pinoOptions({ service: 'probe', level: 'info' }), stream);
    let applicable = 0;
    fc.assert(
      fc.property(spelling, secretValue, fc.constantFrom('&', ''), (s, raw, tail) => {
        const value = encodeURIComponent(raw).replace(/'/g, '%27'); // as a client sends it
        const query = `do=login&${s}=${value}${tail ? `${tail}id=1` : ''}`;
        // What the IPS parser makes of the pair on its own: does it name a secret parameter?
        if (![...parseForm(`${s}=${value}`).keys()].some((k) => secretNames.includes(k))) return true;
        applicable++;
        lines.length = 0;
        const url = `/ipsconnect?${query}`;
        logger.info({ req: { id: '1', method: 'GET', url, headers: {} } }, 'request completed');
        logger.warn(`do=login refused for GET ${url}`);
        return lines.length === 2 && lines.every((line) => !line.includes(value));
      }),
      { numRuns: 1000 },
    );
    expect(applicable).toBeGreaterThan(300); // the property was exercised, not vacuously true
  }, 60_000);
});
