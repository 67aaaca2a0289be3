import fc from 'fast-check';
import { ARRAY_PARAM, parseForm, parseRequestParams, phpEqualsOne, stringParam } from './params';

describe('PHP-style parameter parsing', () => {
  it('decodes what an IPS slave sends (literal $ / @ :, %2B for +, + for space)', () => {
    const p = parseForm(
      'do=login&id=alice@example.test&password=$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe&x=a%2Bb+c&u=http://h/p?q',
    );
    expect(p.get('password')).toBe('$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe');
    expect(p.get('id')).toBe('alice@example.test');
    expect(p.get('x')).toBe('a+b c');
    expect(p.get('u')).toBe('http://h/p?q');
  });

  it('keeps the last occurrence of a repeated name (unlike URLSearchParams.get)', () => {
    expect(parseForm('a=1&a=2&a=3').get('a')).toBe('3');
  });

  it('lets POST override GET', () => {
    const p = parseRequestParams('do=fetchSalt&id=a', 'id=b');
    expect(p.get('do')).toBe('fetchSalt');
    expect(p.get('id')).toBe('b');
  });

  it('treats name[] as an array, which counts as missing', () => {
    const p = parseForm('email[]=a@b&name[x]=y');
    expect(p.get('email')).toBe(ARRAY_PARAM);
    expect(stringParam(p, 'email')).toBeUndefined();
    expect(stringParam(p, 'name')).toBeUndefined();
  });

  it('mangles names as PHP does (leading spaces, dots and spaces, unclosed brackets)', () => {
    const p = parseForm('+key=a&pass.hash=b&url[=c&url=d&a+b=e');
    expect(p.get('key')).toBe('a');
    expect(p.get('pass_hash')).toBe('b');
    expect(p.get('url_')).toBe('c');
    expect(p.get('url')).toBe('d');
    expect(p.get('a_b')).toBe('e');
  });

  it('strips NUL bytes and U+202E from names and values', () => {
    const p = parseForm('id=4%002&n%00ame=x%E2%80%AEy');
    expect(p.get('id')).toBe('42');
    expect(p.get('name')).toBe('xy');
  });

  it('treats a value that is not well-formed UTF-8 as unusable (missing)', () => {
    const p = parseForm('name=%FF%FE&email=a%C3@b&ok=%C3%A9');
    expect(stringParam(p, 'name')).toBeUndefined();
    expect(stringParam(p, 'email')).toBeUndefined();
    expect(p.get('ok')).toBe('é');
  });

  it('decodes UTF-8 and leaves invalid escapes as PHP does', () => {
    expect(parseForm('e=j%C3%BCrgen%40example.test').get('e')).toBe('jürgen@example.test');
    expect(parseForm('e=100%zz').get('e')).toBe('100%zz');
  });

  it('round-trips any value encoded with encodeURIComponent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[a-zA-Z_]{1,10}$/), (value, name) => {
        const p = parseForm(`${name}=${encodeURIComponent(value)}`);
        return p.get(name) === value.replace(/[\u0000\u202e]/g, '');
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (q, b) => void parseRequestParams(q, b)));
  });

  it('phpEqualsOne follows PHP 8 loose comparison with 1', () => {
    for (const yes of ['1', '01', '1.0', ' 1', '1 ', '1e0', '+1']) expect(phpEqualsOne(yes)).toBe(true);
    for (const no of ['', '0', '2', '1abc', 'true', 'yes', '11']) expect(phpEqualsOne(no)).toBe(false);
    expect(phpEqualsOne(undefined)).toBe(false);
    expect(phpEqualsOne(ARRAY_PARAM)).toBe(false);
  });
});
