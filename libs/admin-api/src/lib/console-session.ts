import { randomBytes } from 'node:crypto';
import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type IORedis from 'ioredis';
import { sha256Hex } from '@switchboard/crypto';
import { REDIS } from '@switchboard/redis';

/**
 * Redis key family (the admin service's own): one web console session per key, keyed by the SHA-256
 * of the session id the browser holds (so a copy of Redis holds no usable cookie). A hash: the
 * token's id and name (never the token), the bootstrap token's fingerprint, the CSRF token,
 * creation and last-seen times. It expires after CONSOLE_IDLE_S without use.
 */
export const CONSOLE_SESSION_PREFIX = 'switchboard:admin:console-session:';
/** The session cookie: HttpOnly, SameSite=Strict, Path=/admin (console, API, queue dashboard). */
export const CONSOLE_COOKIE = 'sb_admin_session';
export const CONSOLE_COOKIE_PATH = '/admin';
/** A session unused this long ends. */
export const CONSOLE_IDLE_S = 8 * 3600;
/** A session ends this long after sign-in, used or not. */
export const CONSOLE_MAX_S = 12 * 3600;
/** The idle timer is pushed back at most once a minute per session (one write, not one per request). */
const REFRESH_MS = 60_000;
const ID = /^[A-Za-z0-9_-]{43}$/;

export interface ConsoleSession {
  /** The cookie's value (the session id): only in this process's memory, never stored. */
  id: string;
  /** The named token signed in with, or null for the bootstrap ADMIN_TOKEN. */
  tokenId: number | null;
  name: string;
  /** For a bootstrap session: the fingerprint of ADMIN_TOKEN at sign-in (the session dies when it changes). */
  bootstrap: string;
  /** The synchronizer token every console form carries (`_csrf`). */
  csrf: string;
  createdAt: number;
  seenAt: number;
}

/** Redis away: sessions can be neither checked nor created; the console fails closed (503). */
export class ConsoleSessionsUnavailable extends ServiceUnavailableException {
  readonly retryAfter = 5;
  constructor() {
    super({ statusCode: 503, error: 'Service Unavailable', message: 'console sessions are kept in Redis, which is unreachable; try again later (the admin API with a bearer token still works)' });
  }
}

/**
 * Every value of one cookie in a Cookie header, in the order sent. A page of a sibling host (or of
 * another port of this one) can plant a cookie of the same name for a longer path, which the browser
 * then sends first: the session is the first of them that is live, not simply the first.
 */
export function readCookies(header: string | string[] | undefined, name: string): string[] {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (!text) return [];
  const values: string[] = [];
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
    if (values.length === 4) break; // more copies than any browser sends: the rest are ignored
  }
  return values;
}

/**
 * The web console's sessions in Redis (`switchboard:admin:console-session:<sha256(id)>`). Storage only:
 * whether the token behind a session is still valid is AdminAuthenticator's to check.
 */
@Injectable()
export class ConsoleSessions {
  constructor(@Inject(REDIS) private readonly redis: IORedis) {}

  private key(id: string) {
    return CONSOLE_SESSION_PREFIX + sha256Hex(id);
  }

  async create(actor: { tokenId: number | null; name: string }, bootstrap: string, now = Date.now()): Promise<ConsoleSession> {
    const session: ConsoleSession = { id: randomBytes(32).toString('base64url'), tokenId: actor.tokenId, name: actor.name, bootstrap, csrf: randomBytes(32).toString('base64url'), createdAt: now, seenAt: now };
    const key = this.key(session.id);
    try {
      await this.redis
        .multi()
        .hset(key, { t: session.tokenId === null ? '' : String(session.tokenId), n: session.name, b: bootstrap, c: session.csrf, ca: String(now), sa: String(now) })
        .expire(key, CONSOLE_IDLE_S)
        .exec();
    } catch {
      throw new ConsoleSessionsUnavailable();
    }
    return session;
  }

  /** The session of a cookie value; null when malformed, unknown, or past its absolute limit. Throws 503 while Redis is away. */
  async find(id: string | null, now = Date.now()): Promise<ConsoleSession | null> {
    if (!id || !ID.test(id)) return null;
    const key = this.key(id);
    let h: Record<string, string>;
    try {
      h = await this.redis.hgetall(key);
    } catch {
      throw new ConsoleSessionsUnavailable();
    }
    if (!h['n'] || !h['c'] || !h['ca']) return null;
    const session: ConsoleSession = {
      id,
      tokenId: h['t'] ? Number(h['t']) : null,
      name: h['n'],
      bootstrap: h['b'] ?? '',
      csrf: h['c'],
      createdAt: Number(h['ca']),
      seenAt: Number(h['sa'] ?? h['ca']),
    };
    if (!(now - session.createdAt < CONSOLE_MAX_S * 1000)) {
      await this.end(id).catch(() => undefined);
      return null;
    }
    if (now - session.seenAt >= REFRESH_MS) {
      // Idle timer: at most the time left before the absolute limit.
      const left = Math.ceil((session.createdAt + CONSOLE_MAX_S * 1000 - now) / 1000);
      try {
        await this.redis.multi().hset(key, 'sa', String(now)).expire(key, Math.max(1, Math.min(CONSOLE_IDLE_S, left))).exec();
      } catch {
        throw new ConsoleSessionsUnavailable();
      }
      session.seenAt = now;
    }
    return session;
  }

  async end(id: string): Promise<void> {
    if (!ID.test(id)) return;
    try {
      await this.redis.del(this.key(id));
    } catch {
      throw new ConsoleSessionsUnavailable();
    }
  }
}
