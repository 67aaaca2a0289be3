import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type IORedis from 'ioredis';
import { SecretBox } from '@switchboard/crypto';
import { REDIS } from '@switchboard/redis';
import type { BrowserAction, ChainPlan } from '@switchboard/ips-protocol';

export const CHAIN_OPTIONS = Symbol('CHAIN_OPTIONS');
export interface ChainOptions {
  /** The gateway's public base URL: continue URLs point there; https makes the cookie Secure. */
  publicUrl: string;
  /** Seals chain state in Redis: its hops carry per-slave login keys (md5(SK . id)). */
  stateSecret: string;
}
const STATE_PURPOSE = 'chain-state';

/** The master session cookie (spec D14): HttpOnly, SameSite=Lax, Secure under https. */
export const SESSION_COOKIE = 'sb_session';
const SESSION_TTL_S = 30 * 24 * 3600;
/** A chain's state lives 10 minutes (spec D14). */
const STATE_TTL_S = 600;
const STATE_PREFIX = 'switchboard:chain:';
const SESSION_PREFIX = 'switchboard:session:';

export interface ChainState {
  action: BrowserAction;
  returnTo: string;
  hops: ChainPlan['hops'];
  /** Index of the next hop to send the browser to. */
  next: number;
}

export interface MasterSession {
  memberId: number;
  epoch: number;
  createdAt: string;
  /** The member's name, for pages that greet them. */
  name?: string;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Where a session or chain state lives in Redis: under the SHA-256 of its token (hex), never the
 * token itself, so that reading Redis (a dump, a replica, MONITOR) gives nothing a browser could
 * present (issue 10 §2). The tokens carry 256 random bits: an unkeyed digest is enough.
 */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
const stateKey = (token: string) => STATE_PREFIX + tokenDigest(token);
const sessionKey = (sid: string) => SESSION_PREFIX + tokenDigest(sid);

/** Appends parameters to a URL the way IPS merges a query string (an existing one is kept). */
export function withParams(base: string, params: [string, string][]): string {
  const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const hash = base.indexOf('#');
  const head = hash === -1 ? base : base.slice(0, hash);
  const sep = head.includes('?') ? (/[?&]$/.test(head) ? '' : '&') : '?';
  return head + sep + query;
}

/**
 * Browser chain bookkeeping for the stateless gateway: the list of hops is computed once (by auth,
 * at the first hit) and kept in Redis under the digest of a random token; the continue URL carries
 * only that token (spec D14, fixing IPS's offset bug of §4.2). Master sessions live in Redis too,
 * under the digest of the `sb_session` cookie's value.
 */
@Injectable()
export class BrowserChainService {
  private readonly box: SecretBox;

  constructor(
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(CHAIN_OPTIONS) private readonly options: ChainOptions,
    @Optional() @InjectDataSource() private readonly db?: DataSource,
  ) {
    this.box = new SecretBox(options.stateSecret);
  }

  private token(): string {
    return randomBytes(32).toString('base64url');
  }

  continueUrl(action: BrowserAction, token: string): string {
    return withParams(`${this.options.publicUrl}/ipsconnect`, [
      ['do', action],
      ['state', token],
    ]);
  }

  async start(state: ChainState): Promise<string> {
    const token = this.token();
    await this.redis.set(stateKey(token), this.box.seal(JSON.stringify(state), STATE_PURPOSE), 'EX', STATE_TTL_S);
    return token;
  }

  /** Takes the state one hop further; null when unknown or expired. */
  async advance(token: string): Promise<ChainState | null> {
    if (!TOKEN.test(token)) return null;
    const raw = await this.redis.get(stateKey(token));
    if (!raw) return null;
    let state: ChainState;
    try {
      state = JSON.parse(this.box.open(raw, STATE_PURPOSE)) as ChainState;
    } catch {
      return null;
    }
    state.next += 1;
    if (state.next < state.hops.length) {
      await this.redis.set(stateKey(token), this.box.seal(JSON.stringify(state), STATE_PURPOSE), 'EX', STATE_TTL_S);
    } else {
      await this.redis.del(stateKey(token));
    }
    return state;
  }

  hopUrl(state: ChainState, token: string): string {
    const hop = state.hops[state.next];
    return withParams(hop.url, [...hop.params, ['returnTo', this.continueUrl(state.action, token)]]);
  }

  async createSession(memberId: number, epoch: number, extra: { name?: string } = {}): Promise<string> {
    const sid = this.token();
    const session: MasterSession = { memberId, epoch, createdAt: new Date().toISOString(), ...extra };
    await this.redis.set(sessionKey(sid), JSON.stringify(session), 'EX', SESSION_TTL_S);
    return sid;
  }

  async session(sid: string | undefined): Promise<MasterSession | null> {
    if (!sid || !TOKEN.test(sid)) return null;
    const raw = (await this.redis.get(sessionKey(sid))) ?? (await this.adoptLegacySession(sid));
    return raw ? (JSON.parse(raw) as MasterSession) : null;
  }

  /**
   * The session, if it still counts: its member exists, is not banned, and its session epoch has
   * not moved on since (a password or e-mail change, or an admin's "log out everywhere", ends every
   * session created before, on every gateway). One indexed read; a session that no longer counts is
   * deleted.
   */
  async liveSession(sid: string | undefined): Promise<MasterSession | null> {
    const session = await this.session(sid);
    if (!session) return null;
    if (!this.db) throw new Error('liveSession needs the database');
    const rows: { session_epoch: number; banned: boolean }[] = await this.db.query('SELECT session_epoch, banned FROM members WHERE id = $1', [session.memberId]);
    if (rows.length === 1 && !rows[0].banned && rows[0].session_epoch === session.epoch) return session;
    await this.destroySession(sid);
    return null;
  }

  /**
   * A session created before sessions were keyed by digest (stored under the token itself) is moved
   * to its digest key on first use, with its remaining lifetime (RENAME keeps the TTL), so members
   * stay signed in across the upgrade. Such keys are all gone 30 days after the upgrade.
   */
  private async adoptLegacySession(sid: string): Promise<string | null> {
    const moved = await this.redis.renamenx(SESSION_PREFIX + sid, sessionKey(sid)).catch(() => 0);
    return moved ? this.redis.get(sessionKey(sid)) : null;
  }

  async destroySession(sid: string | undefined): Promise<void> {
    if (sid && TOKEN.test(sid)) await this.redis.del(sessionKey(sid));
  }

  private cookieAttributes(): string {
    return `Path=/; HttpOnly; SameSite=Lax${this.options.publicUrl.startsWith('https:') ? '; Secure' : ''}`;
  }

  sessionCookie(sid: string): string {
    return `${SESSION_COOKIE}=${sid}; Max-Age=${SESSION_TTL_S}; ${this.cookieAttributes()}`;
  }

  clearedSessionCookie(): string {
    return `${SESSION_COOKIE}=; Max-Age=0; ${this.cookieAttributes()}`;
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The generic error page of IPS (§1.6): the status word is never shown. */
export const ERROR_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Login error</title></head>
<body>
<h1>Sorry, there was a problem</h1>
<p>There was an error processing your login request at one of the sites in our network.</p>
<p>Error code: 2S165/1</p>
</body>
</html>
`;
