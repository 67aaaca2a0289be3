import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { LockoutPolicy, LockoutState, PassDigester, effectiveLockout, hashMatchesSaltFormat, isClean, isLocked } from '@switchboard/credentials';
import { DomainEvent, EventType, StreamEmitter, newEvent } from '@switchboard/events';
import { IdLookup, KeyringSnapshot, matchKey } from '@switchboard/ips-protocol';
import { REDIS } from '@switchboard/redis';
import { KEYRING_VERSION_SUBQUERY } from '@switchboard/db';
import { VERSION_ONLY_STATEMENT } from './member-reads';

export const LOGIN_OPTIONS = Symbol('LOGIN_OPTIONS');
export interface LoginOptions {
  lockout: LockoutPolicy;
  /** Failed logins per minute from one client address before every login from it is refused (D12). */
  callerLimitPerMinute: number;
  /** Spec D14: how long a login or registration allows a crossLogin chain; 0 = always. */
  recentAuthMs: number;
  /** Time for the lockout windows; tests drive it by hand. */
  now: () => Date;
}

/** A member as a login needs it, with the lockout state that counts. */
export interface LoginMember {
  id: number;
  name: string;
  email: string;
  passSalt: string;
  passDigest: string;
  validating: boolean;
  revalidateUrl: string | null;
  sessionEpoch: number;
  state: LockoutState;
}

export type LoginResult = { status: 'SUCCESS'; member: LoginMember } | { status: 'ACCOUNT_NOT_FOUND' | 'WRONG_AUTH' | 'ACCOUNT_LOCKED' };

/** Keys of the per-address failed-login counters (D12's second limit); written only by the gateway. */
export const LOGIN_FAILS = 'switchboard:login-fails:';
/** Spec D14's marks of a recent login or registration; written only by the gateway, read by auth. */
export const RECENT_AUTH = 'switchboard:recent-auth:';

const VERSION = KEYRING_VERSION_SUBQUERY;
const COLUMNS = 'id, name, email, pass_salt, pass_digest, validating, revalidate_url, session_epoch, lockout_reset_at';
const lookup = (how: IdLookup) =>
  how === 'email-then-name'
    ? `SELECT ${COLUMNS} FROM (SELECT ${COLUMNS}, 1 AS o FROM members WHERE email_key = $1 UNION ALL SELECT ${COLUMNS}, 2 AS o FROM members WHERE name_key = $1) x ORDER BY o LIMIT 1`
    : `SELECT ${COLUMNS} FROM members WHERE ${how === 'email' ? 'email_key' : 'name_key'} = $1`;
const statement = (how: IdLookup) => ({
  name: `sb_gw_login_${how.replace(/-/g, '_')}`,
  text: `SELECT v.v, m.*, l.failed_logins, l.first_failed_at, l.locked_until, l.lock_count, l.updated_at AS lockout_updated_at
           FROM ${VERSION} v
           LEFT JOIN LATERAL (${lookup(how)}) m ON true
           LEFT JOIN login_lockouts l ON l.member_id = m.id`,
});
const STATEMENTS: Record<IdLookup, { name: string; text: string }> = {
  name: statement('name'),
  email: statement('email'),
  'email-then-name': statement('email-then-name'),
};
const VERSION_ONLY = VERSION_ONLY_STATEMENT;

interface Row {
  v: number;
  id: number | null;
  name: string;
  email: string;
  pass_salt: string;
  pass_digest: string;
  validating: boolean;
  revalidate_url: string | null;
  session_epoch: number;
  lockout_reset_at: Date | null;
  failed_logins: number | null;
  first_failed_at: Date | null;
  locked_until: Date | null;
  lock_count: number | null;
  lockout_updated_at: Date | null;
}

const DUMMY_DIGEST = '0'.repeat(64);

/**
 * Logins where they arrive (IPS `login` and the consent page's sign-in), with spec D12's protection:
 * a per-address limit of failed logins per minute (Redis), the per-account lock checked before any
 * comparison, and the same work (one digest comparison) for unknown, wrong and locked. The member
 * and its lockout record are read with the keyring version in one prepared statement; a successful
 * login of a clean account writes nothing to PostgreSQL (its event goes to the gateway's stream); a
 * failure is counted under the record's row lock (`login_lockouts`, the gateway's table), so that
 * parallel attempts cannot all pass the lock check before any failure is counted.
 */
@Injectable()
export class LoginGate {
  private readonly logger = new Logger('Login');
  private readonly pool: Pool;
  private digester?: { pepper: string; digester: PassDigester };

