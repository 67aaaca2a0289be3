import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type IORedis from 'ioredis';
import { sha256Hex } from '@switchboard/crypto';
import { CLOCK, Clock } from '@switchboard/identity';
import { parseMemberId } from '@switchboard/input-rules';
import { GatewayKeyring } from '@switchboard/ips-connect';
import { REDIS } from '@switchboard/redis';
import { ApiCall, ApiExecution, ApiResult, AppKeyMaterial, EXECUTED_IN_AUTH, authNode, errorResult, inNetworks, methodNode, paramOf, userNode } from './api-call';
import { ApiRead, ApiReads, ApiToken, TokenUse } from './api-reads';
import { ApiNode, el } from './envelope';
import { ApiError } from './errors';
import { GatewayAppKeys } from './gateway-app-keys';
import { METHODS, MethodSpec, findMethod } from './methods';
import { Grant, allows } from './permissions';
import { hasForbiddenCharacters, verifyHmac, verifyMd5 } from './signature';

export const API_OPTIONS = Symbol('API_OPTIONS');
export interface ApiOptions {
  /** Requests per minute from one client address (113). */
  clientLimitPerMinute: number;
  /** Tokens unused this long stop working; 0 = never (A5). */
  tokenIdleMs: number;
}

/** Executes a checked call of a method that changes what auth owns (EXECUTED_IN_AUTH): the AuthClient. */
export interface ApiExecutor {
  apiExecute(execution: ApiExecution): Promise<ApiResult>;
}
export const API_EXECUTOR = Symbol('API_EXECUTOR');

const API_KEY_FORMAT = /^[0-9a-f]{32}$/;
const NONCE = /^[A-Za-z0-9_-]{8,64}$/;
const NONCE_TTL_S = 600;
/** When the nonce store began keeping nonces (unix seconds); absent after Redis lost its data. */
export const NONCE_EPOCH = 'switchboard:api:nonce-epoch';
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

/**
 * Runs every application API call in the gateway (spec §1–§5), in the error precedence of A7:
 * 103 method → 100/101 key → 111 address → 112/113 quota → 120 POST → 104/105 signature →
 * 106/107 token → 108 account → 110 permission → method-local.
 *
 * Per call: one prepared statement (keyring version, token with grant and member, user.get's
 * member), the key from the gateway's copy of the application keys at that version, the limits,
 * nonces, usage and token last use in the gateway's own Redis families. Methods that only read run
 * here; the ones that change what auth owns (EXECUTED_IN_AUTH) run in auth once checked here.
 */
