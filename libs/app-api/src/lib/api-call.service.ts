import { isIP } from 'node:net';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type IORedis from 'ioredis';
import { CLOCK, Clock, MembersService, SlavesService } from '@switchboard/identity';
import { REDIS } from '@switchboard/redis';
import { AppKey, AppKeysService } from './app-keys.service';
import { ApiNode, el } from './envelope';
import { ApiError } from './errors';
import { GrantsService, TokenInfo } from './grants.service';
import { METHODS, MethodSpec, findMethod } from './methods';
import { Grant, allows, permissionAttributes } from './permissions';
import { SignedParams, hasForbiddenCharacters, verifyHmac, verifyMd5 } from './signature';
import { parseMemberId, usableEmail, usableName } from '@switchboard/input-rules';

export const API_OPTIONS = Symbol('API_OPTIONS');
export interface ApiOptions {
  /** Requests per minute from one client address (113). */
  clientLimitPerMinute: number;
  /** Tokens unused this long stop working; 0 = never (A5). */
  tokenIdleMs: number;
}

/** A call as the gateway hands it over: parameters decoded, a repeated name reduced to its last value. */
export interface ApiCall {
  method: string;
  httpMethod: string;
  params: SignedParams;
  /** Some name or value was not well-formed UTF-8 (the gateway cannot pass it on as text). */
  undecodable: boolean;
  remoteAddress: string | null;
}

export type ApiResult = { ok: true; payload: ApiNode[] } | { ok: false; code: number; message: string; retryAfter?: number };

const NONCE = /^[A-Za-z0-9_-]{8,64}$/;
const NONCE_TTL_S = 600;
/** When the nonce store began keeping nonces (unix seconds); absent after Redis lost its data. */
const NONCE_EPOCH = 'switchboard:api:nonce-epoch';
/**
 * Claims a nonce in one round trip (A3). A call signed before the store's epoch is refused: if Redis
 * lost its data (restart without persistence, flush), the nonces it held are gone and such a call
 * may be a replay. KEYS: epoch, nonce; ARGV: now (s), ts, ttl (s). Answers OK, USED or STALE.
 */
const CLAIM_NONCE = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  redis.call('SET', KEYS[1], ARGV[1])
  epoch = ARGV[1]
