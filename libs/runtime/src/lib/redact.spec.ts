import fc from 'fast-check';
import { REDACTED, SECRET_NAMES, canonicalParamName, isSecretName, redactDeep, redactQuery, redactString, redactUrl } from './redact';

describe('redactString', () => {
  it('removes every secret value from an IPS Connect query string', () => {
    const url =
      '/ipsconnect?do=login&key=ef7d05c70b4fddc71bb6d4449bfdd60e&idType=2&id=alice@example.test' +
      '&password=$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe&ourKey=fedcba98';
    const out = redactString(url);
    expect(out).not.toContain('ef7d05c7');
    expect(out).not.toContain('fJyGQz74');
    expect(out).not.toContain('fedcba98');
    expect(out).toContain('id=alice@example.test');
    expect(out).toContain('do=login');
  });

  it('matches names case-insensitively and percent-encoded', () => {
    expect(redactString('a=1&API_SIG=abc&pass%5Fhash=xyz')).toBe(`a=1&API_SIG=${REDACTED}&pass%5Fhash=${REDACTED}`);
  });

  it('leaves a secret value nowhere, whatever the value and position', () => {
    const names = fc.constantFrom(...SECRET_NAMES);
    const safe = fc.stringMatching(/^[a-z]{1,8}$/).filter((n) => !SECRET_NAMES.map((s) => s.toLowerCase()).includes(n));
    const value = fc.stringMatching(/^[A-Za-z0-9$./@:_-]{12,40}$/);
    fc.assert(
      fc.property(names, value, fc.array(fc.tuple(safe, fc.stringMatching(/^[a-z0-9]{0,6}$/))), (name, secret, others) => {
        const pairs = [...others.map(([n, v]) => `${n}=${v}`), `${name}=${secret}`].reverse();
        const out = redactString('/x?' + pairs.join('&'));
        return !out.includes(secret);
      }),
    );
  });
});

describe('redactDeep', () => {
  it('replaces secret-named properties at any depth, keeps the rest', () => {
    const out = redactDeep({
      msg: 'x',
      body: { key: 'k1', nested: [{ pass_salt: 's1', name: 'Bob' }], Authorization: 'Bearer t' },
    }) as any;
    expect(out.body.key).toBe(REDACTED);
    expect(out.body.nested[0].pass_salt).toBe(REDACTED);
    expect(out.body.nested[0].name).toBe('Bob');
    expect(out.body.Authorization).toBe(REDACTED);
  });

  it('drops what is nested too deep rather than logging it unredacted', () => {
    let deep: any = { key: 'deep-secret' };
    for (let i = 0; i < 12; i++) deep = { nested: deep };
    expect(JSON.stringify(redactDeep(deep))).not.toContain('deep-secret');
  });
});

describe('redactString, other shapes', () => {
  it('scrubs JSON text, bracketed names, Bearer credentials and passwords in URLs', () => {
    const out = redactString(
      '{"key":"k-secret","name":"Bob","pass_salt": "s-secret","n":1} key[0]=b-secret Authorization: Bearer t-secret postgres://u:p-secret@h/db',
    );
    for (const secret of ['k-secret', 's-secret', 'b-secret', 't-secret', 'p-secret']) expect(out).not.toContain(secret);
    expect(out).toContain('"name":"Bob"');
    expect(out).toContain('postgres://u:');
    const nested = redactString('/ipsconnect?do=crossLogin&returnTo=http://h/?loginProcess=ipsconnect%26ipsconnectKey=n-secret%26ipsconnectId=42&x=%3Fkey%3De-secret');
    expect(nested).not.toContain('n-secret');
    expect(nested).not.toContain('e-secret');
    expect(nested).toContain('ipsconnectId=42');
  });
});

describe('names are compared by what the parsers read (issue 10 §3)', () => {
  it('maps PHP-style spellings to the secret name', () => {
    const spellings: [string, string][] = [
      ['key%00', 'key'],
      ['%20key', 'key'],
      ['+key', 'key'],
      ['ke%E2%80%AEy', 'key'],
      ['key[]', 'key'],
      ['key[0', 'key'],
      ['ourKey%00', 'ourkey'],
      ['pass.hash', 'pass_hash'],
      ['pass+hash', 'pass_hash'],
      ['pass%2520hash', 'pass_hash'], // encoded twice: a name nested in another parameter's value
      ['%6B%65%79', 'key'],
    ];
    for (const [spelling, name] of spellings) expect([spelling, canonicalParamName(spelling)]).toEqual([spelling, name]);
    expect(canonicalParamName('keyring')).toBe('keyring');
    expect(canonicalParamName('[key]')).toBe('[key]');
  });

  it("reads an unclosed '[' as '_' too, as PHP and the IPS parser do (pass[hash is pass_hash; found by the fuzz suite)", () => {
    for (const spelling of ['pass[hash', 'pass[salt', 'pass%5Bhash', 'api[sig', 'auth[token']) {
      expect([spelling, isSecretName(spelling)]).toEqual([spelling, true]);
    }
    expect(isSecretName('pass[hash]')).toBe(false); // an array named pass: no secret parameter
    expect(redactQuery('do=login&pass[hash=h1&id=7')).toBe(`do=login&pass[hash=${REDACTED}&id=7`);
  });

  it('scrubs a request target pair by pair: a value runs to the next &, whatever it holds', () => {
    const out = redactUrl(`/ipsconnect?do=login&key%00=a"b'c#d;e&+pass.hash=h1&id=7&password[]=p1`);
    expect(out).toBe(`/ipsconnect?do=login&key%00=${REDACTED}&+pass.hash=${REDACTED}&id=7&password[]=${REDACTED}`);
  });

  it('scrubs such spellings in free text and in JSON text too', () => {
    const out = redactString(`login failed for GET /x?ourKey%00=o-secret&id=1 body +key=k-secret {"pass.hash":"h-secret","key\\u0000":"j-secret"}`);
    for (const secret of ['o-secret', 'k-secret', 'h-secret', 'j-secret']) expect(out).not.toContain(secret);
    expect(out).toContain('id=1');
  });
});
