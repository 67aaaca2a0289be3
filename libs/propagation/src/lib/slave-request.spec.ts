import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { prepareChange, preparedRequestUrl, slaveRequestUrl } from './slave-request';

const SB = 'http://127.0.0.1:8082/ipsconnect.php';
const SKB = '00112233445566778899aabbccddeeff';

describe('the request a slave receives (spec §8.6–§8.9)', () => {
  it('register: raw SK, parameters in order, slaveCall last, IPS encoding', () => {
    expect(
      slaveRequestUrl(SB, SKB, 'register', [
        ['name', 'Bob'],
        ['email', 'bob@example.test'],
        ['pass_hash', '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.'],
        ['pass_salt', '0123456789abcdefghijkl'],
        ['id', '43'],
        ['revalidateUrl', ''],
      ]),
    ).toBe(
      `${SB}?do=register&key=${SKB}&name=Bob&email=bob@example.test&pass_hash=$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.&pass_salt=0123456789abcdefghijkl&id=43&revalidateUrl=&slaveCall=1`,
    );
  });

  it('id actions: md5(SK . id)', () => {
    expect(slaveRequestUrl(SB, SKB, 'changeEmail', [['id', '42'], ['email', 'alice2@example.test']])).toBe(
      `${SB}?do=changeEmail&key=804ea0715078b461eaf64b3400273a83&id=42&email=alice2@example.test&slaveCall=1`,
    );
    expect(slaveRequestUrl(SB, SKB, 'validate', [['id', '43']])).toBe(`${SB}?do=validate&key=c54c08bb096dafe8314ca5d70c9bafbc&id=43&slaveCall=1`);
  });

  it('keeps a query string already on the slave URL and encodes + and spaces', () => {
    expect(slaveRequestUrl('http://h/index.php?app=connect', 'k', 'changeName', [['id', '1'], ['name', 'a+b c&d']])).toBe(
      `http://h/index.php?app=connect&do=changeName&key=${require('node:crypto').createHash('md5').update('k1').digest('hex')}&id=1&name=a%2Bb%20c%26d&slaveCall=1`,
    );
  });

  it('a change prepared once gives every slave exactly its parameters back (PHP-style decoding), whatever the values', () => {
    const name = fc.constantFrom('id', 'name', 'email', 'pass_hash', 'pass_salt', 'revalidateUrl');
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string({ unit: 'grapheme' })), { maxLength: 6 }), fc.array(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 3 }), (params, keys) => {
        const change = prepareChange('changeName', params);
        for (const key of keys) {
          const url = preparedRequestUrl(SB, key, change);
          const pairs = url
            .slice(SB.length + 1)
            .split('&')
            .map((pair) => {
              const eq = pair.indexOf('=');
              return [decodeURIComponent(pair.slice(0, eq)), decodeURIComponent(pair.slice(eq + 1))];
            });
          expect(pairs[0]).toEqual(['do', 'changeName']);
          expect(pairs.slice(2, -1)).toEqual(params);
          expect(pairs.at(-1)).toEqual(['slaveCall', '1']);
          // The key is md5(SK . id) for an action on a member (the member id the change carries).
          const id = params.find(([n]) => n === 'id')?.[1];
          expect(pairs[1]).toEqual(['key', id === undefined ? key : createHash('md5').update(key + id, 'utf8').digest('hex')]);
        }
      }),
    );
  });
});
