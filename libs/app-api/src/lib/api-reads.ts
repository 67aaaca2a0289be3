import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { REDIS } from '@switchboard/redis';
import { KEYRING_VERSION_SQL, KEYRING_VERSION_SUBQUERY } from '@switchboard/db';

/** The member behind a token, or named by `user_id` (user.get). */
export interface ApiMember {
  id: number;
  name: string;
  email: string;
  validating: boolean;
  revalidate_url: string | null;
  banned: boolean;
}

/** A token of the call's key, with its grant and member. */
export interface ApiToken {
  grantId: number;
  permissions: Record<string, string>;
  /** Last use as `app_tokens` holds it: `last_used_at`, else `created_at` (epoch ms). */
  usedAt: number;
  member: ApiMember;
}

/** What one application API call reads, in one snapshot. */
export interface ApiRead {
  version: number;
  token: ApiToken | null;
  user: ApiMember | null;
}

const VERSION = KEYRING_VERSION_SUBQUERY;
const TOKEN_COLUMNS = 't.grant_id, t.permissions, t.used, t.member_id, t.name, t.email, t.validating, t.revalidate_url, t.banned';
const USER_COLUMNS = 'u.id AS u_id, u.name AS u_name, u.email AS u_email, u.validating AS u_validating, u.revalidate_url AS u_revalidate_url, u.banned AS u_banned';
/** The token of the call's key ($1 token digest, $2 api_key) with its grant and member. */
const TOKEN_JOIN = `LEFT JOIN LATERAL (
             SELECT t.grant_id, g.permissions, coalesce(t.last_used_at, t.created_at) AS used,
                    m.id AS member_id, m.name, m.email, m.validating, m.revalidate_url, m.banned
               FROM app_tokens t JOIN app_grants g ON g.id = t.grant_id JOIN members m ON m.id = g.member_id
              WHERE t.digest = $1::text AND g.api_key = $2::text
           ) t ON true`;

/**
 * One prepared statement (named: parsed and planned once per connection) per call, in one of four
 * shapes: the keyring version alone (application keys are key material: a newer version makes the
 * gateway fetch them); with the token of the call's key, its grant and member; with the member
 * named by user.get's `user_id`; or with both. One shape per combination and never a NULL
 * parameter: a statement whose parameters may be NULL (the single statement before) is planned
 * anew on every execution, since PostgreSQL's custom plan for a NULL folds the join away and is
 * always cheaper than the generic plan (about 0.2 ms of planning per call); each shape here settles
 * on its generic plan after five executions.
 */
export const API_READ_STATEMENTS = {
  version: { name: 'sb_gw_api_v', text: KEYRING_VERSION_SQL },
  token: { name: 'sb_gw_api_vt', text: `SELECT v.v, ${TOKEN_COLUMNS} FROM ${VERSION} v ${TOKEN_JOIN}` },
  user: { name: 'sb_gw_api_vu', text: `SELECT v.v, ${USER_COLUMNS} FROM ${VERSION} v LEFT JOIN members u ON u.id = $1::int` },
  tokenUser: { name: 'sb_gw_api_vtu', text: `SELECT v.v, ${TOKEN_COLUMNS}, ${USER_COLUMNS} FROM ${VERSION} v ${TOKEN_JOIN} LEFT JOIN members u ON u.id = $3::int` },
} as const;

/** A row of any shape: the columns of a part the shape does not read are absent (undefined). */
interface Row {
  v: number;
  grant_id?: number | null;
  permissions?: Record<string, string> | null;
  used?: Date | null;
  member_id?: number | null;
  name: string;
  email: string;
  validating: boolean;
  revalidate_url: string | null;
  banned: boolean;
  u_id?: number | null;
  u_name: string;
  u_email: string;
  u_validating: boolean;
  u_revalidate_url: string | null;
  u_banned: boolean;
}

/**
 * The gateway's reads for the application API: `app_tokens`, `app_grants` and `members` (written
 * only by the auth service) and the keyring version, one round trip per call, nothing cached.
 */
@Injectable()
export class ApiReads {
  private readonly pool: Pool;

  constructor(@InjectDataSource() db: DataSource) {
    // TypeORM's postgres driver keeps its pg Pool as `master` (as MemberReads does).
    this.pool = (db.driver as unknown as { master: Pool }).master;
  }

  /** The call's snapshot: the version, the token of `apiKey` whose digest is given, user.get's member. */
  async read(tokenDigest: string | null, apiKey: string, userId: number | null): Promise<ApiRead> {
    const s = API_READ_STATEMENTS;
    const query =
      tokenDigest === null
        ? userId === null
          ? { ...s.version, values: [] }
          : { ...s.user, values: [userId] }
        : userId === null
          ? { ...s.token, values: [tokenDigest, apiKey] }
          : { ...s.tokenUser, values: [tokenDigest, apiKey, userId] };
    const result = await this.pool.query<Row>(query);
    const r = result.rows[0];
    return {
      version: r.v,
      token:
        r.grant_id == null || r.member_id == null
          ? null
          : {
              grantId: r.grant_id,
              permissions: r.permissions ?? {},
              usedAt: new Date(r.used!).getTime(),
              member: { id: r.member_id, name: r.name, email: r.email, validating: r.validating, revalidate_url: r.revalidate_url, banned: r.banned },
            },
      user:
        r.u_id == null
          ? null
          : { id: r.u_id, name: r.u_name, email: r.u_email, validating: r.u_validating, revalidate_url: r.u_revalidate_url, banned: r.u_banned },
    };
  }
}

/** Token last use (A5 idle expiry): `switchboard:api:token-used:<token digest>` → epoch ms. */
export const TOKEN_USED_PREFIX = 'switchboard:api:token-used:';
const EVERY_MS = 60_000;
/** Kept this long when tokens never expire from idleness (so that switching idle expiry on later finds recent uses). */
const KEEP_WITHOUT_IDLE_MS = 40 * 86_400_000;

/**
 * When each token was last used, as the gateway sees it: written only by the gateway, at most once
 * a minute per token and process, never into an auth table (the read path writes no PostgreSQL).
 * Each key expires once the token would be idle anyway, so the family cleans itself. A token's last
 * use is the later of this and the row's `last_used_at` / `created_at`; the gateway reads it in the
 * call's one Redis round trip (ApiGatewayService, CALL_SCRIPT).
 */
@Injectable()
export class TokenUse {
  private readonly logger = new Logger('TokenUse');
  private readonly written = new Map<string, number>();

  constructor(@Inject(REDIS) private readonly redis: IORedis) {}

  touch(digest: string, now: number, idleMs: number): void {
    const last = this.written.get(digest);
    if (last !== undefined && now - last < EVERY_MS && now >= last) return;
    if (this.written.size >= 100_000) this.written.clear(); // bounded: at worst one more write per token
    this.written.set(digest, now);
    const ttl = idleMs > 0 ? idleMs + 2 * EVERY_MS : KEEP_WITHOUT_IDLE_MS;
    this.redis.set(TOKEN_USED_PREFIX + digest, String(now), 'PX', ttl).catch((err: Error) => {
      this.written.delete(digest);
      this.logger.warn(`token use not recorded: ${err.message}`);
    });
  }
}