  constructor(
    @InjectDataSource() db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(LOGIN_OPTIONS) private readonly options: LoginOptions,
    private readonly events: StreamEmitter,
  ) {
    this.pool = (db.driver as unknown as { master: Pool }).master;
  }

  /** The time lockouts are computed with (tests drive it). */
  now(): Date {
    return this.options.now();
  }

  /** The member `value` designates (spec D7/D8) with its lockout state, and the keyring version. */
  async read(how: IdLookup | null, value: string | undefined): Promise<{ version: number; member: LoginMember | null }> {
    const st = how === null || value === undefined ? VERSION_ONLY : STATEMENTS[how];
    const result = await this.pool.query<Row>({ name: st.name, text: st.text, values: st === VERSION_ONLY ? [] : [matchKey(value!)] });
    const r = result.rows[0];
    if (r.id === null || r.id === undefined) return { version: r.v, member: null };
    const record =
      r.lockout_updated_at === null
        ? null
        : { failedLogins: r.failed_logins!, firstFailedAt: r.first_failed_at, lockedUntil: r.locked_until, lockCount: r.lock_count!, updatedAt: r.lockout_updated_at };
    return {
      version: r.v,
      member: {
        id: r.id,
        name: r.name,
        email: r.email,
        passSalt: r.pass_salt,
        passDigest: r.pass_digest,
        validating: r.validating,
        revalidateUrl: r.revalidate_url,
        sessionEpoch: r.session_epoch,
        state: effectiveLockout(record, r.lockout_reset_at),
      },
    };
  }

  private digesterFor(keys: KeyringSnapshot): PassDigester {
    if (this.digester?.pepper !== keys.passPepper) this.digester = { pepper: keys.passPepper, digester: new PassDigester(keys.passPepper, 'pepper') };
    return this.digester.digester;
  }

  private callerKey(caller: string, now: Date): string {
    return `${LOGIN_FAILS}${caller}:${Math.floor(now.getTime() / 60_000)}`;
  }

  // The per-caller limit and the recent-authentication marks live in Redis. When Redis does not
  // answer, logins go on (the per-account lock is in PostgreSQL): availability of the network's
  // logins matters more than this second limit for the minutes Redis is away (docs/hardening.md).
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

  private event(type: EventType, memberId: number | null, slaveId: number | null, data: Record<string, unknown>, now: Date): Promise<void> {
    return this.events.emit(newEvent(type, 'gateway', { slaveId, memberId, data }, now));
  }

  /**
   * IPS `login` (and the consent page's, with the bcrypt it computed): `password` is the hash a slave
   * sends. `keys` give the digest key.
   */
  async login(member: LoginMember | null, password: string, caller: string | null, originSlaveId: number | null, keys: KeyringSnapshot): Promise<LoginResult> {
    const now = this.options.now();
    const digester = this.digesterFor(keys);
    if (await this.callerBlocked(caller, now)) {
      digester.matches(password, member?.passDigest ?? DUMMY_DIGEST);
      await this.event('authn_login_lock', member?.id ?? null, originSlaveId, { caller, reason: 'caller_limit' }, now);
      return { status: 'ACCOUNT_LOCKED' };
    }
    if (!member) {
      digester.matches(password, DUMMY_DIGEST);
      await this.countCallerFailure(caller, now);
      await this.event('authn_login_fail', null, originSlaveId, { caller, reason: 'unknown_account' }, now);
      return { status: 'ACCOUNT_NOT_FOUND' };
    }
    if (isLocked(member.state, now)) {
      // Checked before any comparison; failures while locked are not counted (D12).
      digester.matches(password, DUMMY_DIGEST);
      await this.event('authn_login_lock', member.id, originSlaveId, { caller, reason: 'locked', locked_until: member.state.lockedUntil }, now);
      return { status: 'ACCOUNT_LOCKED' };
    }
    if (hashMatchesSaltFormat(password, member.passSalt) && digester.matches(password, member.passDigest)) {
      if (!isClean(member.state)) await this.clear(member.id);
      await this.event('authn_login_success', member.id, originSlaveId, { caller }, now);
      await this.markRecentAuth(member.id, now);
      return { status: 'SUCCESS', member };
    }
    const outcome = await this.countFailure(member.id, now);
    if (outcome.outcome === 'locked') {
      await this.event('authn_login_lock', member.id, originSlaveId, { caller, reason: 'locked', locked_until: outcome.lockedUntil }, now);
      return { status: 'ACCOUNT_LOCKED' };
    }
    const events: DomainEvent[] = [];
    if (outcome.outcome === 'counted') {
      events.push(newEvent('authn_login_fail', 'gateway', { slaveId: originSlaveId, memberId: member.id, data: { caller, reason: 'wrong_password' } }, now));
      if (outcome.lockedNow) {
        events.push(newEvent('authn_login_lock', 'gateway', { slaveId: originSlaveId, memberId: member.id, data: { caller, reason: 'too_many_failures', locked_until: outcome.lockedUntil } }, now));
      }
    }
    await this.recordFailure(events, caller, now);
    return { status: 'WRONG_AUTH' };
  }

