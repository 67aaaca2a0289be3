import fc from 'fast-check';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { LockoutPolicy, LockoutState, afterFailure, effectiveLockout, isLocked } from '@switchboard/credentials';
import { dataSourceOptions } from '@switchboard/db';
import { LoginService, readLockouts } from '@switchboard/identity';
import { TestDatabase, createTestDatabase } from '@switchboard/testing';

/**
 * The gateway counts a wrong password with one statement, `switchboard_login_failure` (a plpgsql
 * function of migration 1795800000000). It must follow exactly the rules of `afterFailure` and
 * `isLocked` (libs/credentials, spec D12), the record voided by a later reset mark included:
 * compared here over generated states, policies and clocks.
 */
describe('switchboard_login_failure follows the lockout rules of libs/credentials', () => {
  let db: TestDatabase;
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query(
      `INSERT INTO members (id, name, name_key, email, email_key, pass_salt, pass_digest) VALUES (1, 'p', 'p', 'p@x', 'p@x', 's', 'd')`,
    );
  }, 120_000);

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  }, 120_000);

  const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
  const at = (offsetS: number | null) => (offsetS === null ? null : new Date(T0 + offsetS * 1000));

  it('gives the state afterFailure gives, and refuses to count while locked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          failedLogins: fc.integer({ min: 0, max: 12 }),
          firstFailedAt: fc.option(fc.integer({ min: -3600, max: 0 }), { nil: null }),
          lockedUntil: fc.option(fc.integer({ min: -3600, max: 3600 }), { nil: null }),
          lockCount: fc.integer({ min: 0, max: 40 }),
        }),
        fc.boolean(),
        fc.option(fc.integer({ min: -1, max: 1 }), { nil: null }),
        fc.record({
          threshold: fc.integer({ min: 1, max: 10 }),
          windowMs: fc.integer({ min: 1000, max: 3_600_000 }),
          baseMs: fc.integer({ min: 1, max: 600_000 }),
          maxMs: fc.integer({ min: 1, max: 86_400_000 }),
        }),
        async (stored, hasRecord, resetVsRecord, policy: LockoutPolicy) => {
          const state: LockoutState = { failedLogins: stored.failedLogins, firstFailedAt: at(stored.firstFailedAt), lockedUntil: at(stored.lockedUntil), lockCount: stored.lockCount };
          const now = new Date(T0);
          await pg.query('DELETE FROM login_lockouts');
          // The record is written 10 s before now; the reset mark before it, at it, or after it.
          const recordAt = new Date(T0 - 10_000);
          const resetAt = resetVsRecord === null ? null : new Date(recordAt.getTime() + resetVsRecord * 1000);
          await pg.query('UPDATE members SET lockout_reset_at = $1 WHERE id = 1', [resetAt]);
          if (hasRecord) {
            await pg.query(
              `INSERT INTO login_lockouts (member_id, failed_logins, first_failed_at, locked_until, lock_count, updated_at) VALUES (1, $1, $2, $3, $4, $5)`,
              [state.failedLogins, state.firstFailedAt, state.lockedUntil, state.lockCount, recordAt],
            );
          }
          const effective = effectiveLockout(hasRecord ? { ...state, updatedAt: recordAt } : null, resetAt);
          const { rows } = await pg.query<{ outcome: string; locked_until: Date | null; locked_now: boolean }>(
            'SELECT * FROM switchboard_login_failure(1, $1, $2, $3, $4, $5)',
            [now, policy.threshold, policy.windowMs, policy.baseMs, policy.maxMs],
          );
          if (isLocked(effective, now)) {
            expect(rows[0].outcome).toBe('locked');
            expect(rows[0].locked_until?.getTime()).toBe(effective.lockedUntil!.getTime());
            return;
          }
          const { lockedNow, ...expected } = afterFailure(effective, policy, now);
          expect([rows[0].outcome, rows[0].locked_now]).toEqual(['counted', lockedNow]);
          const after = (await pg.query('SELECT failed_logins, first_failed_at, locked_until, lock_count FROM login_lockouts WHERE member_id = 1')).rows[0];
          expect({
            failedLogins: after.failed_logins,
            firstFailedAt: after.first_failed_at?.getTime() ?? null,
            lockedUntil: after.locked_until?.getTime() ?? null,
            lockCount: after.lock_count,
          }).toEqual({
            failedLogins: expected.failedLogins,
            firstFailedAt: expected.firstFailedAt?.getTime() ?? null,
            lockedUntil: expected.lockedUntil?.getTime() ?? null,
            lockCount: expected.lockCount,
          });
        },
      ),
      { numRuns: 300, seed: 20261206 },
    );
  }, 120_000);

  it('answers gone for a member that does not exist, and writes nothing', async () => {
    const { rows } = await pg.query('SELECT * FROM switchboard_login_failure(999, now(), 5, 900000, 60000, 900000)');
    expect(rows[0].outcome).toBe('gone');
    expect((await pg.query('SELECT count(*)::int AS n FROM login_lockouts WHERE member_id = 999')).rows[0].n).toBe(0);
  }, 30_000);

  it('an unlock issued while a failure is being counted voids that failure: the reset mark is taken once the failure has committed', async () => {
    // Auth's unlock (LoginService) on its own pool, as in the service.
    const auth = new DataSource(dataSourceOptions(db.url, 'switchboard-auth', 2));
    await auth.initialize();
    const gateway = new Client({ connectionString: db.url });
    await gateway.connect();
    try {
      const login = new LoginService(auth, null as never, { now: () => new Date() } as never, {} as never);
      await pg.query('DELETE FROM login_lockouts');
      await pg.query('UPDATE members SET lockout_reset_at = NULL WHERE id = 1');
      // The gateway's failure holds the member's share lock (the function's first step)…
      await gateway.query('BEGIN');
      await gateway.query('SELECT 1 FROM members WHERE id = 1 FOR SHARE');
      // …when the admin's unlock arrives; it must wait, and its mark must come after the failure.
      const unlocked = login.unlock(1);
      await new Promise((r) => setTimeout(r, 300));
      // The failure, counted from the state before the unlock (a threshold of 1: it locks).
      const { rows } = await gateway.query('SELECT * FROM switchboard_login_failure(1, now(), 1, 900000, 60000, 900000)');
      expect([rows[0].outcome, rows[0].locked_now]).toEqual(['counted', true]);
      await gateway.query('COMMIT');
      expect(await unlocked).toBe(true);
      // The unlock wins: the member is not locked and has no failures.
      expect((await readLockouts(auth, [1])).get(1)).toEqual({ lockedUntil: null, failedLogins: 0 });
      const marks = (await pg.query('SELECT m.lockout_reset_at AS reset, l.updated_at AS record FROM members m JOIN login_lockouts l ON l.member_id = m.id WHERE m.id = 1')).rows[0];
      expect(marks.reset.getTime()).toBeGreaterThanOrEqual(marks.record.getTime());
    } finally {
      await gateway.query('ROLLBACK').catch(() => undefined);
      await gateway.end();
      await auth.destroy();
    }
  }, 60_000);
});
