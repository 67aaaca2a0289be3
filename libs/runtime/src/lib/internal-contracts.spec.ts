import { BadRequestException } from '@nestjs/common';
import Fastify, { FastifyInstance } from 'fastify';
import { ContractViolation, disableSlaveContract, keyringContract } from '@switchboard/contracts';
import { InternalClient, answer, receive } from './internal-contracts';

class Unavailable extends Error {}

/** A stub of the answering service on 127.0.0.1 that answers what each test sets, and counts requests. */
describe('internal contracts: both sides check every message', () => {
  let server: FastifyInstance;
  let next: { status: number; body: unknown } = { status: 200, body: {} };
  const seen: { url: string; body: unknown; token: unknown }[] = [];
  let client: InternalClient;

  beforeAll(async () => {
    server = Fastify();
    server.all('/*', async (req, reply) => {
      seen.push({ url: req.url, body: req.body, token: req.headers['x-internal-token'] });
      reply.status(next.status);
      return next.body;
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address() as { port: number };
    client = new InternalClient({ baseUrl: `http://127.0.0.1:${port}`, internalToken: 'tok', timeoutMs: 10_000, unavailable: (m) => new Unavailable(m) });
  }, 30_000);
  afterAll(async () => {
    await server.close();
  }, 30_000);
  beforeEach(() => {
    seen.length = 0;
  });

  it('sends a message that holds, with the internal token, and returns the checked answer', async () => {
    next = { status: 200, body: { disabled: true } };
    const r = await client.call(disableSlaveContract, { params: { id: 7 }, body: { reason: 'gone' } });
    expect(r).toEqual({ status: 200, body: { disabled: true } });
    expect(seen).toEqual([{ url: '/internal/slaves/7/disable', body: { reason: 'gone' }, token: 'tok' }]);
  }, 30_000);

  it('refuses to send a message that breaks its contract: nothing reaches the service', async () => {
    await expect(client.call(disableSlaveContract, { params: { id: 7 }, body: { reason: 'two\nlines' } })).rejects.toBeInstanceOf(ContractViolation);
    await expect(client.call(disableSlaveContract, { params: { id: 7 }, body: { reason: 'x', extra: 1 } })).rejects.toBeInstanceOf(ContractViolation);
    expect(seen).toHaveLength(0);
  }, 30_000);

  it('a 2xx answer that breaks the contract counts as the service failing (fail closed), without echoing it', async () => {
    next = { status: 200, body: { version: 3, global: 'THE-MASTER-KEY', slaves: 'all of them', passPepper: 'ab' } };
    const err = await client.call(keyringContract).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    expect((err as Error).message).toMatch(/auth\.keyring response breaks its contract: slaves/);
    expect((err as Error).message).not.toContain('THE-MASTER-KEY');
  }, 30_000);

  it('4xx answers come back as they are (the caller relays or maps them); 5xx is unavailable', async () => {
    next = { status: 404, body: { statusCode: 404, message: 'no such slave' } };
    expect(await client.call(disableSlaveContract, { params: { id: 9 }, body: { reason: 'x' } })).toEqual({ status: 404, body: { statusCode: 404, message: 'no such slave' } });
    next = { status: 503, body: { statusCode: 503 } };
    await expect(client.call(disableSlaveContract, { params: { id: 9 }, body: { reason: 'x' } })).rejects.toBeInstanceOf(Unavailable);
  }, 30_000);

  it('an unreachable service is unavailable', async () => {
    const dead = new InternalClient({ baseUrl: 'http://127.0.0.1:1', internalToken: 't', timeoutMs: 5_000, unavailable: (m) => new Unavailable(m) });
    await expect(dead.call(keyringContract)).rejects.toBeInstanceOf(Unavailable);
  }, 30_000);

  it('the answering side: a received message that breaks its contract is 400 naming the fields; an answer that breaks it is a bug (thrown)', () => {
    expect(receive(disableSlaveContract, { reason: 'ok' })).toEqual({ reason: 'ok' });
    let caught: unknown;
    try {
      receive(disableSlaveContract, { reason: 5, why: 'x' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BadRequestException);
    expect(((caught as BadRequestException).getResponse() as { message: string[] }).message.join('\n')).toMatch(/reason/);
    expect(() => answer(disableSlaveContract, { disabled: 'yes' } as never)).toThrow(ContractViolation);
  });
});
