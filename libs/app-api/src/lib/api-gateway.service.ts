import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type IORedis from 'ioredis';
import { sha256Hex } from '@switchboard/crypto';
import { CLOCK, Clock } from '@switchboard/identity';
import { parseMemberId } from '@switchboard/input-rules';
import { GatewayKeyring } from '@switchboard/ips-connect';
import { REDIS } from '@switchboard/redis';
import { ApiCall, ApiExecution, ApiResult, AppKeyMaterial, EXECUTED_IN_AUTH, authNode, errorResult, inNetworks, methodNode, paramOf, userNode } from './api-call';
import { ApiRead, ApiReads, ApiToken, TOKEN_USED_PREFIX, TokenUse } from './api-reads';
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
  apiExecute(execution: ApiExecution, requestId?: string | null): Promise<ApiResult>;
}
export const API_EXECUTOR = Symbol('API_EXECUTOR');

const API_KEY_FORMAT = /^[0-9a-f]{32}$/;
const NONCE = /^[A-Za-z0-9_-]{8,64}$/;
const NONCE_TTL_S = 600;
/** When the nonce store began keeping nonces (unix seconds); absent after Redis lost its data. */
export const NONCE_EPOCH = 'switchboard:api:nonce-epoch';
const USAGE_TTL_S = 40 * 86_400;
/**
 * The one Redis round trip of a call (all keys in the gateway's own families, declared in KEYS):
 * - usage per key and day (KEYS[1], a hash: `calls`, and `errors` when the call is already known
 *   to fail: ARGV[7] = 1, a limit reached or a nonce refused);
 * - the per-address counter of the minute (113; when ARGV[1], the limit, is not empty) and the
 *   key's counter of the day (112; when ARGV[2], the quota, is not empty), both counted always,
 *   113 checked before 112 as A7 orders them;
 * - with ARGV[3] = 1 (an hmac-sha256 call whose signature is valid), the nonce (A3), claimed only
 *   when no limit was reached: a call signed (ARGV[5], ts) before the nonce store's epoch (which it
 *   sets to ARGV[4], now, when missing) is refused, since a Redis that lost its data lost the nonces
 *   it held; else the nonce is set for ARGV[6] seconds unless it exists;
 * - with ARGV[8] = 1, the token's last use (A5 idle expiry) is read.
 * Answers {limit (0, 112 or 113), nonce (-1 not asked, 0 claimed, 1 used, 2 stale), last use}.
 */
export const CALL_SCRIPT = `
local k = 2
local limit = 0
if ARGV[1] ~= '' then
  local n = redis.call('INCR', KEYS[k])
  redis.call('EXPIRE', KEYS[k], 120)
  k = k + 1
  if n > tonumber(ARGV[1]) then limit = 113 end
end
if ARGV[2] ~= '' then
  local n = redis.call('INCR', KEYS[k])
  redis.call('EXPIRE', KEYS[k], 172800)
  k = k + 1
  if limit == 0 and n > tonumber(ARGV[2]) then limit = 112 end
end
local nonce = -1
if ARGV[3] == '1' then
  if limit == 0 then
    local epoch = redis.call('GET', KEYS[k])
    if not epoch then
      redis.call('SET', KEYS[k], ARGV[4])
      epoch = ARGV[4]
    end
    if tonumber(ARGV[5]) < tonumber(epoch) then
      nonce = 2
    elseif redis.call('SET', KEYS[k + 1], '1', 'EX', ARGV[6], 'NX') then
      nonce = 0
    else
      nonce = 1
    end
  end
  k = k + 2
end
local used = false
if ARGV[8] == '1' then used = redis.call('GET', KEYS[k]) end
redis.call('HINCRBY', KEYS[1], 'calls', 1)
if limit ~= 0 or nonce > 0 or ARGV[7] == '1' then redis.call('HINCRBY', KEYS[1], 'errors', 1) end
redis.call('EXPIRE', KEYS[1], ${USAGE_TTL_S})
return {limit, nonce, used}`;

