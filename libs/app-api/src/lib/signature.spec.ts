import fc from 'fast-check';
import { canonicalString, compareUtf8, hasForbiddenCharacters, hmacMessage, signHmac, signOrderA, signOrderB, verifyHmac, verifyMd5 } from './signature';

const K = '0123456789abcdef0123456789abcdef';
const S = '0a2b3c4d5e6a7b8d';

/** Vectors of application-api spec §1.1 (computed with Node, PHP and Python; both orders). */
const VECTORS: { id: string; method: string; params: [string, string][]; a: string; b: string }[] = [
  { id: 'V1', method: '', params: [['api_key', K], ['perm_doc', 'write']], a: 'd1ec59737e69c31f7a65ac3cf73c61d0', b: 'ae2fb75b3753d1e2376d24b33247019c' },
  { id: 'V2', method: 'auth.getToken', params: [['api_key', K], ['frob', '123456789-0ad5e2a80ad5e2a8']], a: '8ae34e6d4abe8384cf45c70f9b90c657', b: '4b857aa5c8f11bcd302b34b8637f782e' },
  { id: 'V3', method: 'auth.getFrob', params: [['api_key', K]], a: '8241e21f30e6a62244115f9dc74cab85', b: 'b080bfabf08ce86909ba301241318945' },
  { id: 'V4', method: 'auth.checkToken', params: [['api_key', K], ['auth_token', '987654321-e5a5b9c3d5a77eab']], a: '1e736fc45e5caf2b9fcf5b0f2964307d', b: '05870aa5f5b793ce1e90d90e7859b5f8' },
  { id: 'V5', method: '', params: [['api_key', K], ['frob', '454-712bd4eed6'], ['perm_network', 'read'], ['perm_doc', 'delete']], a: '8a349277adba2d1f75b9d1d926f927d8', b: '809dc1032f2833b932d7618ed3b560a6' },
  { id: 'V6', method: 'test.echo', params: [['api_key', K], ['echo', 'Grüße & co=1+2']], a: '0c83037240afbc134ffaed59be9679f1', b: '07947331e42de4e65eac77dc1ae65ee3' },
  { id: 'V7', method: 'test.echo', params: [['api_key', K], ['a', '1'], ['B', '2'], ['_x', '3']], a: '46d7979cfef7af74b1cff02a10373a73', b: 'dbf96959034dfd5c71dbd8bc81a7b4a0' },
];

