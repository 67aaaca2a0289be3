import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { LockoutState, effectiveLockout } from '@switchboard/credentials';
import { MemberEntity } from '@switchboard/db';
import { appendToOutbox, newEvent } from '@switchboard/events';
import { REDIS } from '@switchboard/redis';
import { CLOCK, Clock } from './clock';
import { IDENTITY_OPTIONS, IdentityOptions } from './identity-options';

/** Spec D14's marks, written by the gateway (which runs logins and sees registrations succeed). */
const RECENT_AUTH = 'switchboard:recent-auth:';

/** A member's lockout as the admin sees it (the record that counts, docs/architecture.md). */
export type MemberLockout = Pick<LockoutState, 'lockedUntil' | 'failedLogins'>;

/**
 * What auth keeps of logins, which run in the gateway: the admin's unlock (a reset mark on the
 * member, `members.lockout_reset_at`, which voids an older `login_lockouts` record), the lists of
 * locked members, and spec D14's check of a recent login before a crossLogin chain.
 */
@Injectable()
export class LoginService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDENTITY_OPTIONS) private readonly options: IdentityOptions,
  ) {}

  async hasRecentAuth(memberId: number): Promise<boolean> {
    if (this.options.recentAuthMs <= 0) return true;
    const at = Number(await this.redis.get(RECENT_AUTH + memberId).catch(() => null)); // unknown → no login (D14)
    return at > 0 && this.clock.now().getTime() - at <= this.options.recentAuthMs;
  }

  /** Admin: members locked now, with their lockout. */
  async locked(): Promise<{ member: MemberEntity; lockout: MemberLockout }[]> {
    const rows: { member_id: number }[] = await this.db.query(
      `SELECT l.member_id FROM login_lockouts l JOIN members m ON m.id = l.member_id
        WHERE l.locked_until > $1 AND (m.lockout_reset_at IS NULL OR l.updated_at > m.lockout_reset_at)
        ORDER BY l.locked_until DESC`,
      [this.clock.now()],
    );
    if (!rows.length) return [];
    const members = await this.db.getRepository(MemberEntity).findBy(rows.map((r) => ({ id: r.member_id })));
    const lockouts = await readLockouts(this.db, rows.map((r) => r.member_id));
    const byId = new Map(members.map((m) => [m.id, m]));
    return rows.filter((r) => byId.has(r.member_id)).map((r) => ({ member: byId.get(r.member_id)!, lockout: lockouts.get(r.member_id)! }));
  }

  /**
   * Admin: clear a member's lock and failure count (a reset mark the gateway's record must postdate).
   * The member's row lock is taken first: a failure being counted holds the member's share lock, so
   * the mark (`clock_timestamp()`) is read only once that failure has committed, and voids it. An
   * UPDATE alone would compute the mark before waiting for the lock, and a failure committed after
   * the unlock began would outlive it.
   */
  async unlock(memberId: number): Promise<boolean> {
    const now = this.clock.now();
    return this.db.transaction(async (manager) => {
      const [found] = (await manager.query('SELECT 1 FROM members WHERE id = $1 FOR UPDATE', [memberId])) as unknown[];
      if (!found) return false;
      const result = await manager
        .createQueryBuilder()
        .update(MemberEntity)
        .set({ lockoutResetAt: () => 'clock_timestamp()' })
        .where('id = :id', { id: memberId })
        .execute();
      if (!result.affected) return false;
      await appendToOutbox(manager, newEvent('authn_login_unlock', 'admin', { memberId, data: {} }, now));
      return true;
    });
  }
}

/** The lockout that counts for each member (absent or voided records: clean). */
export async function readLockouts(db: Pick<DataSource, 'query'>, memberIds: number[]): Promise<Map<number, MemberLockout>> {
  const out = new Map<number, MemberLockout>(memberIds.map((id) => [id, { lockedUntil: null, failedLogins: 0 }]));
  if (!memberIds.length) return out;
  const rows: { id: number; failed_logins: number | null; first_failed_at: Date | null; locked_until: Date | null; lock_count: number | null; updated_at: Date | null; lockout_reset_at: Date | null }[] =
    await db.query(
      `SELECT m.id, m.lockout_reset_at, l.failed_logins, l.first_failed_at, l.locked_until, l.lock_count, l.updated_at
         FROM members m LEFT JOIN login_lockouts l ON l.member_id = m.id WHERE m.id = ANY($1::int[])`,
      [memberIds],
    );
  for (const r of rows) {
    const record = r.updated_at === null ? null : { failedLogins: r.failed_logins!, firstFailedAt: r.first_failed_at, lockedUntil: r.locked_until, lockCount: r.lock_count!, updatedAt: r.updated_at };
    const state = effectiveLockout(record, r.lockout_reset_at);
    out.set(r.id, { lockedUntil: state.lockedUntil, failedLogins: state.failedLogins });
  }
  return out;
}
