import { Inject, Injectable, Logger } from '@nestjs/common';
import type IORedis from 'ioredis';
import { CLOCK, Clock, MembersService } from '@switchboard/identity';
import { usableEmail, usableName } from '@switchboard/input-rules';
import { REDIS } from '@switchboard/redis';
import { ApiExecution, ApiResult, IN_USE_LIMITS, authNode, errorResult, paramOf, userNode } from './api-call';
import { AppKeysService } from './app-keys.service';
import { ApiNode, el } from './envelope';
import { ApiError } from './errors';
import { GrantsService } from './grants.service';
import type { Grant } from './permissions';

/**
 * Executes, in the auth service, the application API methods that change what it owns (frobs,
 * grants, tokens, members): the gateway has checked the call (key, limits, signature, token,
 * permission, in A7's order) and hands over the key, the grant and member behind the token and the
 * method's parameters (`POST /internal/api/execute`, trusted for its internal token). Also reads
 * the usage counters the gateway keeps, for the admin API.
 */
@Injectable()
export class ApiExecuteService {
  private readonly logger = new Logger('ApiExecute');

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REDIS) private readonly redis: IORedis,
    private readonly keys: AppKeysService,
    private readonly grants: GrantsService,
    private readonly members: MembersService,
  ) {}

  async execute(x: ApiExecution): Promise<ApiResult> {
    try {
      return { ok: true, payload: await this.run(x) };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return errorResult(err);
    }
  }

  /** Usage per day for the admin API, newest first (counted by the gateway). */
  async usage(apiKey: string, days: number): Promise<{ day: string; calls: number; errors: number }[]> {
    const out = [];
    const now = this.clock.now().getTime();
    for (let i = 0; i < days; i++) {
      const day = new Date(now - i * 86_400_000).toISOString().slice(0, 10);
      const h = await this.redis.hgetall(`switchboard:api:usage:${apiKey}:${day}`).catch(() => ({}) as Record<string, string>);
      out.push({ day, calls: Number(h['calls'] ?? 0), errors: Number(h['errors'] ?? 0) });
    }
    return out;
  }

  private async run(x: ApiExecution): Promise<ApiNode[]> {
    const now = this.clock.now();
    // A key disabled or deleted between the gateway's check and this execution is refused as there.
    const key = await this.keys.get(x.apiKey);
    if (!key || !key.enabled) throw new ApiError(101);
    switch (x.method) {
      case 'auth.getFrob':
        return [el('auth', {}, [el('frob', {}, await this.grants.newFrob(key.apiKey, now))])];
      case 'auth.getToken': {
        const frob = paramOf(x.params, 'frob');
        if (frob === undefined) throw new ApiError(1, 'The frob is missing.');
        const result = await this.grants.exchange(key.apiKey, frob, now);
        if (!result) throw new ApiError(2, 'The passed frob is either invalid or already used.');
        const member = await this.members.findById(result.grant.memberId);
        if (!member) throw new ApiError(2, 'The passed frob is either invalid or already used.');
        return [authNode(result.token, result.grant.permissions as Grant, member)];
      }
      case 'auth.revokeToken':
        if (x.grantId === null) throw new ApiError(106);
        await this.grants.revoke(x.grantId);
        return [el('revoked', {}, '1')];
      case 'account.setName':
      case 'account.setEmail': {
        if (x.memberId === null) throw new ApiError(106);
        const memberId = x.memberId;
        const isName = x.method === 'account.setName';
        const value = paramOf(x.params, isName ? 'name' : 'email');
        const valid = (isName ? usableName(value) : usableEmail(value)) !== undefined;
        if (!valid) throw new ApiError(1, isName ? 'The name is missing or invalid.' : 'The e-mail address is missing or invalid.');
        // "Already in use" tells whether an account exists: limited per member and per key, checked
        // before the change is even tried, so that over the limit nothing is learnt (issue 10 §2).
        const inUse = inUseCounters(key.apiKey, memberId, now);
        await this.checkInUseLimits(inUse);
        // The same code path as IPS Connect changeName / changeEmail: uniqueness, outbox, propagation.
        const origin = { slaveId: null, source: 'api' };
        const outcome = isName ? await this.members.changeName(memberId, value!, origin, now) : await this.members.changeEmail(memberId, value!, origin, now);
        if (outcome === 'in_use') {
          await this.countInUse(inUse);
          throw new ApiError(2, isName ? 'This name is already in use.' : 'This e-mail address is already in use.');
        }
        const member = await this.members.findById(memberId);
        if (!member) throw new ApiError(107); // deleted since the gateway resolved the token
        return [userNode(member, { email: member.email })];
      }
      default:
        throw new ApiError(103);
    }
  }

  /** Refuses with code 3 when the member or the key is at its limit; Redis away → 503 (fails closed). */
  private async checkInUseLimits(c: { member: string; key: string }) {
    let counts: (string | null)[];
    try {
      counts = await this.redis.mget(c.member, c.key);
    } catch (err) {
      this.logger.warn(`account change refused: the "already in use" limit is unavailable: ${(err as Error).message}`);
      throw new ApiError(503);
    }
    if (Number(counts[0] ?? 0) >= IN_USE_LIMITS.perMemberPerHour || Number(counts[1] ?? 0) >= IN_USE_LIMITS.perKeyPerHour) {
      throw new ApiError(3, IN_USE_LIMITS.message);
    }
  }

  private async countInUse(c: { member: string; key: string }) {
    await this.redis
      .multi()
      .incr(c.member)
      .expire(c.member, 7200)
      .incr(c.key)
      .expire(c.key, 7200)
      .exec()
      .catch((err: Error) => this.logger.warn(`"already in use" answer not counted: ${err.message}`));
  }
}

function inUseCounters(apiKey: string, memberId: number, now: Date) {
  const hour = Math.floor(now.getTime() / 3_600_000);
  return { member: `switchboard:api:in-use:member:${memberId}:${hour}`, key: `switchboard:api:in-use:key:${apiKey}:${hour}` };
}
