import fc from 'fast-check';
import { classify, ipsStatusOf } from './slave-http';

describe('classifying a slave answer (spec D15, §8.10)', () => {
  it('delivered only on HTTP 200 with status SUCCESS', () => {
    expect(classify(200, '{"status":"SUCCESS","connect_id":7}').outcome).toBe('delivered');
    expect(classify(200, '\uFEFF {"status":"SUCCESS"}\n').outcome).toBe('delivered');
    expect(classify(201, '{"status":"SUCCESS"}').outcome).toBe('retry');
    expect(classify(500, '{"status":"SUCCESS"}').outcome).toBe('retry');
  });

  it('DISABLED or HTTP 410 disable the slave', () => {
    expect(classify(200, '{"status":"DISABLED"}').outcome).toBe('disabled');
    expect(classify(410, 'Gone').outcome).toBe('disabled');
  });

  it('BAD_KEY, a PHP error page, garbage or an empty answer are retried', () => {
    for (const [code, body] of [
      [200, '{"status":"BAD_KEY"}'],
      [500, '<html>Fatal error</html>'],
      [200, 'garbage'],
      [200, ''],
      [200, 'null'],
      [200, '[]'],
      [200, '{"status":1}'],
    ] as [number, string][]) {
      expect(classify(code, body).outcome).toBe('retry');
    }
  });

  it('never throws, whatever the body', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 599 }), fc.string(), (code, body) => void classify(code, body)));
    expect(ipsStatusOf('{"status":"SUCCESS"')).toBeNull();
  });
});
