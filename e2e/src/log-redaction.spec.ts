import { Logger } from '@nestjs/common';
import pino from 'pino';
import { pinoOptions } from '@switchboard/runtime';
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
  }, 120_000);
  afterAll(async () => {
    await sys?.stop();
  }, 120_000);

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
    await http(`${sys.urls.admin}/metrics`);
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
});
