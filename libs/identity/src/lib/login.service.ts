import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { MemberEntity } from '@switchboard/db';
import { appendToOutbox, newEvent } from '@switchboard/events';
import { REDIS } from '@switchboard/redis';
import { CLOCK, Clock } from './clock';
import { IDENTITY_OPTIONS, IdentityOptions } from './identity-options';
import { AFTER_SUCCESS, afterFailure, isLocked } from './lockout';
import type { IdLookup } from '@switchboard/ips-protocol';
import { MembersService } from './members.service';
import { hashMatchesSaltFormat } from './passwords';
import { SecurityEventsService } from './security-events.service';

export type LoginResult =
  | { status: 'SUCCESS'; member: MemberEntity }
  | { status: 'ACCOUNT_NOT_FOUND' | 'WRONG_AUTH' | 'ACCOUNT_LOCKED' };

const RECENT_AUTH = 'switchboard:recent-auth:';
const CALLER_FAILS = 'switchboard:login-fails:';

/**
 * IPS `login` with Switchboard's brute-force protection (spec D12): per-account lock checked before
 * any comparison, a per-caller limit of failed logins per minute, and the same work (one digest
 * comparison, one counter update, one database write) for unknown, wrong and locked.
 */
@Injectable()
export class LoginService {
  private readonly logger = new Logger('Login');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDENTITY_OPTIONS) private readonly options: IdentityOptions,
    private readonly members: MembersService,
    private readonly events: SecurityEventsService,
  ) {}

  private callerKey(caller: string, now: Date): string {
    return `${CALLER_FAILS}${caller}:${Math.floor(now.getTime() / 60_000)}`;
  }

  // The per-caller limit and the recent-authentication marks live in Redis. When Redis does not
  // answer, logins and registrations go on (the per-account lock is in PostgreSQL): availability of
  // the network's logins matters more than this second limit for the minutes Redis is away.
  private async callerBlocked(caller: string | null, now: Date): Promise<boolean> {
    if (!caller) return false;
    try {
      const count = Number((await this.redis.get(this.callerKey(caller, now))) ?? 0);
      return count >= this.options.callerLimitPerMinute;
    } catch (err) {
      this.logger.warn(`per-caller login limit unavailable: ${(err as Error).message}`);
      return false;
    }
  }

  private async countCallerFailure(caller: string | null, now: Date): Promise<void> {
    if (!caller) return;
    const key = this.callerKey(caller, now);
    await this.redis
      .multi()
      .incr(key)
      .expire(key, 120)
      .exec()
      .catch((err: Error) => this.logger.warn(`per-caller login limit unavailable: ${err.message}`));
  }

  async login(how: IdLookup | null, id: string, password: string, caller: string | null, originSlaveId: number | null): Promise<LoginResult> {
    const now = this.clock.now();
    const member = how === null ? null : await this.members.lookup(how, id);
    const source = { slaveId: originSlaveId, caller };

    if (await this.callerBlocked(caller, now)) {
      if (member) this.members.dummyCompare(password);
      await this.audit('authn_login_lock', member?.id ?? null, { ...source, reason: 'caller_limit' }, now);
      return { status: 'ACCOUNT_LOCKED' };
    }
    if (!member) {
      this.members.dummyCompare(password);
      await this.countCallerFailure(caller, now);
      await this.audit('authn_login_fail', null, { ...source, reason: 'unknown_account' }, now);
      return { status: 'ACCOUNT_NOT_FOUND' };
    }
    // The lock check, the comparison and the bookkeeping run under the member's row lock, so that
    // concurrent attempts cannot all pass the lock check before any failure is counted.
    type Outcome = { status: 'SUCCESS'; member: MemberEntity } | { status: 'ACCOUNT_LOCKED'; lockedUntil: Date | null } | { status: 'WRONG_AUTH' };
    const outcome: Outcome = await this.db.transaction(async (manager) => {
      const fresh = await manager
        .getRepository(MemberEntity)
        .createQueryBuilder('m')
        .where('m.id = :id', { id: member.id })
        .setLock('pessimistic_write')
        .getOne();
      if (!fresh) return { status: 'WRONG_AUTH' };
      if (isLocked(fresh, now)) {
        // Checked before any comparison; failures while locked are not counted (D12).
        this.members.dummyCompare(password);
        return { status: 'ACCOUNT_LOCKED', lockedUntil: fresh.lockedUntil };
      }
      if (hashMatchesSaltFormat(password, fresh.passSalt) && this.members.passMatches(fresh, password)) {
        await manager.update(MemberEntity, { id: fresh.id }, { ...AFTER_SUCCESS });
        await appendToOutbox(manager, newEvent('authn_login_success', 'auth', { slaveId: originSlaveId, memberId: fresh.id, data: { caller } }, now));
        return { status: 'SUCCESS', member: fresh };
      }
      const { lockedNow, ...state } = afterFailure(fresh, this.options.lockout, now);
      await manager.update(MemberEntity, { id: fresh.id }, state);
      await appendToOutbox(manager, newEvent('authn_login_fail', 'auth', { slaveId: originSlaveId, memberId: fresh.id, data: { caller, reason: 'wrong_password' } }, now));
      if (lockedNow) {
        await appendToOutbox(manager, newEvent('authn_login_lock', 'auth', { slaveId: originSlaveId, memberId: fresh.id, data: { caller, reason: 'too_many_failures', locked_until: state.lockedUntil } }, now));
      }
      return { status: 'WRONG_AUTH' };
    });
    if (outcome.status === 'SUCCESS') {
      await this.markRecentAuth(outcome.member.id, now);
      return outcome;
    }
    if (outcome.status === 'ACCOUNT_LOCKED') {
      await this.audit('authn_login_lock', member.id, { ...source, reason: 'locked', locked_until: outcome.lockedUntil }, now);
      return { status: 'ACCOUNT_LOCKED' };
    }
    await this.countCallerFailure(caller, now);
    return { status: 'WRONG_AUTH' };
  }

  private async audit(type: 'authn_login_fail' | 'authn_login_lock', memberId: number | null, data: Record<string, unknown>, now: Date) {
    const { slaveId, ...rest } = data;
    await this.events.record(type, { slaveId: (slaveId as number | null) ?? null, memberId, data: rest }, now);
  }

  /** Spec D14: a successful server-side login or register for this id happened just now. */
  async markRecentAuth(memberId: number, now = this.clock.now()): Promise<void> {
    if (this.options.recentAuthMs <= 0) return;
    const ttl = Math.ceil(this.options.recentAuthMs / 1000) + 5;
    await this.redis
      .set(RECENT_AUTH + memberId, String(now.getTime()), 'EX', ttl)
      .catch((err: Error) => this.logger.warn(`recent-authentication mark not stored: ${err.message}`));
  }

  async hasRecentAuth(memberId: number): Promise<boolean> {
    if (this.options.recentAuthMs <= 0) return true;
    const at = Number(await this.redis.get(RECENT_AUTH + memberId).catch(() => null)); // unknown → no login (D14)
    return at > 0 && this.clock.now().getTime() - at <= this.options.recentAuthMs;
  }

  /** Admin: members locked now. */
  async locked(): Promise<MemberEntity[]> {
    return this.db
      .getRepository(MemberEntity)
      .createQueryBuilder('m')
      .where('m.locked_until > :now', { now: this.clock.now() })
      .orderBy('m.locked_until', 'DESC')
      .getMany();
  }

  /** Admin: clear a member's lock and failure count. */
  async unlock(memberId: number): Promise<boolean> {
    const now = this.clock.now();
    return this.db.transaction(async (manager) => {
      const result = await manager.update(MemberEntity, { id: memberId }, { ...AFTER_SUCCESS });
      if (!result.affected) return false;
      await appendToOutbox(manager, newEvent('authn_login_unlock', 'admin', { memberId, data: {} }, now));
      return true;
    });
  }
}
