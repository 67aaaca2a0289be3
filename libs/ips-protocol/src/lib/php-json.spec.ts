import fc from 'fast-check';
import { phpJsonEncode } from './php-json';

describe('phpJsonEncode', () => {
  it('matches PHP json_encode on the spec vectors', () => {
    expect(phpJsonEncode({ status: 'SUCCESS' })).toBe('{"status":"SUCCESS"}');
    expect(
      phpJsonEncode({
        status: 'SUCCESS',
        connect_status: 'VALIDATING',
        email: 'bob@example.test',
        name: 'Bob',
        connect_id: 43,
        connect_revalidate_url: 'http://127.0.0.1:8081/',
      }),
    ).toBe(
      '{"status":"SUCCESS","connect_status":"VALIDATING","email":"bob@example.test","name":"Bob","connect_id":43,"connect_revalidate_url":"http:\\/\\/127.0.0.1:8081\\/"}',
    );
    expect(phpJsonEncode({ name: 'Jürgen ✓ 😀', v: null })).toBe('{"name":"J\\u00fcrgen \\u2713 \\ud83d\\ude00","v":null}');
  });

  it('always decodes back to the same value and emits only ASCII', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string({ unit: 'grapheme' }), fc.integer(), fc.constant(null))), (obj) => {
        const out = phpJsonEncode(obj);
        expect(/^[\x00-\x7f]*$/.test(out)).toBe(true);
        expect(out.replace(/\\\//g, '')).not.toContain('/');
        expect(JSON.parse(out)).toEqual(obj);
      }),
    );
  });
});
