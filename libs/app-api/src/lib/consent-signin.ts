import { Injectable, Logger, Inject } from '@nestjs/common';
import type IORedis from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import { HashPool, HashPoolBusyError, bcryptCrypt, isLocked, isNativeSalt, legacyHash } from '@switchboard/credentials';
import { StreamEmitter, newEvent } from '@switchboard/events';
import { GatewayKeyring, LoginGate } from '@switchboard/ips-connect';
import { REDIS } from '@switchboard/redis';
import { InjectMetrics, ServiceMetrics } from '@switchboard/runtime';

/**
 * A consent-page sign-in. Unknown account, wrong password and locked account are all WRONG_AUTH (the
 * page must not tell them apart); CALLER_LIMIT: this address made too many attempts this minute;
 * BUSY: the hashing pool is full; UNAVAILABLE: a store needed for the checks did not answer.
 */
export type PasswordLogin =
  | { ok: true; memberId: number; name: string; epoch: number }
  | { ok: false; status: 'WRONG_AUTH' | 'CALLER_LIMIT' | 'BUSY' | 'UNAVAILABLE' };

/** Consent-page sign-in attempts one client address may make per minute (successes are not counted). */
export const CONSENT_CALLER_LIMIT_PER_MINUTE = 20;
/** Per-address attempt counters; written only by the gateway (docs/architecture.md). */
const CONSENT_ATTEMPTS = 'switchboard:consent-attempts:';
/** What unknown and locked accounts are hashed with, so they cost what a real account costs. */
const DUMMY_SETTING = '$2a$13$abcdefghijklmnopqrstuv';

/**
 * The consent page's sign-in with the network password (A9), in the gateway where the page is
 * served, through the same lockout as IPS `login` (LoginGate, D12), in an order that cannot be turned
 * into a denial of service or an account oracle (issue 10 §2):
 * 1. the hashing pool full → BUSY at once (nothing else is done);
 * 2. this address over its attempts of the minute → CALLER_LIMIT (no lookup, no hash);
 * 3. the account looked up with its lockout (one statement);
 * 4. exactly one bcrypt hash in the bounded pool, whatever the account: the real one for an unlocked
 *    account, a dummy one for an unknown or locked account (its password is never hashed), a dummy
 *    one before the cheap md5 of a legacy account — one timing class for all of them;
 * 5. the comparison and the failure count (LoginGate), or the lock's audit event.
 */
@Injectable()
export class ConsentSignIn {
  private readonly logger = new Logger('ConsentSignIn');
  /** Bounds the bcrypt hashes of consent sign-ins (the only place the master hashes on request). */
  readonly hashPool = new HashPool();
  private readonly signins: Counter<'outcome'>;

  constructor(
    @Inject(REDIS) private readonly redis: IORedis,
    @InjectMetrics() metrics: ServiceMetrics,
    private readonly logins: LoginGate,
    private readonly keyring: GatewayKeyring,
    private readonly events: StreamEmitter,
  ) {
    const registers = [metrics.registry];
    this.signins = new Counter({
      name: 'switchboard_consent_signins_total',
      help: 'Consent-page sign-ins, by outcome (success, wrong, caller_limit, busy, unavailable)',
      labelNames: ['outcome'],
      registers,
    });
    const pool = this.hashPool;
    new Gauge({
      name: 'switchboard_consent_hash_pool',
      help: 'Consent sign-in password hashes: running, queued, started and refused (pool full) since start',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'running' }, pool.running);
        this.set({ state: 'queued' }, pool.queued);
        this.set({ state: 'started' }, pool.started);
        this.set({ state: 'refused' }, pool.refused);
      },
    });
  }

  /**
   * Counts this address's attempt of the minute before any hashing (atomic INCR, so concurrent
   * attempts cannot all slip under the limit): false when it is over CONSENT_CALLER_LIMIT_PER_MINUTE,
   * else the counter's key. Throws when Redis does not answer: the caller fails closed.
   */
  private async countAttempt(caller: string | null, now: Date): Promise<string | null | false> {
    if (!caller) return null;
    const key = `${CONSENT_ATTEMPTS}${caller}:${Math.floor(now.getTime() / 60_000)}`;
    const result = await this.redis.multi().incr(key).expire(key, 120).exec();
    const n = Number(result?.[0]?.[1]);
    if (!Number.isFinite(n)) throw new Error('consent attempt counter: no answer');
    return n > CONSENT_CALLER_LIMIT_PER_MINUTE ? false : key;
  }

  private async uncountAttempt(key: string | null) {
    if (key) await this.redis.decr(key).catch((err: Error) => this.logger.warn(`consent attempt counter not decremented: ${err.message}`));
  }

  async login(login: string, password: string, caller: string | null): Promise<PasswordLogin> {
    const now = this.logins.now();
    const answer = (outcome: string, result: PasswordLogin): PasswordLogin => {
      this.signins.inc({ outcome });
      return result;
    };
    const busy = () => answer('busy', { ok: false, status: 'BUSY' });
    if (this.hashPool.full) return busy();
    let attemptKey: string | null;
    try {
      const counted = await this.countAttempt(caller, now);
      if (counted === false) return answer('caller_limit', { ok: false, status: 'CALLER_LIMIT' });
      attemptKey = counted;
    } catch (err) {
      this.logger.warn(`consent sign-in refused, per-address limit unavailable: ${(err as Error).message}`);
      return answer('unavailable', { ok: false, status: 'UNAVAILABLE' });
    }
    // No account has a name with control characters (PostgreSQL refuses NUL in text): unknown.
    if (/[\u0000-\u001f\u007f]/.test(login)) return answer('wrong', { ok: false, status: 'WRONG_AUTH' });
    const read = await this.logins.read(login.includes('@') ? 'email' : 'name', login);
    const keys = await this.keyring.atLeast(read.version);
    const member = read.member;
    const locked = member !== null && isLocked(member.state, now);
    let hash: string;
    try {
      const real = member !== null && !locked && isNativeSalt(member.passSalt);
      const bcrypted = await this.hashPool.run(() => bcryptCrypt(password, real ? `$2a$13$${member.passSalt}` : DUMMY_SETTING));
      hash = member !== null && !locked && !isNativeSalt(member.passSalt) ? legacyHash(password, member.passSalt) : bcrypted;
    } catch (err) {
      if (!(err instanceof HashPoolBusyError)) throw err;
      await this.uncountAttempt(attemptKey);
      return busy();
    }
    if (member !== null && locked) {
      // Checked before any comparison; failures while locked are not counted (D12).
      await this.events.emit(newEvent('authn_login_lock', 'gateway', { slaveId: null, memberId: member.id, data: { caller, reason: 'locked', locked_until: member.state.lockedUntil } }, now));
      return answer('wrong', { ok: false, status: 'WRONG_AUTH' });
    }
    const result = await this.logins.login(member, hash, caller, null, keys);
    if (result.status === 'SUCCESS') {
      await this.uncountAttempt(attemptKey);
      return answer('success', { ok: true, memberId: result.member.id, name: result.member.name, epoch: result.member.sessionEpoch });
    }
    return answer('wrong', { ok: false, status: 'WRONG_AUTH' });
  }
}
