import { randomBytes, randomUUID } from 'node:crypto';
import { CanActivate, ConflictException, ExecutionContext, ForbiddenException, HttpException, Inject, Injectable, Logger, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import { DataSource, QueryFailedError } from 'typeorm';
import { AdminTokenEntity, AuditEventEntity } from '@switchboard/db';
import { constantTimeEqual, hmacSha256Hex, sha256Hex } from '@switchboard/crypto';
import { REDIS } from '@switchboard/redis';
import { CONSOLE_COOKIE, CONSOLE_COOKIE_PATH, ConsoleSession, ConsoleSessions, ConsoleSessionsUnavailable, readCookies } from './console-session';

export const ADMIN_API_OPTIONS = Symbol('ADMIN_API_OPTIONS');
export interface AdminApiOptions {
  /** The bootstrap token (ADMIN_TOKEN): always valid, named `bootstrap` in the audit log. */
  adminToken: string;
  redisUrl: string;
  /** The propagator's internal routes (dead-letter retries), and the token they take. */
  propagatorUrl: string;
  internalToken: string;
  propagatorTimeoutMs?: number;
  /** Failed admin authentications per client address and minute before it is refused (429); default 20. */
  authFailLimit?: number;
}

export const DEFAULT_AUTH_FAIL_LIMIT = 20;
const WINDOW_S = 60;
/** Redis key family (admin's own): failed admin authentications of one address in the current minute. */
export const ADMIN_AUTH_FAILS_PREFIX = 'switchboard:admin:auth-fails:';
export const BOOTSTRAP_NAME = 'bootstrap';
/** Named tokens: a recognisable prefix (secret scanners) and 256 random bits. */
const TOKEN_PREFIX = 'sbat_';

/** Who made an admin request: the token's name (and id, for named tokens). */
export interface AdminActor {
  name: string;
  tokenId: number | null;
}
export type AdminRequest = {
  adminActor?: AdminActor;
  /** The web console session the request was authenticated with (cookie), if any. */
  adminSession?: ConsoleSession;
  ip: string;
  id: unknown;
  method?: string;
  /** Host (and port) the request was sent to: Fastify's `request.host` (X-Forwarded-Host only from a TRUST_PROXY proxy). */
  host?: string;
  /** Fastify's `request.routeOptions.url` (audit of refused cross-site requests). */
  routeOptions?: { url?: string };
  headers: Record<string, string | string[] | undefined>;
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A single-valued request header, or undefined (absent or repeated). */
function header(req: AdminRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Whether a browser request provably comes from a page of this origin: `Sec-Fetch-Site`, when sent,
 * must be `same-origin`, and `Origin`, when sent, must name the host (and port) the request was
 * sent to. At least one of them must be there (every current browser sends one on a POST).
 */
export function sameOrigin(req: AdminRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.headers['origin'];
  if (origin === undefined) return site === 'same-origin';
  if (typeof origin !== 'string') return false;
  let host: string;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    host = url.host;
  } catch {
    return false;
  }
  return !!req.host && host === req.host.toLowerCase();
}

/** A request made with the console's session cookie that may change something, without proof that the console sent it. */
export class CrossSiteRequestRefused extends ForbiddenException {
  constructor(readonly reason: 'origin' | 'token') {
    super(
      {
        statusCode: 403,
        error: 'csrf',
        message:
          reason === 'origin'
            ? 'refused: a change made with the console session must come from a page of this site (Origin / Sec-Fetch-Site); API clients send a bearer token'
            : 'refused: the form\'s CSRF token is missing or wrong; reload the page and try again',
      },
      { description: 'Forbidden' },
    );
  }
}

/**
 * 401 for a request whose only credential is a console session cookie that has ended: counted as no
 * failure; the answer clears the cookie (`clearSessionCookie`).
 */
export class ConsoleSessionEnded extends UnauthorizedException {
  constructor() {
    super('the console session has ended; sign in again');
  }
}

/** The Set-Cookie value that removes the console's session cookie. */
export function clearSessionCookie(https: boolean): string {
  return `${CONSOLE_COOKIE}=; Path=${CONSOLE_COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict${https ? '; Secure' : ''}`;
}

/** 429 with the seconds to wait (problem details carry them as `retry_after`). */
export class TooManyFailedAuthentications extends HttpException {
  constructor(readonly retryAfter: number) {
    super({ statusCode: 429, error: 'Too Many Requests', message: 'too many failed admin authentications from this address; try again later' }, 429);
  }
}

/** The audit log rows the admin service writes itself (it is the log's only writer). */
@Injectable()
export class AuditWriter {
  private readonly logger = new Logger('AdminAudit');

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Records one entry; a failure is logged, never thrown (the request's answer does not depend on it). */
  async record(type: string, details: Record<string, unknown>, ids: { slaveId?: number | null; memberId?: number | null } = {}): Promise<void> {
    try {
      await this.db
        .createQueryBuilder()
        .insert()
        .into(AuditEventEntity)
        .values({ eventId: randomUUID(), type, occurredAt: new Date(), source: 'admin', slaveId: ids.slaveId ?? null, memberId: ids.memberId ?? null, details: details as never })
        .execute();
    } catch (err) {
      this.logger.warn(`audit entry ${type} not recorded: ${(err as Error).message}`);
    }
  }
}

/**
 * Failed admin authentications per client address: a Redis counter a minute
 * (`switchboard:admin:auth-fails:<address>`), kept in this process's memory while Redis is away
 * (the limit still holds, per process). At the limit the address is refused (429) whatever it
 * sends, the right token included, until the minute ends (docs/hardening.md).
 */
@Injectable()
export class AdminAuthLimiter {
  private readonly logger = new Logger('AdminAuthLimiter');
  private readonly local = new Map<string, { count: number; until: number }>();
  private warnedAt = 0;

  constructor(
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions,
  ) {}

  get limit(): number {
    return this.options.authFailLimit ?? DEFAULT_AUTH_FAIL_LIMIT;
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  async blockedFor(address: string): Promise<number> {
    try {
      const [count, ttl] = (await this.redis.multi().get(ADMIN_AUTH_FAILS_PREFIX + address).ttl(ADMIN_AUTH_FAILS_PREFIX + address).exec()) ?? [];
      const n = Number(count?.[1] ?? 0);
      return n >= this.limit ? Math.max(1, Number(ttl?.[1] ?? WINDOW_S)) : 0;
    } catch (err) {
      this.redisAway(err);
      const entry = this.localEntry(address);
      return entry && entry.count >= this.limit ? Math.max(1, Math.ceil((entry.until - Date.now()) / 1000)) : 0;
    }
  }

  /** Counts a failure; returns the address's failures in this window. */
  async fail(address: string): Promise<number> {
    try {
      const key = ADMIN_AUTH_FAILS_PREFIX + address;
      const [[, count]] = ((await this.redis.multi().incr(key).expire(key, WINDOW_S, 'NX').exec()) ?? [[null, 0]]) as [unknown, unknown][];
      return Number(count);
    } catch (err) {
      this.redisAway(err);
      const entry = this.localEntry(address) ?? { count: 0, until: Date.now() + WINDOW_S * 1000 };
      entry.count++;
      this.local.set(address, entry);
      return entry.count;
    }
  }

  private localEntry(address: string) {
    const entry = this.local.get(address);
    if (entry && entry.until <= Date.now()) {
      this.local.delete(address);
      return undefined;
    }
    if (this.local.size > 10_000) for (const [k, v] of this.local) if (v.until <= Date.now()) this.local.delete(k);
    return entry;
  }

  private redisAway(err: unknown) {
    if (Date.now() - this.warnedAt > 60_000) {
      this.warnedAt = Date.now();
      this.logger.warn(`failed admin authentications counted in this process only (Redis: ${(err as Error).message})`);
    }
  }
}

/** Named admin tokens (table `admin_tokens`, the admin service's own): create, list, revoke, check. */
@Injectable()
export class AdminTokens {
  /** Token id → when its last use was written (at most once a minute per token and process). */
  private readonly touched = new Map<number, number>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(name: string, by: AdminActor): Promise<{ row: AdminTokenEntity; token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    try {
      const row = await this.db.getRepository(AdminTokenEntity).save({ name, digest: sha256Hex(token), createdBy: by.name, lastUsedAt: null, revokedAt: null, revokedBy: null });
      return { row: (await this.db.getRepository(AdminTokenEntity).findOneByOrFail({ id: row.id })), token };
    } catch (err) {
      if (err instanceof QueryFailedError && (err as QueryFailedError & { code?: string }).code === '23505') {
        throw new ConflictException({ statusCode: 409, error: 'name_in_use', message: 'a live admin token already has this name' });
      }
      throw err;
    }
  }

  list(filter: { revoked?: boolean; after?: number }, limit: number): Promise<AdminTokenEntity[]> {
    const qb = this.db.getRepository(AdminTokenEntity).createQueryBuilder('t').orderBy('t.id', 'ASC').limit(limit + 1);
    if (filter.revoked !== undefined) qb.andWhere(filter.revoked ? 't.revoked_at IS NOT NULL' : 't.revoked_at IS NULL');
    if (filter.after !== undefined) qb.andWhere('t.id > :after', { after: filter.after });
    return qb.getMany();
  }

  /** Revokes a live token (effective on its next request); 404 when there is no live token of that id. */
  async revoke(id: number, by: AdminActor): Promise<AdminTokenEntity> {
    const result = await this.db
      .createQueryBuilder()
      .update(AdminTokenEntity)
      .set({ revokedAt: () => 'now()', revokedBy: by.name })
      .where('id = :id AND revoked_at IS NULL', { id })
      .execute();
    if (!result.affected) throw new NotFoundException('no such live admin token');
    this.touched.delete(id);
    return this.db.getRepository(AdminTokenEntity).findOneByOrFail({ id });
  }

  /** The token's row by digest, whether live or revoked; null when no token has that digest. */
  async find(token: string): Promise<{ id: number; name: string; revoked: boolean } | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
    const [row]: { id: number; name: string; revoked: boolean }[] = await this.db.query(`SELECT id, name, revoked_at IS NOT NULL AS revoked FROM admin_tokens WHERE digest = $1`, [sha256Hex(token)]);
    return row ?? null;
  }

  /** The token's row by id, whether live or revoked; null when there is none. */
  async byId(id: number): Promise<{ id: number; name: string; revoked: boolean } | null> {
    const [row]: { id: number; name: string; revoked: boolean }[] = await this.db.query(`SELECT id, name, revoked_at IS NOT NULL AS revoked FROM admin_tokens WHERE id = $1`, [id]);
    return row ?? null;
  }

  /** Records a use, at most once a minute per token (and process). */
  async touch(id: number): Promise<void> {
    const now = Date.now();
    if ((this.touched.get(id) ?? 0) > now - 60_000) return;
    this.touched.set(id, now);
    await this.db.query(`UPDATE admin_tokens SET last_used_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
  }
}

/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN or a live named token>`, or, without an
 * Authorization header, the web console's session cookie (signed in with one of those tokens). An
 * address over the failure limit is refused first (429); every failure is counted and audited
 * (`admin_authn_fail`, with the token's name when the token is known but revoked). A request made
 * with the session cookie that may change something must prove it comes from this site (403 and
 * `admin_csrf_refused` otherwise; docs/console.md).
 */
@Injectable()
export class AdminAuthenticator {
  /** Ties a bootstrap-token session to the ADMIN_TOKEN it was opened with (never the token itself). */
  private readonly bootstrapFingerprint: string;

  constructor(
    @Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions,
    private readonly tokens: AdminTokens,
    private readonly limiter: AdminAuthLimiter,
    private readonly audit: AuditWriter,
    private readonly sessions: ConsoleSessions,
  ) {
    this.bootstrapFingerprint = hmacSha256Hex(options.adminToken, 'switchboard admin console: bootstrap-token session');
  }

  /** The actor, or throws 429 (address over the limit), 401, 403 (cross-site use of the session) or 503 (Redis away, session cookie). */
  async authenticate(req: AdminRequest): Promise<AdminActor> {
    const address = req.ip || 'unknown';
    const wait = await this.limiter.blockedFor(address);
    if (wait > 0) throw new TooManyFailedAuthentications(wait);
    const header = req.headers['authorization'];
    if (header === undefined) {
      const session = await this.sessionOf(req);
      if (session) {
        await this.checkCrossSite(req, session);
        req.adminSession = session;
        return { name: session.name, tokenId: session.tokenId };
      }
      // A session cookie that has ended (signed out in another tab, expired, its token revoked):
      // not a failed authentication. A page left open (the queue dashboard polls every 5 s) would
      // otherwise fill the audit and bring the address to its failure limit. The answer clears it.
      if (readCookies(req.headers['cookie'], CONSOLE_COOKIE).length) throw new ConsoleSessionEnded();
    }
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match && constantTimeEqual(match[1], this.options.adminToken)) return { name: BOOTSTRAP_NAME, tokenId: null };
    const found = match ? await this.tokens.find(match[1]) : null;
    if (found && !found.revoked) {
      await this.tokens.touch(found.id);
      return { name: found.name, tokenId: found.id };
    }
    const reason = !header ? 'missing' : !match ? 'malformed' : found ? 'revoked' : 'unknown';
    const failures = await this.limiter.fail(address);
    await this.audit.record('admin_authn_fail', { reason, address, token_name: found?.name ?? null, token_id: found?.id ?? null, request_id: String(req.id ?? '') });
    if (failures === this.limiter.limit) await this.audit.record('admin_authn_rate_limited', { address, failures, window_s: WINDOW_S });
    throw new UnauthorizedException(found ? 'this admin token has been revoked' : 'a valid admin bearer token is required');
  }

  /** For routes outside Nest's guards (/docs, the queue dashboard): true when authenticated (the actor set for the audit), false on 401; throws 429, 403, 503. */
  async allows(req: AdminRequest): Promise<boolean> {
    try {
      req.adminActor = await this.authenticate(req);
      return true;
    } catch (err) {
      if (err instanceof UnauthorizedException) return false;
      throw err;
    }
  }

  /** The web console's check of a request: its session (or null), after the address's failure limit (429). */
  async consoleSession(req: AdminRequest): Promise<ConsoleSession | null> {
    const wait = await this.limiter.blockedFor(req.ip || 'unknown');
    if (wait > 0) throw new TooManyFailedAuthentications(wait);
    return this.sessionOf(req);
  }

  /**
   * The console session of the request's cookie, checked: null when there is none, or when it has
   * ended (signed out, idle or past its limit, its named token revoked, ADMIN_TOKEN changed since a
   * bootstrap sign-in). Counts no failure (a session id is 256 random bits). Throws 503 while Redis is away.
   */
  async sessionOf(req: AdminRequest): Promise<ConsoleSession | null> {
    for (const id of readCookies(req.headers['cookie'], CONSOLE_COOKIE)) {
      const session = await this.liveSession(id);
      if (session) return session;
    }
    return null;
  }

  private async liveSession(id: string): Promise<ConsoleSession | null> {
    const session = await this.sessions.find(id);
    if (!session) return null;
    if (session.tokenId === null) {
      if (constantTimeEqual(session.bootstrap, this.bootstrapFingerprint)) return session;
    } else {
      const row = await this.tokens.byId(session.tokenId);
      if (row && !row.revoked) {
        await this.tokens.touch(row.id);
        return { ...session, name: row.name };
      }
    }
    await this.sessions.end(session.id);
    return null;
  }

  /**
   * A request made with a session that may change something (not GET/HEAD/OPTIONS) must come from
   * this site (sameOrigin); a CSRF token it carries (`x-csrf-token`, or the console form's `_csrf`
   * passed as `formToken`) must be the session's, and `required` makes one necessary (the console's
   * own forms). 403 and an `admin_csrf_refused` entry otherwise.
   */
  async checkCrossSite(req: AdminRequest, session: ConsoleSession, options: { formToken?: string; required?: boolean } = {}): Promise<void> {
    if (SAFE_METHODS.has((req.method ?? 'GET').toUpperCase())) return;
    let reason: 'origin' | 'token' | null = null;
    if (!sameOrigin(req)) reason = 'origin';
    else {
      const given = options.formToken ?? header(req, 'x-csrf-token');
      if (given !== undefined ? !constantTimeEqual(given, session.csrf) : options.required) reason = 'token';
    }
    if (!reason) return;
    await this.audit.record('admin_csrf_refused', {
      reason,
      token_name: session.name,
      token_id: session.tokenId,
      method: req.method ?? null,
      route: req.routeOptions?.url ?? 'unmatched',
      address: req.ip || 'unknown',
      request_id: String(req.id ?? ''),
    });
    throw new CrossSiteRequestRefused(reason);
  }

  /**
   * Console sign-in: `token` checked exactly as a bearer token (failure limit, audit), then a new
   * session for its actor. Throws 429, 401, or 503 when the session cannot be stored.
   */
  async signIn(req: AdminRequest, token: string): Promise<{ actor: AdminActor; session: ConsoleSession }> {
    const actor = await this.authenticate({ ip: req.ip, id: req.id, method: req.method, host: req.host, headers: { authorization: `Bearer ${token}` } });
    const session = await this.sessions.create(actor, actor.tokenId === null ? this.bootstrapFingerprint : '');
    return { actor, session };
  }

  /** Sign-out: the session ends at once, everywhere. */
  signOut(session: ConsoleSession): Promise<void> {
    return this.sessions.end(session.id);
  }
}

/** `Authorization: Bearer <admin token>` on every admin route; 401 (WWW-Authenticate) or 429 (Retry-After) otherwise. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(private readonly authenticator: AdminAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AdminRequest>();
    const res = context.switchToHttp().getResponse<{ header(name: string, value: string): void }>();
    try {
      req.adminActor = await this.authenticator.authenticate(req);
      return true;
    } catch (err) {
      for (const [name, value] of Object.entries(authFailureHeaders(err, (req as { protocol?: string }).protocol === 'https'))) res.header(name, value);
      throw err;
    }
  }
}

/**
 * The headers of a refused admin authentication (the guard's answers and the queue dashboard's):
 * the bearer challenge on a 401, the cookie cleared for an ended console session, Retry-After on a
 * 429 or while console sessions are unavailable.
 */
export function authFailureHeaders(err: unknown, https: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  if (err instanceof UnauthorizedException) headers['www-authenticate'] = 'Bearer realm="switchboard-admin"';
  if (err instanceof ConsoleSessionEnded) headers['set-cookie'] = clearSessionCookie(https);
  if (err instanceof TooManyFailedAuthentications || err instanceof ConsoleSessionsUnavailable) headers['retry-after'] = String(err.retryAfter);
  return headers;
}
