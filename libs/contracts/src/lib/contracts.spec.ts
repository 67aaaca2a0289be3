import fc from 'fast-check';
import { ContractViolation, checkAgainst, checkMessage, pathOf } from './contract';
import { INTERNAL_CONTRACTS } from './all';
import { domainEvent } from './events';
import { chainPlanContract, ipsActionContract } from './ips';
import { keyringContract } from './keyring';
import { apiExecuteContract, apiResult } from './app-api';
import { IPS_ACTIONS, IPS_PARAM_NAMES, EVENT_TYPES } from './vocabulary';

const noNul = fc.string({ maxLength: 40 }).filter((s) => !s.includes('\u0000'));
const ipsParams = fc.dictionary(fc.constantFrom(...IPS_PARAM_NAMES), fc.option(noNul, { nil: null }), { maxKeys: 8 });

describe('contracts: the messages between our services', () => {
  it('every contract has a unique name and route, and a path that pathOf fills with encoded values', () => {
    expect(new Set(INTERNAL_CONTRACTS.map((c) => c.name)).size).toBe(INTERNAL_CONTRACTS.length);
    expect(new Set(INTERNAL_CONTRACTS.map((c) => `${c.method} ${c.path}`)).size).toBe(INTERNAL_CONTRACTS.length);
    for (const c of INTERNAL_CONTRACTS) expect(c.path.startsWith('/internal/')).toBe(true);
    const unlock = INTERNAL_CONTRACTS.find((c) => c.name === 'auth.admin.unlockMember')!;
    expect(pathOf(unlock, { id: '1/../x?y' })).toBe('/internal/admin/members/1%2F..%2Fx%3Fy/unlock');
    expect(() => pathOf(unlock)).toThrow(/no value for :id/);
  });

  it('an IPS action request with the parameter names actions read and NUL-free values is accepted as it is', () => {
    fc.assert(
      fc.property(fc.constantFrom(...IPS_ACTIONS), ipsParams, fc.option(fc.ipV4(), { nil: null }), (action, params, remoteAddress) => {
        const msg = { action, params, remoteAddress, requestId: null };
        expect(checkMessage(ipsActionContract, 'request', msg)).toEqual(msg);
      }),
    );
  });

  it('a NUL anywhere in a value, an unknown parameter name or action, or a missing field is refused, naming the field', () => {
    fc.assert(
      fc.property(ipsParams, fc.constantFrom(...IPS_PARAM_NAMES), noNul, noNul, (params, name, before, after) => {
        const bad = { action: 'login', params: { ...params, [name]: `${before}\u0000${after}` }, remoteAddress: null, requestId: null };
        expect(() => checkMessage(ipsActionContract, 'request', bad)).toThrow(ContractViolation);
        try {
          checkMessage(ipsActionContract, 'request', bad);
        } catch (err) {
          expect((err as ContractViolation).issues.join('\n')).toContain(`params.${name}`);
        }
      }),
    );
    expect(() => checkMessage(ipsActionContract, 'request', { action: 'login', params: { bogus: 'x' }, remoteAddress: null, requestId: null })).toThrow(/IPS_PARAM_NAMES/);
    expect(() => checkMessage(ipsActionContract, 'request', { action: 'format', params: {}, remoteAddress: null, requestId: null })).toThrow(/action/);
    expect(() => checkMessage(ipsActionContract, 'request', { action: 'login', params: {} })).toThrow(/remoteAddress/);
  });

  it('hostile values never make a check throw anything but ContractViolation, and its issues never echo a value', () => {
    const marker = 'SECRET-MARKER-7f3a';
    const hostile = fc.oneof(
      fc.anything(),
      fc.anything().map((v) => ({ value: v, key: marker })),
      fc.constant({ version: 1, global: marker, slaves: [{ id: 'x', url: marker }], passPepper: marker }),
      fc.constant({ method: marker, apiKey: marker, grantId: null, memberId: null, params: [[marker, marker]] }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...INTERNAL_CONTRACTS), fc.constantFrom<'request' | 'response'>('request', 'response'), hostile, (c, side, value) => {
        try {
          checkMessage(c, side, value);
        } catch (err) {
          expect(err).toBeInstanceOf(ContractViolation);
          expect((err as Error).message).not.toContain(marker);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a keyring snapshot survives JSON as it is; a non-hex pepper or a slave without an id does not pass', () => {
    const slave = fc.record({
      id: fc.integer({ min: 1, max: 2147483647 }),
      url: fc.webUrl(),
      enabled: fc.boolean(),
      masterKey: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: null }),
      slaveKey: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.nat(), fc.option(fc.string({ maxLength: 40 }), { nil: null }), fc.array(slave, { maxLength: 5 }), fc.stringMatching(/^[0-9a-f]{64}$/), (version, global, slaves, passPepper) => {
        const snap = { version, global, slaves, passPepper };
        expect(checkMessage(keyringContract, 'response', JSON.parse(JSON.stringify(snap)))).toEqual(snap);
      }),
    );
    expect(() => checkMessage(keyringContract, 'response', { version: 1, global: null, slaves: [], passPepper: 'not hex' })).toThrow(/passPepper/);
    expect(() => checkMessage(keyringContract, 'response', { version: 1, global: null, slaves: [{ url: 'http://x' }], passPepper: 'ab' })).toThrow(/slaves\.0\.id/);
  });

  it('an execution names a method auth executes; an API result is a tree of elements or an error', () => {
    const ok = { method: 'auth.getFrob', apiKey: 'a'.repeat(32), grantId: null, memberId: null, params: [['api_key', 'a'.repeat(32)]] };
    expect(checkMessage(apiExecuteContract, 'request', ok)).toEqual(ok);
    expect(() => checkMessage(apiExecuteContract, 'request', { ...ok, method: 'account.get' })).toThrow(/method/);
    expect(() => checkMessage(apiExecuteContract, 'request', { ...ok, grantId: 0 })).toThrow(/grantId/);
    const tree = { ok: true, payload: [{ tag: 'auth', attrs: {}, children: [{ tag: 'frob', attrs: {}, text: 'f' }, { tag: 'user', attrs: { user_id: 1, is_pro: '0' } }] }] };
    expect(checkAgainst(apiResult, 'r', 'response', tree)).toEqual(tree);
    expect(() => checkAgainst(apiResult, 'r', 'response', { ok: true, payload: [{ tag: 'x', children: [{ attrs: {} }] }] })).toThrow(/payload\.0\.children\.0\.tag/);
    expect(checkAgainst(apiResult, 'r', 'response', { ok: false, code: 112, message: 'slow down', retryAfter: 60 })).toEqual({ ok: false, code: 112, message: 'slow down', retryAfter: 60 });
  });

  it('a chain plan is an outcome with hops of url and ordered parameters', () => {
    const plan = { outcome: 'chain', login: true, memberId: 3, sessionEpoch: 0, returnTo: 'http://127.0.0.1/x', hops: [{ url: 'http://127.0.0.1/s.php', params: [['do', 'crossLogin']] }], reason: 'r' };
    expect(checkMessage(chainPlanContract, 'response', plan)).toEqual(plan);
    expect(() => checkMessage(chainPlanContract, 'response', { ...plan, outcome: 'maybe' })).toThrow(/outcome/);
  });

  it('a domain event has a UUID, a known type, an instant and ids that are row ids or null', () => {
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), fc.constantFrom(...EVENT_TYPES), fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }), fc.option(fc.integer({ min: 1, max: 2147483647 }), { nil: null }), (id, type, at, memberId) => {
        const event = { id, type, occurredAt: at.toISOString(), source: 'auth', slaveId: null, memberId, data: { caller: '127.0.0.1' } };
        expect(checkAgainst(domainEvent, 'e', 'message', event)).toEqual(event);
      }),
    );
    const good = { id: '7d444840-9dc0-41d1-a6e2-3a5b8e6e3f3a', type: 'user_created', occurredAt: new Date().toISOString(), source: 'auth', slaveId: null, memberId: 1, data: {} };
    expect(() => checkAgainst(domainEvent, 'e', 'message', { ...good, id: 'nope' })).toThrow(/id/);
    expect(() => checkAgainst(domainEvent, 'e', 'message', { ...good, type: 'user_exploded' })).toThrow(/type/);
    expect(() => checkAgainst(domainEvent, 'e', 'message', { ...good, occurredAt: 'never' })).toThrow(/occurredAt/);
    expect(() => checkAgainst(domainEvent, 'e', 'message', { ...good, memberId: 0 })).toThrow(/memberId/);
    expect(() => checkAgainst(domainEvent, 'e', 'message', { ...good, propagate: { action: 'login', params: [], sealed: [] } })).toThrow(/propagate\.action/);
  });
});