describe('api_sig (application API §1, A2)', () => {
  it.each(VECTORS)('$id in both orders', ({ method, params, a, b }) => {
    expect(signOrderA(params, method, S)).toBe(a);
    expect(signOrderB(params, method, S)).toBe(b);
    expect(verifyMd5(b, params, method, S, false)).toBe(true);
    expect(verifyMd5(a, params, method, S, true)).toBe(true);
    expect(verifyMd5(a.toUpperCase(), params, method, S, true)).toBe(true);
    expect(verifyMd5(a, params, method, S, false)).toBe(false); // order A off for this key
  });

  it('reproduces the published ipernity examples (auth pages: order A; encoding page: order B)', () => {
    expect(signOrderA([['api_key', K], ['perm_doc', 'write']], '', S)).toBe('d1ec59737e69c31f7a65ac3cf73c61d0');
    expect(signOrderA([['api_key', K], ['frob', '123456789-0ad5e2a80ad5e2a8']], 'auth.getToken', S)).toBe('8ae34e6d4abe8384cf45c70f9b90c657');
    const k2 = '6fa87ba500002712bd4eed6020f3bd72';
    expect(signOrderB([['api_key', k2], ['doc_id', '1234'], ['keywords', 'easy']], 'doc.tags.add', 'e9a599f0cf6ce193')).toBe('a269b218feb341ef03bc093a0f2c8078');
    expect(signOrderB([['api_key', k2], ['perm_network', 'read']], '', 'e9a599f0cf6ce193')).toBe('da183021cd39461108770b822fcd9398');
  });

  it('sorts names by UTF-8 bytes: upper case, then _, then lower case (V7)', () => {
    expect(canonicalString([['api_key', 'k'], ['a', '1'], ['B', '2'], ['_x', '3']])).toBe('B2_x3a1api_keyk');
  });

  it('compares names in UTF-8 byte order exactly as Buffer.compare of their encodings, lone surrogates included', () => {
    const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
    // Code units around the places where UTF-16 and UTF-8 orders part: ASCII, U+0080, U+07FF/0800,
    // the surrogates (paired or lone), U+E000–U+FFFF, and any other.
    const unit = fc.oneof(
      fc.constantFrom('a', 'B', '_', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ud800', '\udbff', '\udc00', '\udfff', '\ue000', '\uffff', '\ufffd', '😀', '\u{10ffff}'),
      fc.string({ unit: 'binary', maxLength: 2 }),
    );
    const text = fc.array(unit, { maxLength: 6 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, text, (a, b) => sign(compareUtf8(a, b)) === sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))),
      { numRuns: 5000 },
    );
    fc.assert(fc.property(text, (a) => compareUtf8(a, a) === 0));
    expect(compareUtf8('\uffff', '😀')).toBeLessThan(0); // UTF-16 order would say the opposite
  });

  const param = fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/), fc.string({ unit: 'grapheme', maxLength: 20 }));
  const uniqueParams = fc.uniqueArray(param, { selector: ([k]) => k, minLength: 1, maxLength: 8 });

  it('the order of parameters does not matter', () => {
    fc.assert(
      fc.property(uniqueParams, fc.string(), (params, method) => {
        const shuffled = [...params].reverse();
        return signOrderB(params, method, S) === signOrderB(shuffled, method, S) && signOrderA(params, method, S) === signOrderA(shuffled, method, S);
      }),
    );
  });

  it('any single changed character of any name, value or the secret gives an invalid signature', () => {
    fc.assert(
      fc.property(uniqueParams, fc.nat(), fc.nat(), fc.constantFrom('name', 'value', 'secret'), (params, which, pos, part) => {
        const sig = signOrderB(params, 'test.echo', S);
        const i = which % params.length;
        const changed = params.map(([k, v]) => [k, v] as [string, string]);
        let secret = S;
        const flip = (s: string) => {
          if (s.length === 0) return 'x';
          const p = pos % s.length;
          const c = s.charCodeAt(p);
          return s.slice(0, p) + String.fromCharCode(c === 0x7a ? 0x79 : c + 1) + s.slice(p + 1);
        };
        if (part === 'name') changed[i][0] = flip(changed[i][0]);
        else if (part === 'value') changed[i][1] = flip(changed[i][1]);
        else secret = flip(S);
        if (part === 'name' && changed.filter(([k]) => k === changed[i][0]).length > 1) return true; // a collision, not a change
        return !verifyMd5(sig, changed, 'test.echo', secret, true);
      }),
    );
  });

  it('refuses NUL, C0 controls, lone surrogates and undecodable bytes before any check', () => {
    for (const bad of ['a\u0000b', 'line\nbreak', 'tab\t', '\u001f', '\ud800', 'x\udc00', 'bad\ufffd']) expect(hasForbiddenCharacters(bad)).toBe(true);
    for (const ok of ['Grüße & co=1+2', '😀', 'plain', '']) expect(hasForbiddenCharacters(ok)).toBe(false);
    // Well-formed text (whole graphemes): refused exactly when it holds a control character or U+FFFD.
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => hasForbiddenCharacters(s) === /[\u0000-\u001f\ufffd]/.test(s)));
  });
});

describe('hmac-sha256 mode (A3)', () => {
  it('matches the worked example', () => {
    const params: [string, string][] = [['api_key', K], ['echo', 'Grüße & co=1+2'], ['ts', '1795450000'], ['nonce', 'n0nce-1']];
    expect(hmacMessage(params, 'test.echo')).toBe(
      'test.echo\napi_key=0123456789abcdef0123456789abcdef&echo=Gr%C3%BC%C3%9Fe%20%26%20co%3D1%2B2&nonce=n0nce-1&ts=1795450000',
    );
    expect(signHmac(params, 'test.echo', S)).toBe('8045a027caa521d46704682d8f1bbae13e2248b3b0fa7eb09025e806717b1fcf');
    expect(verifyHmac('8045A027CAA521D46704682D8F1BBAE13E2248B3B0FA7EB09025E806717B1FCF', params, 'test.echo', S)).toBe(true);
  });
});
