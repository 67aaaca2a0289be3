import fc from 'fast-check';
import { Applied, CommittedChange, MemberState, percentile, signatureOf, stateMismatches, verify } from './support/soak/verify';

/**
 * The soak's verdict (soak/verify.ts) must catch what it claims to: a lost delivery, one out of
 * order, a harmful repeat, an echo to the originator, a stale record; and must not count the
 * harmless repeats of an at-least-once delivery.
 */
const change = (seq: number, action: CommittedChange['action'], member: number, extra: Partial<CommittedChange> = {}): CommittedChange => ({
  sig: `${action}:${member}:${seq}`,
  action,
  member,
  seq,
  origin: 0,
  committedAt: 1000,
  ...extra,
});
const at = (c: CommittedChange, t = 1100, own = false): Applied => ({ sig: c.sig, at: t, ...(own ? { own } : {}) });

describe('soak verdict', () => {
  const reg = change(1, 'register', 7);
  const email = change(2, 'changeEmail', 7);
  const name = change(3, 'changeName', 7);

  it('counts nothing when every slave applied every due change once, in order', () => {
    const v = verify([reg, email, name], [[at(reg, 0, true), at(email, 0, true), at(name, 0, true)], [at(reg), at(email), at(name)], [at(reg), at(email), at(name)]]);
    expect(v).toMatchObject({ lost: 0, outOfOrder: 0, duplicated: 0, redelivered: 0, unexpected: 0, due: 6, delivered: 6 });
    expect(v.latencies).toEqual(Array(6).fill(100));
  });

  it('a due change a slave never applied is lost; its originator owes nothing', () => {
    const v = verify([reg, email], [[], [at(reg)]]);
    expect(v.lost).toBe(1);
    expect(v.due).toBe(2);
    expect(v.examples[0]).toContain('never applied changeEmail');
  });

  it('an older change first applied after a newer one of the same member is out of order', () => {
    const v = verify([reg, email, name], [[], [at(reg), at(name), at(email)]]);
    expect(v.outOfOrder).toBe(1);
    expect(v.lost).toBe(0);
  });

  it("a merge must come after the removed member's earlier changes", () => {
    const other = change(4, 'register', 8);
    const otherEmail = change(5, 'changeEmail', 8);
    const merge = change(6, 'merge', 7, { remove: 8 });
    const v = verify([reg, other, otherEmail, merge], [[], [at(reg), at(other), at(merge), at(otherEmail)]]);
    expect(v.outOfOrder).toBe(1);
  });

  it('a repeat before anything newer is harmless; a repeat after a newer change is duplicated', () => {
    const harmless = verify([reg, email, name], [[], [at(reg), at(email), at(email), at(name)]]);
    expect(harmless).toMatchObject({ duplicated: 0, redelivered: 1 });
    const harmful = verify([reg, email, name], [[], [at(reg), at(email), at(name), at(email)]]);
    expect(harmful).toMatchObject({ duplicated: 1, redelivered: 0, outOfOrder: 0 });
  });

  it("a change echoed to its originator, or an older one after the slave's own newer change, is caught", () => {
    const fromOne = change(4, 'changeName', 7, { origin: 1 });
    const echo = verify([reg, fromOne], [[], [at(reg), at(fromOne, 0, true), at(fromOne)]]);
    expect(echo.duplicated).toBe(1);
    const stale = verify([reg, email, fromOne], [[], [at(reg), at(fromOne, 0, true), at(email)]]);
    expect(stale.outOfOrder).toBe(1);
  });

  it('the master making two deliveries of one change for one slave counts as duplicated', () => {
    expect(verify([reg], [[], [at(reg)]], { masterDuplicates: 2 }).duplicated).toBe(2);
  });

  it('something applied that the master never committed is unexpected', () => {
    expect(verify([reg], [[], [at(reg), { sig: 'changeEmail:7:x@example.test', at: 1 }]]).unexpected).toBe(1);
  });

  it('property: any in-order log with repeats only of the newest change has no anomaly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { maxLength: 30 }), (members, repeats) => {
        const changes = members.map((m, i) => change(i + 1, i === 0 ? 'register' : 'changeName', m));
        const log: Applied[] = [];
        changes.forEach((c, i) => {
          log.push(at(c));
          if (repeats[i]) log.push(at(c));
        });
        const v = verify(changes, [[], log]);
        return v.lost === 0 && v.outOfOrder === 0 && v.duplicated === 0 && v.redelivered === repeats.slice(0, changes.length).filter(Boolean).length;
      }),
    );
  });

  it('property: swapping two changes of one member in a log is always caught', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.nat(), fc.nat(), (n, a, b) => {
        const changes = Array.from({ length: n }, (_, i) => change(i + 1, 'changeName', 7));
        const i = a % n;
        const j = b % n;
        fc.pre(i !== j);
        const order = changes.map((c) => at(c));
        [order[i], order[j]] = [order[j], order[i]];
        return verify(changes, [[], order]).outOfOrder >= 1;
      }),
    );
  });

  it('signatures tell apart every change the soak makes', () => {
    expect(signatureOf('changeEmail', { id: '7', email: 'a@x' })).not.toBe(signatureOf('changeEmail', { id: '7', email: 'b@x' }));
    expect(signatureOf('ban', { id: '7', status: '1' })).not.toBe(signatureOf('ban', { id: '7', status: '0' }));
    expect(signatureOf('merge', { id: '7', remove: '8' })).not.toBe(signatureOf('merge', { id: '8', remove: '7' }));
    expect(signatureOf('changePassword', { id: '7', pass_salt: 'a', pass_hash: 'h' })).toBe('changePassword:7:a');
  });

  it('a slave record differing from the master in any field, or a member the master no longer has, is a mismatch', () => {
    const alice: MemberState = { name: 'Alice', email: 'a@x', passHash: 'h', passSalt: 's', banned: false };
    const master = new Map([[1, alice]]);
    expect(stateMismatches(master, [new Map([[1, { ...alice }]])])).toBe(0);
    for (const field of ['name', 'email', 'passHash', 'passSalt'] as const) {
      expect(stateMismatches(master, [new Map([[1, { ...alice, [field]: 'other' }]])])).toBe(1);
    }
    expect(stateMismatches(master, [new Map([[1, { ...alice, banned: true }]])])).toBe(1);
    expect(stateMismatches(master, [new Map()])).toBe(1);
    expect(stateMismatches(master, [new Map([[1, alice], [2, alice]])])).toBe(1);
  });

  it('percentiles by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 95), percentile(xs, 99), percentile(xs, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([], 50)).toBeNaN();
  });
});