interface Queued {
  keys: string[];
  args: string[];
  resolve: (reply: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs CALL_SCRIPT for the calls that reach their round trip in the same turn of the event loop
 * as one pipeline: one write to Redis and one read of its answers for all of them, instead of one
 * each (at 50 calls in flight, the socket writes are the larger part of a round trip's cost). The
 * batch leaves at the end of the turn (setImmediate); each call still gets its own answer or error.
 * Nothing else of a call waits on this connection meanwhile: the writes issued after a round trip
 * (TokenUse, usage of a later error) start once its answer came.
 */
export class ScriptBatch {
  private queue: Queued[] = [];
  private readonly digest: string;

  constructor(
    private readonly redis: IORedis,
    private readonly script: string,
  ) {
    this.digest = createHash('sha1').update(script).digest('hex');
  }

  run(keys: string[], args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.queue.push({ keys, args, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  /** The script by its digest, sent in full when Redis does not hold it yet (NOSCRIPT: after a restart). */
  private async one(c: Queued): Promise<unknown> {
    try {
      return await this.redis.evalsha(this.digest, c.keys.length, ...c.keys, ...c.args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return this.redis.eval(this.script, c.keys.length, ...c.keys, ...c.args);
    }
  }

  private flush() {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 1) {
      this.one(batch[0]).then(batch[0].resolve, batch[0].reject);
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const c of batch) pipeline.evalsha(this.digest, c.keys.length, ...c.keys, ...c.args);
    pipeline.exec().then(
      (results) => {
        batch.forEach((c, i) => {
          const [err, reply] = results?.[i] ?? [new Error('no answer'), null];
          if (!err) c.resolve(reply);
          else if (isNoScript(err)) this.one(c).then(c.resolve, c.reject);
          else c.reject(err);
        });
      },
      (err: unknown) => batch.forEach((c) => c.reject(err)),
    );
  }
}

const isNoScript = (err: unknown) => typeof (err as Error)?.message === 'string' && (err as Error).message.startsWith('NOSCRIPT');

/** What the call's round trip answered (CALL_SCRIPT). */
interface RoundTrip {
  limit: number;
  nonce: number;
  /** The token's recorded last use (epoch ms), when asked; null when none is recorded. */
  lastUse: number | null;
}

/** What the usage counters already hold of a call (the round trip counts it, and its error when known then). */
interface Counted {
  apiKey?: string;
  calls: boolean;
  errors: boolean;
}

/**
 * Runs every application API call in the gateway (spec §1–§5), in the error precedence of A7:
 * 103 method → 100/101 key → 111 address → 112/113 quota → 120 POST → 104/105 signature →
 * 106/107 token → 108 account → 110 permission → method-local.
 *
 * Per call: one prepared statement (keyring version, token with grant and member, user.get's
 * member), the key from the gateway's copy of the application keys at that version, then one Redis
 * round trip (CALL_SCRIPT: limits, nonce, usage, token last use, in the gateway's own families).
 * The checks that need no store (120, 104/105) run before it and their error is answered after the
 * limits it counts, so A7's order holds. Methods that only read run here; the ones that change what
 * auth owns (EXECUTED_IN_AUTH) run in auth once checked here.
 */
@Injectable()
export class ApiGatewayService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ApiCall');
  private readonly onRedisReady = () => void this.markNonceEpoch();
  private readonly batch: ScriptBatch;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
    @Inject(API_EXECUTOR) private readonly executor: ApiExecutor,
    private readonly keys: GatewayAppKeys,
    private readonly reads: ApiReads,
    private readonly tokenUse: TokenUse,
    private readonly keyring: GatewayKeyring,
  ) {
    this.batch = new ScriptBatch(redis, CALL_SCRIPT);
  }

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
    const counted: Counted = { calls: false, errors: false };
    let result: ApiResult;
    try {
      result = await this.run(call, counted);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      result = errorResult(err);
    }
    if (counted.apiKey && (!counted.calls || (!result.ok && !counted.errors))) this.count(counted.apiKey, !counted.calls, !result.ok);
    return result;
  }

  private day(now: number): string {
    return new Date(now).toISOString().slice(0, 10);
  }

  /**
   * Usage per key and day that the call's round trip did not count (a call refused before it, an
   * error found after it), in one round trip the answer does not wait for: the command is on the
   * connection before the answer is sent, so a later read sees it.
   */
  private count(apiKey: string, call: boolean, error: boolean): void {
    const key = `switchboard:api:usage:${apiKey}:${this.day(this.clock.now().getTime())}`;
    const tx = this.redis.multi();
    if (call) tx.hincrby(key, 'calls', 1);
    if (error) tx.hincrby(key, 'errors', 1);
    tx.expire(key, USAGE_TTL_S)
      .exec()
      .catch(() => undefined);
  }

  /**
   * The call's one Redis round trip (CALL_SCRIPT): usage, limits, the nonce to claim, the token's
   * last use to read. Null when Redis cannot answer.
   */
  private async roundTrip(
    call: ApiCall,
    key: AppKeyMaterial,
    now: number,
    failing: boolean,
    nonce: { value: string; ts: number } | null,
    tokenDigest: string | null,
  ): Promise<RoundTrip | null> {
    const day = this.day(now);
    const keys = [`switchboard:api:usage:${key.apiKey}:${day}`];
    const args = ['', '', nonce ? '1' : '0', String(Math.floor(now / 1000)), nonce ? String(nonce.ts) : '', String(NONCE_TTL_S), failing ? '1' : '0', tokenDigest ? '1' : '0'];
    if (call.remoteAddress) {
      keys.push(`switchboard:api:client:${call.remoteAddress}:${Math.floor(now / 60_000)}`);
      args[0] = String(this.options.clientLimitPerMinute);
    }
    if (key.dailyQuota !== null) {
      keys.push(`switchboard:api:quota:${key.apiKey}:${day}`);
      args[1] = String(key.dailyQuota);
    }
    if (nonce) keys.push(NONCE_EPOCH, `switchboard:api:nonce:${key.apiKey}:${nonce.value}`);
    if (tokenDigest) keys.push(TOKEN_USED_PREFIX + tokenDigest);
    try {
      const reply = (await this.batch.run(keys, args)) as [number, number, string | null | undefined];
      const used = reply[2] == null ? NaN : Number(reply[2]);
      return { limit: Number(reply[0]), nonce: Number(reply[1]), lastUse: Number.isFinite(used) ? used : null };
    } catch (err) {
      this.logger.warn(`rate limits unavailable: ${(err as Error).message}`); // Redis away: served, unless a nonce or a last use is needed
      return null;
    }
  }

  /**
   * The signature (A2–A3), checked without a store: throws 104/105; answers the nonce to claim
   * (hmac-sha256), or null.
   */
  private checkSignature(call: ApiCall, method: MethodSpec, key: AppKeyMaterial, now: number): { value: string; ts: number } | null {
    const sig = paramOf(call.params, 'api_sig');
    const signed = call.params.filter(([k]) => k !== 'api_sig');
    const required = method.sign || paramOf(call.params, 'auth_token') !== undefined || key.alwaysSigned || key.signatureMode === 'hmac-sha256';
    if (sig === undefined) {
      if (required) throw new ApiError(104);
      return null;
    }
    if (key.signatureMode === 'hmac-sha256') {
      const ts = Number(paramOf(call.params, 'ts'));
      const nonce = paramOf(call.params, 'nonce');
      if (!Number.isInteger(ts) || Math.abs(now / 1000 - ts) > 300 || !nonce || !NONCE.test(nonce)) throw new ApiError(105, 'The query signature is invalid (ts or nonce missing or out of range).');
      if (!verifyHmac(sig, signed, call.method, key.secret)) throw new ApiError(105);
      return { value: nonce, ts };
    }
    if (!verifyMd5(sig, signed, call.method, key.secret, key.acceptOrderA)) throw new ApiError(105);
    return null;
  }

  private async run(call: ApiCall, counted: Counted): Promise<ApiResult> {
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
    counted.apiKey = key.apiKey;
    if (key.allowedNetworks.length && !(call.remoteAddress && inNetworks(call.remoteAddress, key.allowedNetworks))) throw new ApiError(111);
    const now = this.clock.now().getTime();
    // What needs no store, in A7's order after the limits (120 → 104/105): its first error is
    // answered once the round trip has counted the limits, which come first.
    let failed: ApiError | null = null;
    let nonce: { value: string; ts: number } | null = null;
    try {
      if (method.post && call.httpMethod !== 'POST') throw new ApiError(120);
      if (call.undecodable || call.params.some(([k, v]) => hasForbiddenCharacters(k) || hasForbiddenCharacters(v))) {
        this.logger.warn(`call refused with 105: a parameter is not well-formed UTF-8 or holds control characters`);
        throw new ApiError(105);
      }
      nonce = this.checkSignature(call, method, key, now);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      failed = err;
    }
    // A token idle by its row may have been used since (A5): its last use is read in the round trip.
    const idleMs = this.options.tokenIdleMs;
    const idleCheck = !failed && read.token !== null && idleMs > 0 && now - read.token.usedAt > idleMs;
    const trip = await this.roundTrip(call, key, now, failed !== null, nonce, idleCheck ? digest : null);
    if (trip) {
      counted.calls = true;
      counted.errors = failed !== null || trip.limit !== 0 || trip.nonce > 0;
      if (trip.limit) throw new ApiError(trip.limit);
    }
    if (failed) throw failed;
    if (nonce) {
      // Fail closed: a nonce that cannot be recorded as used is not accepted (503, never "OK").
      if (!trip) {
        this.logger.warn(`hmac-sha256 call refused with 503: the nonce store cannot be written`);
        throw new ApiError(503);
      }
      if (trip.nonce === 1) throw new ApiError(105, 'The query signature is invalid (nonce already used).');
      if (trip.nonce === 2) throw new ApiError(105, 'The query signature is invalid (ts predates the nonce store; sign again with the current time).');
      if (trip.nonce !== 0) throw new ApiError(503);
    }
    let auth: ApiToken | null = null;
    if (token !== undefined) {
      if (read.token && idleCheck) {
        if (!trip) {
          // The idle rule cannot be checked: refused as unavailable, never served nor ended.
          this.logger.warn(`token refused with 503: its last use cannot be read`);
          throw new ApiError(503);
        }
        if (trip.lastUse === null || now - trip.lastUse > idleMs) throw new ApiError(107);
      }
      auth = read.token;
      if (!auth) throw new ApiError(107);
      this.tokenUse.touch(digest!, now, idleMs);
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
      }, call.requestId ?? null);
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