  /**
   * After a counted failure, its events and the address's failure count in one round trip (one
   * `MULTI`: the counter's INCR and EXPIRE stay together). Redis away: logged, the answer goes on.
   */
  private async recordFailure(events: DomainEvent[], caller: string | null, now: Date): Promise<void> {
    if (!events.length && !caller) return;
    const batch = this.redis.multi();
    for (const e of events) this.events.append(batch, e);
    const key = caller ? this.callerKey(caller, now) : null;
    if (key) batch.incr(key).expire(key, 120);
    try {
      const replies = (await batch.exec()) ?? [];
      events.forEach((e, i) => this.events.settled(e, replies[i]?.[0] ?? (replies.length ? null : new Error('transaction discarded'))));
      const counter = replies[events.length]?.[0];
      if (key && (counter || !replies.length)) this.logger.warn(`per-caller login limit unavailable: ${(counter ?? new Error('transaction discarded')).message}`);
    } catch (err) {
      for (const e of events) this.events.settled(e, err as Error);
      if (key) this.logger.warn(`per-caller login limit unavailable: ${(err as Error).message}`);
    }
  }

  /** A successful login after failures: the count and the doubling streak are cleared. */
  private async clear(memberId: number): Promise<void> {
    await this.pool.query({
      name: 'sb_gw_lockout_clear',
      text: `UPDATE login_lockouts SET failed_logins = 0, first_failed_at = NULL, locked_until = NULL, lock_count = 0, updated_at = clock_timestamp()
              WHERE member_id = $1 AND (failed_logins > 0 OR first_failed_at IS NOT NULL OR locked_until IS NOT NULL OR lock_count > 0)`,
      values: [memberId],
    });
  }

  /**
   * A wrong password, counted in one statement: `switchboard_login_failure` (migration
   * 1795800000000) takes the member's share lock (an unlock by auth waits for it, or is seen by it;
   * but auth's reset mark is stamped before that wait, so an unlock arriving during the function's
   * few microseconds can carry an earlier mark than this record, which then outlives it:
   * BENCHMARKS.md, "Login rejections") and the lockout record's row lock (parallel attempts cannot all slip under the
   * threshold), then applies D12's rules, the same as `afterFailure` (a property test compares
   * them). Its commit is not waited for (`synchronous_commit` off for it): a crash may forget the
   * last counts, never lock a member wrongly. `locked` when the account turned out locked (nothing
   * counted), `gone` when the member no longer exists.
   */
  private async countFailure(
    memberId: number,
    now: Date,
  ): Promise<{ outcome: 'gone' } | { outcome: 'locked'; lockedUntil: Date | null } | { outcome: 'counted'; lockedUntil: Date | null; lockedNow: boolean }> {
    const policy = this.options.lockout;
    const { rows } = await this.pool.query<{ outcome: 'counted' | 'locked' | 'gone'; locked_until: Date | null; locked_now: boolean }>({
      name: 'sb_gw_login_failure',
      text: 'SELECT outcome, locked_until, locked_now FROM switchboard_login_failure($1, $2, $3, $4, $5, $6)',
      values: [memberId, now, policy.threshold, policy.windowMs, policy.baseMs, policy.maxMs],
    });
    const r = rows[0];
    if (r.outcome === 'gone') return { outcome: 'gone' };
    if (r.outcome === 'locked') return { outcome: 'locked', lockedUntil: r.locked_until };
    return { outcome: 'counted', lockedUntil: r.locked_until, lockedNow: r.locked_now };
  }

  /** Spec D14: a successful server-side login or registration for this id happened just now. */
  async markRecentAuth(memberId: number, now = this.options.now()): Promise<void> {
    if (this.options.recentAuthMs <= 0) return;
    const ttl = Math.ceil(this.options.recentAuthMs / 1000) + 5;
    await this.redis
      .set(RECENT_AUTH + memberId, String(now.getTime()), 'EX', ttl)
      .catch((err: Error) => this.logger.warn(`recent-authentication mark not stored: ${err.message}`));
  }
}

