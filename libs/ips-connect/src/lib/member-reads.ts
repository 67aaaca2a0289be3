import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { IdLookup, matchKey } from '@switchboard/ips-protocol';
import { KEYRING_VERSION_SUBQUERY } from '@switchboard/db';

/** What the gateway's read actions need of a member. */
export interface MemberRow {
  id: number;
  pass_salt: string;
}

/** The current keyring version and the member a lookup found (null: none). */
export interface MemberRead {
  version: number;
  member: MemberRow | null;
}

const VERSION = KEYRING_VERSION_SUBQUERY;

/** The keyring version alone (a lookup without a usable value), shaped like the lookups' rows. */
export const VERSION_ONLY_STATEMENT = { name: 'sb_gw_version', text: `SELECT v.v, NULL::int AS id, NULL::text AS pass_salt FROM ${VERSION} v` };

/**
 * Prepared statements (named: parsed and planned once per connection) straight on the `pg` pool,
 * each one round trip that returns the keyring version with the member, read in one snapshot.
 */
const STATEMENTS: Record<IdLookup | 'none', { name: string; text: string }> = {
  none: VERSION_ONLY_STATEMENT,
  name: {
    name: 'sb_gw_member_by_name',
    text: `SELECT v.v, m.id, m.pass_salt FROM ${VERSION} v LEFT JOIN members m ON m.name_key = $1`,
  },
  email: {
    name: 'sb_gw_member_by_email',
    text: `SELECT v.v, m.id, m.pass_salt FROM ${VERSION} v LEFT JOIN members m ON m.email_key = $1`,
  },
  'email-then-name': {
    name: 'sb_gw_member_by_email_then_name',
    text: `SELECT v.v, m.id, m.pass_salt FROM ${VERSION} v
           LEFT JOIN LATERAL (
             SELECT id, pass_salt FROM (
               SELECT id, pass_salt, 1 AS o FROM members WHERE email_key = $1
               UNION ALL
               SELECT id, pass_salt, 2 AS o FROM members WHERE name_key = $1
             ) x ORDER BY o LIMIT 1
           ) m ON true`,
  },
};

/**
 * The gateway's reads of `members` (written only by the auth service): nothing cached, so a read
 * right after a change sees it (docs/architecture.md).
 */
@Injectable()
export class MemberReads {
  private readonly pool: Pool;

  constructor(@InjectDataSource() db: DataSource) {
    // TypeORM's postgres driver keeps its pg Pool as `master`; the hot reads use it directly.
    this.pool = (db.driver as unknown as { master: Pool }).master;
  }

  /** Looks a member up (spec D7/D8); `how` null or `value` undefined reads only the version. */
  async lookup(how: IdLookup | null, value: string | undefined): Promise<MemberRead> {
    const statement = how === null || value === undefined ? STATEMENTS.none : STATEMENTS[how];
    const result = await this.pool.query<{ v: number; id: number | null; pass_salt: string | null }>({
      name: statement.name,
      text: statement.text,
      values: statement === STATEMENTS.none ? [] : [matchKey(value!)],
    });
    const row = result.rows[0];
    return { version: row.v, member: row.id === null ? null : { id: row.id, pass_salt: row.pass_salt! } };
  }
}
