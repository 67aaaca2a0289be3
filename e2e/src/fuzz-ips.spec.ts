import fc from 'fast-check';
import { IPS_ACTIONS, IPS_CONNECT_PATHS, IPS_PARAM_NAMES, BROWSER_ACTIONS, stripUnsafe } from '@switchboard/ips-protocol';
import {
  FORM, Fixtures, FuzzRequest, FuzzResponse, Fuzzer, Pair, SecretSet, WRONG_METHODS, bracketBomb, contentTypes, deepJsonBody, extraHeaders, hostileValue,
  joinPairs, latin1, manyPairs, md5, multipart, nameSpellings, oversizeBody, lenientDecode, paramName, SWEEP_VALUES, parsedName, pathVariants, pct, separator, SCALE,
  fuzzSystem,
} from './support/fuzz';
import { MASTER_KEY, System } from './support/system';

/** Issue 10 §5: hostile requests on the IPS Connect endpoint (every path, GET/POST/HEAD/multipart). */
describe('fuzz: IPS Connect endpoint', () => {
  let sys: System;
  let fx: Fixtures;
  let fz: Fuzzer;
  const secrets = new SecretSet();

  fuzzSystem(secrets, (s, f, z) => {
    sys = s;
    fx = f;
    fz = z;
  });

  const IPS_STATUSES = new Set(['SUCCESS', 'INVALID_ACTION', 'DISABLED', 'BAD_KEY', 'REQUEST_MISSING_DATA', 'ACCOUNT_NOT_FOUND', 'WRONG_AUTH', 'EMAIL_IN_USE', 'USERNAME_IN_USE', 'FAILURE', 'ACCOUNT_LOCKED']);
  const PATHS = IPS_CONNECT_PATHS.map((p) => `/${p}`);

  /** Values that make actions go deep (real keys, ids, slaves), mixed with hostile ones. */
  const value = (name: string): fc.Arbitrary<string> => {
    const ids = fx.members.map((m) => String(m.id));
    const meaningful: Record<string, string[]> = {
      do: [...IPS_ACTIONS, ...BROWSER_ACTIONS, 'VERIFYSETTINGS', 'fetchSalt%00', '__construct', 'requestLogin', ''],
      key: [
        MASTER_KEY, MASTER_KEY, ...fx.members.map((m) => md5(MASTER_KEY + m.id)), fx.perSlave.masterKey, ...fx.members.map((m) => md5(fx.perSlave.masterKey + m.id)),
        fx.slaves[0].ourKey, `${MASTER_KEY}%00`, `%20${MASTER_KEY}`, MASTER_KEY.toUpperCase(), MASTER_KEY.slice(0, -1), '',
      ],
      id: [...ids, ...ids, ...fx.members.flatMap((m) => [pct(m.name), pct(m.email)]), '0', '-1', '2147483648', '1e1', '%201', '99999'],
      remove: ids,
      remote: ids,
      idType: ['1', '2', '3', '0', '4'],
      url: [...fx.slaves.map((s) => pct(s.url)), pct(sys.urls.gateway), 'http://127.0.0.1:9/x', 'javascript:alert(1)', 'http://user:pw@127.0.0.1:9/'],
      ourKey: [...fx.slaves.map((s) => s.ourKey), 'short'],
      name: [...fx.members.map((m) => pct(m.name)), 'Fuzz%20New'],
      email: [...fx.members.map((m) => pct(m.email)), 'new%40fuzz.test', 'a%40b'],
      pass_hash: [...fx.members.map((m) => pct(m.passHash)), 'd41d8cd98f00b204e9800998ecf8427e', pct(`$2a$13$${'a'.repeat(53)}`)],
      pass_salt: [...fx.members.map((m) => pct(m.passSalt)), 'abc', 'a'.repeat(22)],
      password: [pct(fx.members[1].password!)],
      revalidateUrl: ['http://127.0.0.1:9/re', 'ftp://x'],
      status: ['0', '1'],
      returnTo: [pct(sys.urls.gateway + '/'), pct(fx.slaves[0].url), 'https://evil.test/', '//evil.test', pct('http://127.0.0.1:9/\r\nx: y')],
      slaveCall: ['1', '0', '01', '1abc'],
      state: ['x'.repeat(43), ''],
      fetchId: ['1'],
    };
    const pool = meaningful[name];
    return pool?.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 2, arbitrary: hostileValue }) : hostileValue;
  };

  const KNOWN: string[] = [...IPS_PARAM_NAMES];
  /**
   * A parameter: a known name in some spelling, with a value meant for the name PHP's rules make of
   * that spelling (so secrets travel only under names the parser reads as theirs: `key%00`, ` key`,
   * `pass.hash` are `key` and `pass_hash` to it).
   */
  const pair = (): fc.Arbitrary<Pair> =>
    fc
      .constantFrom(...KNOWN)
      .chain((name) => fc.oneof({ weight: 5, arbitrary: fc.constant(name) }, { weight: 2, arbitrary: fc.constantFrom(...nameSpellings(name)) }, { weight: 1, arbitrary: paramName(KNOWN) }))
      .chain((spelling) => {
        const produced = parsedName(spelling, 'php');
        return fc.tuple(fc.constant(spelling), fc.option(KNOWN.includes(produced) ? value(produced) : hostileValue, { nil: undefined, freq: 12 }));
      });
  /** An action call: `do` first (usually), then a few parameters. */
  const pairs = (): fc.Arbitrary<Pair[]> =>
    fc
    .tuple(value('do'), fc.array(pair(), { maxLength: 9 }), fc.boolean())
    .map(([action, rest, doFirst]) => (doFirst ? [['do', action] as Pair, ...rest] : rest));

  const ipsRequest = (extra: Partial<FuzzRequest> = {}) =>
    fc
      .record({
        path: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...PATHS) }, { weight: 1, arbitrary: fc.constantFrom(...PATHS).chain((p) => fc.constantFrom(...pathVariants(p))) }),
        method: fc.oneof({ weight: 5, arbitrary: fc.constant('GET') }, { weight: 4, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constant('HEAD') }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_METHODS) }),
        query: pairs(),
        form: pairs(),
        sep: separator,
        place: fc.constantFrom('query', 'query', 'body', 'both'),
        body: fc.constantFrom('form', 'form', 'form', 'multipart', 'truncated', 'no-close', 'bad-boundary', 'file', 'no-disposition', 'many-parts', 'chunked', 'wrong-type', 'abort'),
        type: contentTypes,
        headers: extraHeaders([`sb_session=${fx.session}`]),
      })
      .map(({ path, method, query, form, sep, place, body, type, headers }): FuzzRequest => {
        const withBody = method !== 'GET' && method !== 'HEAD' && place !== 'query';
        const target = place === 'body' && withBody ? path : `${path}?${joinPairs(query, sep)}`;
        const req: FuzzRequest = { route: `${method} ${path}`, service: 'gateway', method, target, headers: [...headers], syntax: 'php', ...extra };
        if (!withBody) return req;
        if (body === 'form' || body === 'chunked' || body === 'abort' || body === 'wrong-type') {
          req.body = latin1(joinPairs(form, sep));
          req.headers.push(['content-type', body === 'wrong-type' ? type : FORM]);
          if (body === 'chunked') req.chunked = 7;
          if (body === 'abort') req.abortAfter = Math.floor(req.body.length / 2);
        } else {
          const mp = multipart(form, body as Parameters<typeof multipart>[1]);
          req.body = mp.body;
          req.headers.push(['content-type', mp.type]);
        }
        return req;
      });

  /** What each action reads (spec §2): a keyed call of it goes past the key check into the action. */
  const ACTION_PARAMS: Record<string, string[]> = {
    verifySettings: ['url', 'ourKey'],
    disableSlave: ['url'],
    fetchSalt: ['id', 'idType'],
    login: ['id', 'idType', 'password'],
    fetchId: ['id', 'idType'],
    register: ['name', 'email', 'pass_hash', 'pass_salt', 'revalidateUrl', 'url'],
    validate: ['id'],
    delete: ['id'],
    ban: ['id', 'status'],
    merge: ['id', 'remove', 'remote'],
    checkEmail: ['email', 'id'],
    checkName: ['name', 'id'],
    changeEmail: ['id', 'email'],
    changePassword: ['id', 'pass_hash', 'pass_salt'],
    changeName: ['id', 'name'],
    crossLogin: ['id', 'returnTo', 'url', 'slaveCall'],
    logout: ['id', 'returnTo', 'url', 'slaveCall'],
  };
  const RAW_KEY_ACTIONS = ['verifySettings', 'disableSlave', 'register', 'checkEmail', 'checkName'];
  /** A call with a valid key (the global key or the per-slave one, raw or md5(key . id)) and hostile values. */
  const keyedRequest = () =>
    fc
      .constantFrom(...Object.keys(ACTION_PARAMS))
      .chain((action) =>
        fc.record({
          action: fc.constant(action),
          params: fc.array(
            fc
              .constantFrom(...ACTION_PARAMS[action])
              .chain((name) => fc.oneof({ weight: 4, arbitrary: fc.constant(name) }, { weight: 1, arbitrary: fc.constantFrom(...nameSpellings(name)) }))
              .chain((spelling) => {
                const produced = parsedName(spelling, 'php');
                return fc.tuple(fc.constant(spelling), KNOWN.includes(produced) ? value(produced) : hostileValue);
              }),
            { minLength: 1, maxLength: 6 },
          ),
          master: fc.constantFrom(MASTER_KEY, MASTER_KEY, fx.perSlave.masterKey),
          // Raw key for actions without a member id, md5(key . id) for the others (spec §1.8); sometimes the other one.
          wrongForm: fc.integer({ min: 0, max: 9 }),
          id: value('id'),
          method: fc.constantFrom('GET', 'POST', 'POST'),
          multipartBody: fc.boolean(),
          headers: extraHeaders([`sb_session=${fx.session}`]),
        }),
      )
      .map(({ action, params, master, wrongForm, id: idValue, method, multipartBody, headers }): FuzzRequest => {
        const all: Pair[] = ACTION_PARAMS[action].includes('id') ? [['id', idValue], ...params] : params;
        const id = [...all].reverse().find(([n]) => parsedName(n, 'php') === 'id')?.[1];
        const hashed = !RAW_KEY_ACTIONS.includes(action) !== (wrongForm === 0);
        const key = hashed ? md5(master + stripUnsafe(lenientDecode(id ?? ''))) : master;
        const pairs: Pair[] = [['do', action], ['key', key], ...all];
        const path = PATHS[pairs.length % PATHS.length];
        if (method === 'GET') return { route: `GET ${path} do=${action}`, service: 'gateway', syntax: 'php', method, target: `${path}?${joinPairs(pairs)}`, headers };
        const body = multipartBody ? multipart(pairs, 'ok') : { type: FORM, body: latin1(joinPairs(pairs)) };
        return { route: `POST ${path} do=${action}`, service: 'gateway', syntax: 'php', method, target: path, headers: [...headers, ['content-type', body.type]], body: body.body };
      });

  /** Salts are what `fetchSalt` answers to a slave holding the key (spec §2.3). */
  const mayCarry = (_req: FuzzRequest, res: FuzzResponse) => (res.body.includes('"pass_salt"') ? secrets.names.filter((n) => n.startsWith('pass_salt of')) : []);

  /** Protocol answers: JSON with a protocol status (HTTP 200), 405 for other methods, 303/403 for browser chains. */
  const protocolCheck = (req: FuzzRequest, res: FuzzResponse): string | undefined => {
    if (!PATHS.includes(req.route.split(' ')[1]) || req.method === 'HEAD' || res.status !== 200) return undefined;
    try {
      const answer = JSON.parse(res.body.toString('utf8'));
      if (!IPS_STATUSES.has(answer.status) && answer.status !== 'SERVICE_UNAVAILABLE') return `HTTP 200 with an unknown IPS status ${String(answer.status).slice(0, 40)}`;
    } catch {
      return 'HTTP 200 that is not a JSON protocol answer';
    }
    return undefined;
  };

  it('GET / POST / HEAD / other methods with hostile query strings and form bodies', async () => {
    await fz.check('ips: hostile parameters', ipsRequest(), { numRuns: 160, mayCarry, check: protocolCheck });
  }, 180_000);

  it('every action with a valid key (global or per-slave, raw or md5(key . id)) and hostile values', async () => {
    await fz.check('ips: keyed actions', keyedRequest(), { numRuns: 150, mayCarry, check: protocolCheck });
  }, 180_000);

  it('sweep: every action × every hostile class in each of its parameters (NUL, overlong, surrogate, bad escape, 5000 bytes, name[], name[), with a valid key', async () => {
    const requests: FuzzRequest[] = [];
    const memberId = String(fx.members[0].id);
    const send = (action: string, pairs: Pair[], note: string) => {
      const i = requests.length;
      const path = PATHS[i % PATHS.length];
      if (i % 3 === 0) requests.push({ route: `GET ${path} do=${action}`, service: 'gateway', syntax: 'php', method: 'GET', target: `${path}?${joinPairs(pairs)}`, headers: [], note });
      else {
        const body = i % 3 === 1 ? { type: FORM, body: latin1(joinPairs(pairs)) } : multipart(pairs, 'ok');
        requests.push({ route: `POST ${path} do=${action}`, service: 'gateway', syntax: 'php', method: 'POST', target: path, headers: [['content-type', body.type]], body: body.body, note });
      }
    };
    for (const action of Object.keys(ACTION_PARAMS)) {
      const hasId = ACTION_PARAMS[action].includes('id');
      const key = (id: string) => (RAW_KEY_ACTIONS.includes(action) ? MASTER_KEY : md5(MASTER_KEY + stripUnsafe(lenientDecode(id))));
      const others = ACTION_PARAMS[action].filter((n) => n !== 'id');
      for (const v of [...SWEEP_VALUES, '[]', '[']) {
        const hostile = others.map((n): Pair => (v.startsWith('[') ? [`${n}${v}`, 'x'] : [n, v]));
        send(action, [['do', action], ['key', key(memberId)], ...(hasId ? [['id', memberId] as Pair] : []), ...hostile], `every parameter = ${v.slice(0, 12)}`);
        if (hasId && !v.startsWith('[')) send(action, [['do', action], ['key', key(v)], ['id', v], ...others.map((n): Pair => [n, 'x'])], `id = ${v.slice(0, 12)}`);
      }
    }
    await fz.checkList('ips: sweep', requests, { mayCarry, check: protocolCheck });
  }, 180_000);

  it('sweep: every spelling PHP maps to a secret parameter carries a secret that no log line may show', async () => {
    const secretOf: Record<string, string> = { key: MASTER_KEY, ourKey: fx.slaves[0].ourKey, pass_hash: fx.members[0].passHash, pass_salt: fx.members[0].passSalt, password: fx.members[1].password! };
    const requests: FuzzRequest[] = [];
    for (const [name, secret] of Object.entries(secretOf)) {
      for (const spelling of new Set([...nameSpellings(name), `${name}[a][b]`, `${name}%00%00`, `%20%20${name}`])) {
        if (parsedName(spelling, 'php') !== name) continue;
        for (const value of [pct(secret), `x,${pct(secret)}`]) {
          const target = `/ipsconnect?do=fetchSalt&${spelling}=${value}`;
          requests.push({ route: `GET /ipsconnect ${name} spelled ${spelling}`, service: 'gateway', syntax: 'php', method: 'GET', target, headers: [] });
        }
      }
    }
    expect(requests.length).toBeGreaterThan(40);
    await fz.checkList('ips: redaction sweep', requests, { mayCarry, check: protocolCheck });
  }, 180_000);

  it('multipart (well-formed, truncated, unclosed, bad boundary, files, 1500 parts), chunked, wrong content types, clients that go away', async () => {
    const arb = ipsRequest().filter((r) => r.method === 'POST' && r.body !== undefined);
    await fz.check('ips: bodies', arb, { numRuns: 70, mayCarry, check: protocolCheck });
  }, 180_000);

  it('thousands of parameters, bracket bombs, deep JSON and bodies around the 64 KiB limit', async () => {
    const path = fc.constantFrom(...PATHS);
    const arb = fc.oneof(
      fc.tuple(path, manyPairs, fc.constantFrom('query', 'body'), fc.constantFrom(FORM, 'multipart')).map(([p, many, place, type]): FuzzRequest => {
        const all: Pair[] = [['do', 'fetchSalt'], ['key', MASTER_KEY], ...many, ['id', String(fx.members[0].id)]];
        if (place === 'query') return { route: `GET ${p}`, service: 'gateway', syntax: 'php', method: 'GET', target: `${p}?${joinPairs(all)}`, headers: [], note: `${many.length} parameters` };
        const mp = type === 'multipart' ? multipart(all, 'ok') : { type: FORM, body: latin1(joinPairs(all)) };
        return { route: `POST ${p}`, service: 'gateway', syntax: 'php', method: 'POST', target: p, headers: [['content-type', mp.type]], body: mp.body, note: `${many.length} parameters` };
      }),
      fc.tuple(path, bracketBomb, fc.boolean()).map(([p, name, post]): FuzzRequest => {
        const q = `do=checkEmail&key=${MASTER_KEY}&${name}=1&email=a%40b`;
        return post
          ? { route: `POST ${p}`, service: 'gateway', method: 'POST', target: p, headers: [['content-type', FORM]], body: latin1(q), note: 'bracket bomb' }
          : { route: `GET ${p}`, service: 'gateway', method: 'GET', target: `${p}?${q}`, headers: [], note: 'bracket bomb' };
      }),
      fc.tuple(path, deepJsonBody).map(([p, d]): FuzzRequest => ({ route: `POST ${p}`, service: 'gateway', method: 'POST', target: `${p}?do=checkName&key=${MASTER_KEY}&name=x`, headers: [['content-type', 'application/json']], body: latin1(d.json), note: d.note })),
      fc.tuple(path, oversizeBody).map(([p, o]): FuzzRequest => ({ route: `POST ${p}`, service: 'gateway', method: 'POST', target: `${p}?do=checkName&key=${MASTER_KEY}&name=x`, headers: [['content-type', o.type]], body: o.body, note: o.note })),
      fc.tuple(path, fc.constantFrom(8000, 16_300, 17_000, 40_000)).map(([p, n]): FuzzRequest => ({ route: `GET ${p}`, service: 'gateway', method: 'GET', target: `${p}?do=checkName&key=${MASTER_KEY}&name=${'n'.repeat(n)}`, headers: [], note: `URL of ${n}+ bytes` })),
    );
    await fz.check('ips: sizes', arb, { numRuns: 45, mayCarry, check: protocolCheck });
  }, 180_000);

  it('every service is ready afterwards; no secret reached any log line', async () => {
    await fz.finalCheck();
    // Every property ran all its requests (the last check is not vacuous).
    expect(fz.sent).toBeGreaterThanOrEqual(Math.floor(425 * SCALE));
  }, 60_000);
});
