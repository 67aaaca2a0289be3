import { randomBytes, randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sha256Hex } from '@switchboard/crypto';
import { AppFrobEntity, AppGrantEntity, MemberEntity } from '@switchboard/db';
import type { Grant } from './permissions';

const FROB_TTL_MS = 10 * 60_000;

/** `<digits>-<hex>` (A5), 128 random bits in the hex part, URL-safe. */
function credential(): string {
  return `${randomInt(1, 1_000_000_000)}-${randomBytes(16).toString('hex')}`;
}

/**
 * Frobs, grants and tokens (A5), stored as SHA-256 digests. One grant per (member, key); a new
 * consent replaces its permissions and tokens already issued keep working with them. Tokens are
 * resolved by the gateway (ApiReads, one statement per call); their last use is the gateway's
 * (TokenUse), never written here on a read.
 */
@Injectable()
export class GrantsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A new frob for `apiKey`; with `approval`, already approved by that member (web flow). */
  async newFrob(apiKey: string, now: Date, approval?: { memberId: number; permissions: Grant }): Promise<string> {
    const frob = credential();
    await this.db.getRepository(AppFrobEntity).insert({
      digest: sha256Hex(frob),
      apiKey,
      memberId: approval?.memberId ?? null,
      permissions: (approval?.permissions as Record<string, string>) ?? null,
      expiresAt: new Date(now.getTime() + FROB_TTL_MS),
    });
    return frob;
  }

  /** Desktop flow: the member approves a frob the application got from auth.getFrob. */
  async approveFrob(apiKey: string, frob: string, memberId: number, permissions: Grant, now: Date): Promise<boolean> {
    const r = await this.db
      .createQueryBuilder()
      .update(AppFrobEntity)
      .set({ memberId, permissions: permissions as Record<string, string> })
      .where('digest = :d AND api_key = :k AND used_at IS NULL AND expires_at > :now', { d: sha256Hex(frob), k: apiKey, now })
      .execute();
    return !!r.affected;
  }

  /** Whether `frob` is a live frob of `apiKey` (for the consent page of the desktop flow). */
  async frobUsable(apiKey: string, frob: string, now: Date): Promise<boolean> {
    const f = await this.db.getRepository(AppFrobEntity).findOneBy({ digest: sha256Hex(frob), apiKey });
    return !!f && !f.usedAt && f.expiresAt > now;
  }

  /**
   * auth.getToken: an approved, unused, unexpired frob of this key becomes a token. A frob not yet
   * approved is not consumed (the application may ask again after approval). Null → error 2.
   */
  async exchange(apiKey: string, frob: string, now: Date): Promise<{ token: string; grant: AppGrantEntity } | null> {
    return this.db.transaction(async (m) => {
      const f = await m
        .getRepository(AppFrobEntity)
        .createQueryBuilder('f')
        .where('f.digest = :d AND f.api_key = :k', { d: sha256Hex(frob), k: apiKey })
        .setLock('pessimistic_write')
        .getOne();
      if (!f || f.usedAt || f.expiresAt <= now || f.memberId === null || !f.permissions) return null;
      if (!(await m.getRepository(MemberEntity).findOneBy({ id: f.memberId }))) return null;
      await m.update(AppFrobEntity, { digest: f.digest }, { usedAt: now });
      await m.query(
        `INSERT INTO app_grants (member_id, api_key, permissions, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (member_id, api_key) DO UPDATE SET permissions = EXCLUDED.permissions, updated_at = EXCLUDED.updated_at`,
        [f.memberId, apiKey, JSON.stringify(f.permissions), now],
      );
      const grant = (await m.getRepository(AppGrantEntity).findOneBy({ memberId: f.memberId, apiKey }))!;
      const token = credential();
      await m.query(`INSERT INTO app_tokens (digest, grant_id, created_at) VALUES ($1, $2, $3)`, [sha256Hex(token), grant.id, now]);
      return { token, grant };
    });
  }

  /** Ends a grant and every token of it. */
  async revoke(grantId: number): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`DELETE FROM app_tokens WHERE grant_id = $1`, [grantId]);
      await m.query(`DELETE FROM app_grants WHERE id = $1`, [grantId]);
    });
  }

  /** A member's authorized applications (for the page where they revoke them). */
  async grantsOf(memberId: number): Promise<{ grant: AppGrantEntity; title: string }[]> {
    const rows: { id: number; api_key: string; permissions: Record<string, string>; title: string; created_at: Date; updated_at: Date; member_id: number }[] =
      await this.db.query(`SELECT g.*, k.title FROM app_grants g JOIN app_keys k ON k.api_key = g.api_key WHERE g.member_id = $1 ORDER BY g.id`, [memberId]);
    return rows.map((r) => ({
      grant: { id: r.id, apiKey: r.api_key, memberId: r.member_id, permissions: r.permissions, createdAt: r.created_at, updatedAt: r.updated_at },
      title: r.title,
    }));
  }
}
