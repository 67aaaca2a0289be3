import fc from 'fast-check';
import { MAX_MEMBER_ID, isHttpUrl, parseBoundedInt, parseMemberId, usableEmail, usableName } from './rules';

describe('input rules', () => {
  it('member ids: exactly the canonical decimal spelling of 1..2147483647', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_MEMBER_ID }), (n) => parseMemberId(String(n)) === n),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        const id = parseMemberId(s);
        return id === null || String(id) === s;
      }),
    );
    for (const bad of ['0', '-1', '01', '1e3', ' 1', '1 ', '2147483648', '9999999999', '', '1.0', '0x10']) expect(parseMemberId(bad)).toBeNull();
  });

  it('names: no control characters, at most 255 characters', () => {
    expect(usableName('Alice')).toBe('Alice');
    expect(usableName('a\u0000b')).toBeUndefined();
    expect(usableName('a\nb')).toBeUndefined();
    expect(usableName('x'.repeat(256))).toBeUndefined();
    expect(usableName('')).toBeUndefined();
  });

  it('e-mail addresses: something@something without white space, at most 150 characters', () => {
    expect(usableEmail('a@b')).toBe('a@b');
    for (const bad of ['ab', 'a @b', 'a@b c', '@b', 'a@', `${'x'.repeat(146)}@b.cd`]) expect(usableEmail(bad)).toBeUndefined();
  });

  it('URLs: absolute http(s), printable ASCII only, at most 2048 characters', () => {
    expect(isHttpUrl('https://forum.example/')).toBe(true);
    for (const bad of ['javascript:alert(1)', 'ftp://x/', 'https://a/\r\nSet-Cookie:x', 'https://a/ b', '//a/', `https://a/${'x'.repeat(2048)}`]) {
      expect(isHttpUrl(bad)).toBe(false);
    }
    fc.assert(fc.property(fc.string(), (s) => !isHttpUrl(s) || /^https?:\/\//i.test(s)));
  });

  it('bounded integers: digits only, within the bounds', () => {
    expect(parseBoundedInt('10', 1, 100)).toBe(10);
    for (const bad of ['0', '101', '-1', '1e2', '+5', '05', '', ' 5']) expect(parseBoundedInt(bad, 1, 100)).toBeNull();
  });
});
