import fc from 'fast-check';
import { OutboundPolicy } from '@switchboard/outbound';
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

describe('callSlave over HTTP', () => {
  const http = require('node:http') as typeof import('node:http');
  const { callSlave, SlaveHttp } = require('./slave-http') as typeof import('./slave-http');
  // The slaves here are loopback listeners: the address rule is lifted (SLAVE_URL_ALLOW_PRIVATE=true).
  const open = new SlaveHttp(new OutboundPolicy({ allowPrivate: true }));
  let server: import('node:http').Server;
  let base = '';
  const seen: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url?.startsWith('/hop/')) {
        const left = Number(req.url.split('/')[2].split('?')[0]);
        res.writeHead(302, { location: left > 0 ? `/hop/${left - 1}?from=${left}` : '/ok?arrived=1' });
        res.end();
        return;
      }
      if (req.url?.startsWith('/trickle')) {
        // One byte every 300 ms, forever: an idle timeout would never fire.
        res.writeHead(200);
        const t = setInterval(() => res.write(' '), 300);
        res.on('close', () => clearInterval(t));
        return;
      }
      if (req.url?.startsWith('/badredirect')) {
        res.writeHead(302, { location: 'http://[::1' });
        res.end();
        return;
      }
      res.end('{"status":"SUCCESS"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    await open.onApplicationShutdown();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }, 120_000);

  it('gives up on a slave that trickles its answer, at the deadline of the whole exchange', async () => {
    const started = Date.now();
    const answer = await callSlave(`${base}/trickle`, 1000, open);
    expect(answer.outcome).toBe('retry');
    expect(Date.now() - started).toBeLessThan(3000);
  }, 60_000);

  it('treats a malformed redirect as a retryable failure, never an exception', async () => {
    await expect(callSlave(`${base}/badredirect`, 1000, open)).resolves.toMatchObject({ outcome: 'retry', error: 'redirected to a malformed URL' });
    await expect(callSlave('not a url', 1000, open)).resolves.toMatchObject({ outcome: 'retry' });
    await expect(callSlave(`${base}/ok`, 1000, open)).resolves.toMatchObject({ outcome: 'delivered' });
  }, 60_000);

  it("sends the slave URL's path and the query exactly as built (IPS's encoding, ' and $ / @ : literal)", async () => {
    const { slaveTarget, withQuery } = require('./slave-http') as typeof import('./slave-http');
    const { prepareChange, preparedQuery } = require('./slave-request') as typeof import('./slave-request');
    const query = preparedQuery('k', prepareChange('changeEmail', [['id', '3'], ['email', "o'brien+x@example.test"], ['url', 'http://a.test/x?y=1']]));
    expect(query).toBe(`do=changeEmail&key=${require('node:crypto').createHash('md5').update('k3').digest('hex')}&id=3&email=o'brien%2Bx@example.test&url=http://a.test/x?y=1&slaveCall=1`);
    for (const [slaveUrl, path] of [
      [`${base}/a/../ipsconnect.php#ignored`, '/ipsconnect.php?'],
      [`${base}/ipsconnect.php?`, '/ipsconnect.php?'],
      [`${base}/index.php?app=connect`, '/index.php?app=connect&'],
      [`${base}/index.php?app=connect&`, '/index.php?app=connect&'],
      [base, '/?'],
    ]) {
      seen.length = 0;
      const target = slaveTarget(slaveUrl);
      expect(target).not.toBeNull();
      await expect(callSlave(withQuery(target!, query), 1000, open)).resolves.toMatchObject({ outcome: 'delivered' });
      expect(seen).toEqual([path + query]);
    }
    expect(slaveTarget('not a url')).toBeNull();
    await expect(callSlave(null, 1000, open)).resolves.toMatchObject({ outcome: 'retry', error: 'the slave URL is malformed' });
  }, 60_000);

  it('follows up to 5 redirects, relative ones included, and no more', async () => {
    seen.length = 0;
    await expect(callSlave(`${base}/hop/4?q=1`, 2000, open)).resolves.toMatchObject({ outcome: 'delivered' });
    expect(seen).toEqual(['/hop/4?q=1', '/hop/3?from=4', '/hop/2?from=3', '/hop/1?from=2', '/hop/0?from=1', '/ok?arrived=1']);
    await expect(callSlave(`${base}/hop/5`, 2000, open)).resolves.toMatchObject({ outcome: 'retry', error: 'more than 5 redirects' });
  }, 60_000);
});