@Injectable()
export class ApiGatewayService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ApiCall');
  private readonly onRedisReady = () => void this.markNonceEpoch();

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
    @Inject(API_EXECUTOR) private readonly executor: ApiExecutor,
    private readonly keys: GatewayAppKeys,
    private readonly reads: ApiReads,
    private readonly tokenUse: TokenUse,
    private readonly keyring: GatewayKeyring,
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

  /** The answer to a call; throws (answered 503 by the controller) when a store or auth cannot answer. */
  async call(call: ApiCall): Promise<ApiResult> {
    let apiKey: string | undefined;
    let result: ApiResult;
    try {
      result = await this.run(call, (k) => (apiKey = k));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      result = errorResult(err);
    }
    if (apiKey) this.count(apiKey, !result.ok);
    return result;
  }

  private day(): string {
    return this.clock.now().toISOString().slice(0, 10);
  }

  /**
   * Usage per key and day (calls, errors), in one round trip that the answer does not wait for: the
   * command is on the connection before the answer is sent, so a later read sees it.
   */
  private count(apiKey: string, error: boolean): void {
    const key = `switchboard:api:usage:${apiKey}:${this.day()}`;
    const tx = this.redis.multi().hincrby(key, 'calls', 1);
    if (error) tx.hincrby(key, 'errors', 1);
    tx.expire(key, 40 * 86_400)
      .exec()
      .catch(() => undefined);
  }

  private async limits(call: ApiCall, key: AppKeyMaterial) {
    const minute = Math.floor(this.clock.now().getTime() / 60_000);
    try {
      // Both counters in one round trip (113 is checked before 112, as A7 orders them).
      if (!call.remoteAddress && key.dailyQuota === null) return;
      const tx = this.redis.multi();
      const client = call.remoteAddress ? `switchboard:api:client:${call.remoteAddress}:${minute}` : null;
      const quota = key.dailyQuota !== null ? `switchboard:api:quota:${key.apiKey}:${this.day()}` : null;
      if (client) tx.incr(client).expire(client, 120);
      if (quota) tx.incr(quota).expire(quota, 2 * 86_400);
      const replies = (await tx.exec()) as [Error | null, number][] | null;
      if (!replies) throw new Error('rate limit counters: no answer');
      if (client && replies[0][1] > this.options.clientLimitPerMinute) throw new ApiError(113);
      if (quota && replies[client ? 2 : 0][1] > key.dailyQuota!) throw new ApiError(112);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      this.logger.warn(`rate limits unavailable: ${(err as Error).message}`); // Redis away: serve
    }
  }

  private async checkSignature(call: ApiCall, method: MethodSpec, key: AppKeyMaterial) {
    const sig = paramOf(call.params, 'api_sig');
    const signed = call.params.filter(([k]) => k !== 'api_sig');
    const required = method.sign || paramOf(call.params, 'auth_token') !== undefined || key.alwaysSigned || key.signatureMode === 'hmac-sha256';
    if (sig === undefined) {
      if (required) throw new ApiError(104);
      return;
    }
    if (key.signatureMode === 'hmac-sha256') {
      const ts = Number(paramOf(call.params, 'ts'));
      const nonce = paramOf(call.params, 'nonce');
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

  /** A token is live unless idle longer than API_TOKEN_IDLE: its last use is the later of the row's and the gateway's record. */
  private async live(token: ApiToken, digest: string, now: number): Promise<boolean> {
    const idleMs = this.options.tokenIdleMs;
    if (idleMs > 0 && now - token.usedAt > idleMs) {
      let recorded: number | null;
      try {
        recorded = await this.tokenUse.lastUse(digest);
      } catch (err) {
        // The idle rule cannot be checked: refused as unavailable, never served nor ended.
        this.logger.warn(`token refused with 503: its last use cannot be read: ${(err as Error).message}`);
        throw new ApiError(503);
      }
      if (recorded === null || now - recorded > idleMs) return false;
    }
    this.tokenUse.touch(digest, now, idleMs);
    return true;
  }

  private async run(call: ApiCall, keyKnown: (apiKey: string) => void): Promise<ApiResult> {
    const method = findMethod(call.method);
    if (!method) throw new ApiError(103);
    // api.methods.* answer without a key (PyIpernity's helper asks so); with one, it is checked.
    const apiKey = paramOf(call.params, 'api_key');
    if (!apiKey && method.name.startsWith('api.methods.')) return this.local(method, call, null);
    if (!apiKey) throw new ApiError(100);
    // A key that is not as issued names no key at any version: no statement, no fetch.
    if (!API_KEY_FORMAT.test(apiKey)) throw new ApiError(101);
    const token = paramOf(call.params, 'auth_token');
    const digest = token === undefined ? null : sha256Hex(token);
    const userId = method.name === 'user.get' ? parseMemberId(paramOf(call.params, 'user_id')) : null;
    const read = await this.reads.read(digest, apiKey, userId);
    const key = await this.keys.get(apiKey, read.version);
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
    let auth: ApiToken | null = null;
    if (token !== undefined) {
      auth = read.token && (await this.live(read.token, digest!, this.clock.now().getTime())) ? read.token : null;
      if (!auth) throw new ApiError(107);
      if (auth.member.banned) throw new ApiError(108);
    } else if (method.token) {
      throw new ApiError(106);
    }
    if (method.token && !allows(auth!.permissions as Grant, method.permissions)) throw new ApiError(110);
    if (EXECUTED_IN_AUTH.has(method.name)) {
      const names = new Set(method.parameters.map((p) => p.name).filter((n) => n !== 'api_key' && n !== 'auth_token'));
      return this.executor.apiExecute({
        method: method.name,
        apiKey: key.apiKey,
        grantId: auth?.grantId ?? null,
        memberId: auth?.member.id ?? null,
        params: call.params.filter(([k]) => names.has(k)),
      });
    }
    return this.local(method, call, { read, token: auth });
  }

  /** The methods that only read, answered from this call's statement and the gateway's key copies. */
  private async local(method: MethodSpec, call: ApiCall, ctx: { read: ApiRead; token: ApiToken | null } | null): Promise<ApiResult> {
    const payload = (p: ApiNode[]): ApiResult => ({ ok: true, payload: p });
    switch (method.name) {
      case 'test.hello':
        return payload([el('hello', {}, 'hello world!')]);
      case 'test.echo': {
        const echo = paramOf(call.params, 'echo');
        if (echo === undefined) throw new ApiError(1, 'Nothing to echo: the echo parameter was empty or not sent.');
        return payload([el('echo', {}, echo)]);
      }
      case 'api.methods.getList':
        return payload([el('methods', {}, METHODS.map((m) => methodNode(m, false)))]);
      case 'api.methods.get': {
        const target = findMethod(paramOf(call.params, 'method'));
        if (!target) throw new ApiError(1, 'The method is missing or unknown.');
        return payload([methodNode(target, true)]);
      }
      case 'auth.checkToken':
        return payload([authNode(paramOf(call.params, 'auth_token')!, ctx!.token!.permissions as Grant, ctx!.token!.member)]);
      case 'user.get': {
        const member = ctx!.read.user;
        if (!member) throw new ApiError(1, 'User not found.');
        return payload([userNode(member)]);
      }
      case 'account.get': {
        const m = ctx!.token!.member;
        return payload([userNode(m, { email: m.email, validating: m.validating || m.revalidate_url !== null, banned: m.banned })]);
      }
      case 'network.sites.getList': {
        // The slaves come with the IPS key material, at the version this call's statement read.
        const keys = await this.keyring.atLeast(ctx!.read.version);
        const sites = keys.slaves.filter((s) => s.enabled && s.slaveKey !== null).sort((a, b) => a.id - b.id);
        return payload([el('sites', {}, sites.map((s) => ({ ...el('site', { id: s.id, url: s.url, name: new URL(s.url).host }), list: true })))]);
      }
      default:
        throw new ApiError(103);
    }
  }
}