end
if tonumber(ARGV[2]) < tonumber(epoch) then return 'STALE' end
if redis.call('SET', KEYS[2], '1', 'EX', ARGV[3], 'NX') then return 'OK' end
return 'USED'`;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

/** Whether `ip` is in one of `networks` (IPv4 CIDR or exact addresses; IPv4-mapped IPv6 handled). */
export function inNetworks(ip: string, networks: string[]): boolean {
  const addr = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return networks.some((net) => {
    const [base, bits] = net.split('/');
    if (isIP(addr) === 4 && isIP(base) === 4) {
      const n = bits === undefined ? 32 : Number(bits);
      const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
      return (ipv4ToInt(addr) & mask) === (ipv4ToInt(base) & mask);
    }
    return addr.toLowerCase() === base.toLowerCase();
  });
}

/**
 * Runs an application API call (spec §1–§5) in the auth service, which owns keys, frobs, tokens and
 * grants, in the error precedence of A7: 103 method → 100/101 key → 111 address → 112/113 quota →
 * 120 POST → 104/105 signature → 106/107 token → 108 account → 110 permission → method-local.
 */
@Injectable()
export class ApiCallService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ApiCall');
  private readonly onRedisReady = () => void this.markNonceEpoch();

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
    private readonly keys: AppKeysService,
    private readonly grants: GrantsService,
    private readonly members: MembersService,
    private readonly slaves: SlavesService,
  ) {}

  onModuleInit() {
    // The epoch is set when the store is first reached, and again (if missing) after every reconnect:
    // a Redis that came back empty starts a new epoch at once, before any call claims a nonce.
    this.redis.on('ready', this.onRedisReady);
    if (this.redis.status === 'ready') this.onRedisReady();
  }

  onModuleDestroy() {
    this.redis.off('ready', this.onRedisReady);
  }

  private async markNonceEpoch() {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    await this.redis.set(NONCE_EPOCH, String(now), 'NX').catch((err: Error) => this.logger.warn(`nonce epoch not stored: ${err.message}`));
  }

  async call(call: ApiCall): Promise<ApiResult> {
    let apiKey: string | undefined;
    try {
      const result = await this.run(call, (k) => (apiKey = k));
      if (apiKey) await this.count(apiKey, 'calls');
      return { ok: true, payload: result };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (apiKey) {
        await this.count(apiKey, 'calls');
        await this.count(apiKey, 'errors');
      }
      const retryAfter = err.code === 112 || err.code === 113 ? 60 : err.code === 503 ? 5 : undefined;
      return { ok: false, code: err.code, message: err.message, ...(retryAfter ? { retryAfter } : {}) };
    }
  }

  private day(): string {
    return this.clock.now().toISOString().slice(0, 10);
  }

  private async count(apiKey: string, field: 'calls' | 'errors') {
    const key = `switchboard:api:usage:${apiKey}:${this.day()}`;
    await this.redis.multi().hincrby(key, field, 1).expire(key, 40 * 86_400).exec().catch(() => undefined);
  }

  /** Usage per day for the admin API, newest first. */
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

  private param(call: ApiCall, name: string): string | undefined {
    const v = call.params.find(([k]) => k === name)?.[1];
    return v === '' ? undefined : v;
  }

  private async limits(call: ApiCall, key: AppKey) {
    const minute = Math.floor(this.clock.now().getTime() / 60_000);
    try {
      if (call.remoteAddress) {
        const k = `switchboard:api:client:${call.remoteAddress}:${minute}`;
        const [[, n]] = (await this.redis.multi().incr(k).expire(k, 120).exec()) as [[Error | null, number]];
        if (n > this.options.clientLimitPerMinute) throw new ApiError(113);
      }
      if (key.dailyQuota !== null) {
        const k = `switchboard:api:quota:${key.apiKey}:${this.day()}`;
        const [[, n]] = (await this.redis.multi().incr(k).expire(k, 2 * 86_400).exec()) as [[Error | null, number]];
        if (n > key.dailyQuota) throw new ApiError(112);
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      this.logger.warn(`rate limits unavailable: ${(err as Error).message}`); // Redis away: serve
    }
  }

  private async checkSignature(call: ApiCall, method: MethodSpec, key: AppKey) {
    const sig = this.param(call, 'api_sig');
    const signed = call.params.filter(([k]) => k !== 'api_sig');
    const required = method.sign || this.param(call, 'auth_token') !== undefined || key.alwaysSigned || key.signatureMode === 'hmac-sha256';
    if (sig === undefined) {
      if (required) throw new ApiError(104);
      return;
    }
    if (key.signatureMode === 'hmac-sha256') {
      const ts = Number(this.param(call, 'ts'));
      const nonce = this.param(call, 'nonce');
      const now = this.clock.now().getTime() / 1000;
      if (!Number.isInteger(ts) || Math.abs(now - ts) > 300 || !nonce || !NONCE.test(nonce)) throw new ApiError(105, 'The query signature is invalid (ts or nonce missing or out of range).');
      if (!verifyHmac(sig, signed, call.method, key.secret)) throw new ApiError(105);
      // Fail closed: a nonce that cannot be recorded as used is not accepted (503, never "OK").
      let claim: unknown;
      try {
        claim = await this.redis.eval(CLAIM_NONCE, 2, NONCE_EPOCH, `switchboard:api:nonce:${key.apiKey}:${nonce}`, String(Math.floor(now)), String(ts), String(NONCE_TTL_S));
      } catch (err) {
        this.logger.warn(`hmac-sha256 call refused with 503: the nonce store cannot be written: ${(err as Error).message}`);
        throw new ApiError(503);
      }
      if (claim === 'USED') throw new ApiError(105, 'The query signature is invalid (nonce already used).');
      if (claim === 'STALE') throw new ApiError(105, 'The query signature is invalid (ts predates the nonce store; sign again with the current time).');
      if (claim !== 'OK') throw new ApiError(503);
      return;
    }
    if (!verifyMd5(sig, signed, call.method, key.secret, key.acceptOrderA)) throw new ApiError(105);
  }

  private async run(call: ApiCall, keyKnown: (apiKey: string) => void): Promise<ApiNode[]> {
    const method = findMethod(call.method);
    if (!method) throw new ApiError(103);
    // api.methods.* answer without a key (PyIpernity's helper asks so); with one, it is checked.
    const apiKey = this.param(call, 'api_key');
    if (!apiKey && method.name.startsWith('api.methods.')) return this.handle(method, call, null, null);
    if (!apiKey) throw new ApiError(100);
    const key = await this.keys.get(apiKey);
    if (!key || !key.enabled) throw new ApiError(101);
    keyKnown(key.apiKey);
    if (key.allowedNetworks.length && !(call.remoteAddress && inNetworks(call.remoteAddress, key.allowedNetworks))) throw new ApiError(111);
    await this.limits(call, key);
    if (method.post && call.httpMethod !== 'POST') throw new ApiError(120);
    if (call.undecodable || call.params.some(([k, v]) => hasForbiddenCharacters(k) || hasForbiddenCharacters(v))) {
      this.logger.warn(`call refused with 105: a parameter is not well-formed UTF-8 or holds control characters`);
      throw new ApiError(105);
    }
    await this.checkSignature(call, method, key);
    let auth: TokenInfo | null = null;
    const token = this.param(call, 'auth_token');
    if (token !== undefined) {
      auth = await this.grants.resolve(key.apiKey, token, this.options.tokenIdleMs, this.clock.now());
      if (!auth) throw new ApiError(107);
      if (auth.member.banned) throw new ApiError(108);
    } else if (method.token) {
      throw new ApiError(106);
    }
    if (method.token && !allows(auth!.grant.permissions as Grant, method.permissions)) throw new ApiError(110);
    return this.handle(method, call, key, auth);
  }

  private userNode(member: { id: number; name: string }, extra: Record<string, string | number | boolean> = {}): ApiNode {
    return el('user', { user_id: member.id, username: member.name, realname: member.name, lg: 'en', is_pro: '0', ...extra });
  }

  private authNode(token: string, auth: TokenInfo): ApiNode {
    return el('auth', {}, [el('token', {}, token), el('permissions', permissionAttributes(auth.grant.permissions as Grant)), this.userNode(auth.member)]);
  }

  private methodNode(m: MethodSpec, detail: boolean): ApiNode {
    const children: ApiNode[] = [
      el('authentication', { post: m.post, sign: m.sign, token: m.token }),
      { ...el('permissions', m.permissions as Record<string, string>) },
    ];
    if (detail) {
      children.push(el('parameters', {}, m.parameters.map((p) => ({ ...el('parameter', { name: p.name, required: p.required }, p.about), list: true }))));
      children.push(el('errors', {}, m.errors.map((e) => ({ ...el('error', { code: e.code }, e.message), list: true }))));
    }
    return { ...el('method', { name: m.name, title: m.title, about: m.about }, children), list: !detail };
  }

  private async handle(method: MethodSpec, call: ApiCall, key: AppKey | null, auth: TokenInfo | null): Promise<ApiNode[]> {
    const now = this.clock.now();
    switch (method.name) {
      case 'test.hello':
        return [el('hello', {}, 'hello world!')];
      case 'test.echo': {
        const echo = this.param(call, 'echo');
        if (echo === undefined) throw new ApiError(1, 'Nothing to echo: the echo parameter was empty or not sent.');
        return [el('echo', {}, echo)];
      }
      case 'api.methods.getList':
        return [el('methods', {}, METHODS.map((m) => this.methodNode(m, false)))];
      case 'api.methods.get': {
        const target = findMethod(this.param(call, 'method'));
        if (!target) throw new ApiError(1, 'The method is missing or unknown.');
        return [this.methodNode(target, true)];
      }
      case 'auth.getFrob':
        return [el('auth', {}, [el('frob', {}, await this.grants.newFrob(key!.apiKey, now))])];
      case 'auth.getToken': {
        const frob = this.param(call, 'frob');
        if (frob === undefined) throw new ApiError(1, 'The frob is missing.');
        const result = await this.grants.exchange(key!.apiKey, frob, now);
        if (!result) throw new ApiError(2, 'The passed frob is either invalid or already used.');
        const resolved = await this.grants.resolve(key!.apiKey, result.token, 0, now);
        return [this.authNode(result.token, resolved!)];
      }
      case 'auth.checkToken':
        return [this.authNode(this.param(call, 'auth_token')!, auth!)];
      case 'auth.revokeToken':
        await this.grants.revoke(auth!.grant.id);
        return [el('revoked', {}, '1')];
      case 'user.get': {
        const id = parseMemberId(this.param(call, 'user_id'));
        const member = id === null ? null : await this.members.findById(id);
        if (!member) throw new ApiError(1, 'User not found.');
        return [this.userNode(member)];
      }
      case 'account.get': {
        const m = auth!.member;
        return [this.userNode(m, { email: m.email, validating: m.validating || m.revalidateUrl !== null, banned: m.banned })];
      }
      case 'account.setName':
      case 'account.setEmail': {
        const isName = method.name === 'account.setName';
        const value = this.param(call, isName ? 'name' : 'email');
        const valid = (isName ? usableName(value) : usableEmail(value)) !== undefined;
        if (!valid) throw new ApiError(1, isName ? 'The name is missing or invalid.' : 'The e-mail address is missing or invalid.');
        // "Already in use" tells whether an account exists: limited per member and per key, checked
        // before the change is even tried, so that over the limit nothing is learnt (issue 10 §2).
        const inUse = inUseCounters(key!.apiKey, auth!.member.id, now);
        await this.checkInUseLimits(inUse);
        // The same code path as IPS Connect changeName / changeEmail: uniqueness, outbox, propagation.
        const origin = { slaveId: null, source: 'api' };
        const outcome = isName
          ? await this.members.changeName(auth!.member.id, value!, origin, now)
          : await this.members.changeEmail(auth!.member.id, value!, origin, now);
        if (outcome === 'in_use') {
          await this.countInUse(inUse);
          throw new ApiError(2, isName ? 'This name is already in use.' : 'This e-mail address is already in use.');
        }
        const member = (await this.members.findById(auth!.member.id))!;
        return [this.userNode(member, { email: member.email })];
      }
      case 'network.sites.getList': {
        const sites = await this.slaves.enabledWithKeys();
        return [el('sites', {}, sites.map((s) => ({ ...el('site', { id: s.id, url: s.url, name: new URL(s.url).host }), list: true })))];
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

/**
 * `account.setName` / `account.setEmail` answers "already in use" (code 2) at most this often per
 * clock hour: per member (whatever the key) and per application key (whatever the member). Past it,
 * code 3 until the hour ends, before any change is tried (docs/application-api.md).
 */
export const IN_USE_LIMITS = {
  perMemberPerHour: 5,
  perKeyPerHour: 50,
  message: 'Too many names or e-mail addresses already in use were tried. Try again in an hour.',
} as const;

function inUseCounters(apiKey: string, memberId: number, now: Date) {
  const hour = Math.floor(now.getTime() / 3_600_000);
  return { member: `switchboard:api:in-use:member:${memberId}:${hour}`, key: `switchboard:api:in-use:key:${apiKey}:${hour}` };
}
