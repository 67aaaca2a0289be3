import fc from 'fast-check';
import { REDACTED, SECRET_NAMES, redactDeep, redactString } from './redact';

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
