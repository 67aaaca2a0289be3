import { Inject, Injectable, Logger } from '@nestjs/common';
import type IORedis from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import {
  CLOCK,
  Clock,
  HashPool,
  HashPoolBusyError,
  LoginService,
  MembersService,
  SecurityEventsService,
  bcryptCrypt,
  isLocked,
  isNativeSalt,
  legacyHash,
} from '@switchboard/identity';
import type { IdLookup } from '@switchboard/ips-protocol';
import { REDIS } from '@switchboard/redis';
import { InjectMetrics, ServiceMetrics } from '@switchboard/runtime';
import { AppKeysService } from './app-keys.service';
import { GrantsService } from './grants.service';
import { Grant, describeGrant, parsePermissions } from './permissions';
import { hasForbiddenCharacters, verifyHmac, verifyMd5 } from './signature';

export type LinkCheck =
  | {
      ok: true;
      app: { apiKey: string; title: string; description: string; type: string; callbackUrl: string | null };
      grant: Grant;
      sentences: string[];
      frob: string | null;
    }
  | { ok: false; error: string };

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
const CONSENT_ATTEMPTS = 'switchboard:consent-attempts:';
/** What unknown and locked accounts are hashed with, so they cost what a real account costs. */
const DUMMY_SETTING = '$2a$13$abcdefghijklmnopqrstuv';

/**
 * The consent flow (A9) on the auth service's side: checks a signed authorization link, logs a
 * member in with the network password (the same lockout as IPS `login`), records an approval.
 */
@Injectable()
export class AuthorizeService {
  private readonly logger = new Logger('Authorize');
  /** Bounds the bcrypt hashes of consent sign-ins (the only place the master hashes on request). */
  readonly hashPool = new HashPool();
  private readonly signins: Counter<'outcome'>;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REDIS) private readonly redis: IORedis,
    @InjectMetrics() metrics: ServiceMetrics,
    private readonly keys: AppKeysService,
    private readonly grants: GrantsService,
    private readonly members: MembersService,
    private readonly logins: LoginService,
    private readonly events: SecurityEventsService,
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

  /** An authorization link: always signed, with method "" (§1.3); perm_* known; a frob for desktop keys. */
  async check(params: [string, string][]): Promise<LinkCheck> {
    const get = (n: string) => params.find(([k]) => k === n)?.[1];
    const apiKey = get('api_key');
    if (!apiKey) return { ok: false, error: 'The link has no api_key.' };
    const key = await this.keys.get(apiKey);
    if (!key || !key.enabled) return { ok: false, error: 'This application key is invalid or disabled.' };
    if (params.some(([k, v]) => hasForbiddenCharacters(k) || hasForbiddenCharacters(v))) return { ok: false, error: 'The link is malformed.' };
    const sig = get('api_sig');
    const signed = params.filter(([k]) => k !== 'api_sig');
    const valid =
      sig !== undefined &&
      (key.signatureMode === 'hmac-sha256' ? verifyHmac(sig, signed, '', key.secret) : verifyMd5(sig, signed, '', key.secret, key.acceptOrderA));
    if (!valid) return { ok: false, error: sig === undefined ? 'The link is not signed.' : 'The link signature is invalid.' };
    const perms = parsePermissions(signed);
    if (!perms.ok) return { ok: false, error: `The link asks for an unknown permission: ${perms.error}.` };
    if (Object.keys(perms.grant).length === 0) return { ok: false, error: 'The link asks for no permission.' };
    const frob = get('frob') ?? null;
    if (key.type === 'desktop') {
      if (!frob || !(await this.grants.frobUsable(key.apiKey, frob, this.clock.now()))) return { ok: false, error: 'The authorization request has expired or was already used. Start again from the application.' };
    } else if (!key.callbackUrl) {
      return { ok: false, error: 'This web application has no callback URL.' };
    }
    return {
      ok: true,
      app: { apiKey: key.apiKey, title: key.title, description: key.description, type: key.type, callbackUrl: key.callbackUrl },
      grant: perms.grant,
      sentences: describeGrant(perms.grant),
      frob: key.type === 'desktop' ? frob : null,
    };
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

  /**
   * The network password, hashed as the slaves do, through the IPS `login` lockout (A9, D12), in an
   * order that cannot be turned into a denial of service or an account oracle (issue 10 §2):
   * 1. the hashing pool full → BUSY at once (nothing else is done);
   * 2. this address over its attempts of the minute → CALLER_LIMIT (no lookup, no hash);
   * 3. the account looked up and its lock checked;
   * 4. exactly one bcrypt hash in the bounded pool, whatever the account: the real one for an unlocked
   *    account, a dummy one for an unknown or locked account (its password is never hashed), a dummy
   *    one before the cheap md5 of a legacy account — one timing class for all of them;
   * 5. the comparison under the member's row lock (LoginService), or the lock's audit event.
   */
  async login(login: string, password: string, caller: string | null): Promise<PasswordLogin> {
    const answer = (outcome: string, result: PasswordLogin): PasswordLogin => {
      this.signins.inc({ outcome });
      return result;
    };
    const busy = () => answer('busy', { ok: false, status: 'BUSY' });
    if (this.hashPool.full) return busy();
    const now = this.clock.now();
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
    const how: IdLookup = login.includes('@') ? 'email' : 'name';
    const member = await this.members.lookup(how, login);
    const locked = member !== null && isLocked(member, now);
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
      this.members.dummyCompare(hash);
      await this.events.record('authn_login_lock', { slaveId: null, memberId: member.id, data: { caller, reason: 'locked', locked_until: member.lockedUntil } }, now);
      return answer('wrong', { ok: false, status: 'WRONG_AUTH' });
    }
    const result = await this.logins.login(how, login, hash, caller, null);
    if (result.status === 'SUCCESS') {
      await this.uncountAttempt(attemptKey);
      return answer('success', { ok: true, memberId: result.member.id, name: result.member.name, epoch: result.member.sessionEpoch });
    }
    return answer('wrong', { ok: false, status: 'WRONG_AUTH' });
  }

  /** Approval: a web key gets a fresh approved frob to send to its callback; a desktop frob is approved. */
  async approve(params: [string, string][], memberId: number): Promise<{ ok: true; redirect: string | null } | { ok: false; error: string }> {
    const link = await this.check(params);
    if (!link.ok) return link;
    const now = this.clock.now();
    if (link.app.type === 'desktop') {
      const approved = await this.grants.approveFrob(link.app.apiKey, link.frob!, memberId, link.grant, now);
      return approved ? { ok: true, redirect: null } : { ok: false, error: 'The authorization request has expired or was already used.' };
    }
    const frob = await this.grants.newFrob(link.app.apiKey, now, { memberId, permissions: link.grant });
    const url = new URL(link.app.callbackUrl!);
    url.searchParams.set('frob', frob);
    return { ok: true, redirect: url.toString() };
  }
}
