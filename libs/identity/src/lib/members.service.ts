import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SecretBox } from '@switchboard/crypto';
import { MemberEntity } from '@switchboard/db';
import { EventType, PropagatedAction, SEALED_PARAM_PURPOSE, appendToOutbox, newEvent } from '@switchboard/events';
import { matchKey } from '@switchboard/ips-protocol';
import { PassDigester } from '@switchboard/credentials';


export interface NewMember {
  name: string;
  email: string;
  passHash: string;
  passSalt: string;
  revalidateUrl: string | null;
  validating?: boolean;
  /** Keep this id (imports from an existing network); allocated from the sequence otherwise. */
  id?: number;
}

export type RegisterOutcome =
  | { outcome: 'created'; member: MemberEntity }
  | { outcome: 'existing'; member: MemberEntity }
  | { outcome: 'email_in_use' }
  | { outcome: 'name_in_use' }
  | { outcome: 'id_in_use' };

export type ChangeOutcome = 'changed' | 'unchanged' | 'not_found' | 'in_use';

/** Where a change came from: the originating slave is excluded from its propagation. */
export interface Origin {
  slaveId: number | null;
  source: string;
}

function uniqueViolation(err: unknown): string | null {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e.code !== '23505') return null;
  return `${e.constraint ?? ''} ${e.detail ?? ''}`;
}

/** A unique violation on the e-mail key (else the name or the id). */
const isEmailClash = (which: string) => /email_key|UQ_2a31aad55bd68dfbf01d83d5d44/.test(which);

/**
 * Members and their credentials; the only writer of the `members` table. Every accepted change
 * commits with its outbox event (and the IPS parameters each other slave will receive, pass_hash
 * sealed) in one transaction (spec D15).
 */
@Injectable()
export class MembersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(PassDigester) private readonly digester: PassDigester,
  ) {}

  findById(id: number): Promise<MemberEntity | null> {
    return this.db.getRepository(MemberEntity).findOneBy({ id });
  }

  passMatches(member: Pick<MemberEntity, 'passDigest'>, passHash: string): boolean {
    return this.digester.matches(passHash, member.passDigest);
  }

  private async record(
    manager: EntityManager,
    type: EventType,
    origin: Origin,
    memberId: number,
    data: Record<string, unknown>,
    now: Date,
    propagate?: { action: PropagatedAction; params: [string, string][] },
  ) {
    const sealed = propagate?.params.filter(([name]) => name === 'pass_hash').map(([name]) => name) ?? [];
    const params = propagate?.params.map(([name, value]): [string, string] =>
      sealed.includes(name) ? [name, this.box.seal(value, SEALED_PARAM_PURPOSE)] : [name, value],
    );
    await appendToOutbox(
      manager,
      newEvent(type, origin.source, {
        slaveId: origin.slaveId,
        memberId,
        data,
        propagate: propagate ? { action: propagate.action, params: params!, sealed } : undefined,
      }, now),
    );
  }

  private async insert(manager: EntityManager, m: NewMember, now: Date): Promise<MemberEntity> {
    let id = m.id;
    if (id === undefined) {
      const [{ nextval }] = await manager.query(`SELECT nextval('members_id_seq')::int AS nextval`);
      id = nextval as number;
    }
    const member = manager.create(MemberEntity, {
      id,
      name: m.name,
      nameKey: matchKey(m.name),
      email: m.email,
      emailKey: matchKey(m.email),
      passSalt: m.passSalt,
      passDigest: this.digester.digest(m.passHash),
      validating: m.validating ?? false,
      revalidateUrl: m.revalidateUrl,
      createdAt: now,
      updatedAt: now,
    });
    await manager.insert(MemberEntity, member);
    if (m.id !== undefined) {
      // An imported id moves the sequence past it, so allocated ids never collide with it.
      await manager.query(
        `SELECT setval('members_id_seq', GREATEST($1::int, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM members_id_seq)))`,
        [m.id],
      );
    }
    return member;
  }

  /**
   * `register` (spec §2.8, D9): an e-mail in use → email_in_use, then a name in use → name_in_use;
   * the same e-mail, name and pass_hash again → the existing account (a slave retrying), nothing new.
   */
  async register(m: NewMember, origin: Origin, now: Date): Promise<RegisterOutcome> {
    try {
      return await this.db.transaction(async (manager) => {
        const repo = manager.getRepository(MemberEntity);
        const byEmail = await repo.findOneBy({ emailKey: matchKey(m.email) });
        if (byEmail) {
          const same = byEmail.nameKey === matchKey(m.name) && this.passMatches(byEmail, m.passHash);
          return same ? { outcome: 'existing', member: byEmail } : { outcome: 'email_in_use' };
        }
        if (await repo.findOneBy({ nameKey: matchKey(m.name) })) return { outcome: 'name_in_use' };
        if (m.id !== undefined && (await repo.findOneBy({ id: m.id }))) return { outcome: 'id_in_use' };
        const member = await this.insert(manager, m, now);
        await this.record(manager, 'user_created', origin, member.id, { name: member.name, email: member.email }, now, {
          action: 'register',
          params: [
            ['name', member.name],
            ['email', member.email],
            ['pass_hash', m.passHash],
            ['pass_salt', member.passSalt],
            ['id', String(member.id)],
            ['revalidateUrl', member.revalidateUrl ?? ''],
          ],
        });
        return { outcome: 'created', member };
      });
    } catch (err) {
      // Two registrations racing for one e-mail or name: the loser sees the unique constraint.
      const which = uniqueViolation(err);
      if (which === null) throw err;
      if (isEmailClash(which)) return { outcome: 'email_in_use' };
      if (/pk_members/.test(which)) return { outcome: 'id_in_use' };
      return { outcome: 'name_in_use' };
    }
  }

  /** Runs `change` on the locked member row; `not_found` when the id is unknown (spec D10). */
  private async withMember<T>(id: number, change: (manager: EntityManager, member: MemberEntity) => Promise<T>): Promise<T | 'not_found'> {
    return this.db.transaction(async (manager) => {
      const member = await manager
        .getRepository(MemberEntity)
        .createQueryBuilder('m')
        .where('m.id = :id', { id })
        .setLock('pessimistic_write')
        .getOne();
      if (!member) return 'not_found';
      return change(manager, member);
    });
  }

  async validate(id: number, origin: Origin, now: Date): Promise<'changed' | 'not_found'> {
    return this.withMember(id, async (manager, member) => {
      await manager.update(MemberEntity, { id }, { validating: false, revalidateUrl: null, updatedAt: now });
      await this.record(manager, 'user_validated', origin, id, { was_validating: member.validating || member.revalidateUrl !== null }, now, {
        action: 'validate',
        params: [['id', String(id)]],
      });
      return 'changed' as const;
    });
  }

  async delete(id: number, origin: Origin, now: Date): Promise<'changed' | 'not_found'> {
    return this.withMember(id, async (manager, member) => {
      await manager.delete(MemberEntity, { id });
      await this.record(manager, 'user_deleted', origin, id, { name: member.name }, now, {
        action: 'delete',
        params: [['id', String(id)]],
      });
      return 'changed' as const;
    });
  }

  async ban(id: number, banned: boolean, origin: Origin, now: Date): Promise<'changed' | 'not_found'> {
    return this.withMember(id, async (manager) => {
      await manager.update(MemberEntity, { id }, { banned, updatedAt: now });
      await this.record(manager, banned ? 'user_banned' : 'user_unbanned', origin, id, {}, now, {
        action: 'ban',
        params: [
          ['id', String(id)],
          ['status', banned ? '1' : '0'],
        ],
      });
      return 'changed' as const;
    });
  }

  /** `merge` (§2.12): both must exist and differ; propagate, then delete `remove` on the master. */
  async merge(keep: number, remove: number, origin: Origin, now: Date): Promise<'changed' | 'not_found'> {
    if (keep === remove) return 'not_found';
    return this.db.transaction(async (manager) => {
      const members = await manager
        .getRepository(MemberEntity)
        .createQueryBuilder('m')
        .where('m.id IN (:...ids)', { ids: [keep, remove] })
        .orderBy('m.id')
        .setLock('pessimistic_write')
        .getMany();
      if (members.length !== 2) return 'not_found';
      await this.record(manager, 'user_merged', origin, keep, { removed: remove }, now, {
        action: 'merge',
        params: [
          ['id', String(keep)],
          ['remove', String(remove)],
        ],
      });
      await manager.delete(MemberEntity, { id: remove });
      return 'changed' as const;
    });
  }

  /** Whether another member holds `value` as its e-mail address or name (compared as D7 keys). */
  private async heldByAnother(manager: EntityManager, field: 'email' | 'name', value: string, id: number): Promise<boolean> {
    const holder = await manager.getRepository(MemberEntity).findOneBy(field === 'email' ? { emailKey: matchKey(value) } : { nameKey: matchKey(value) });
    return holder !== null && holder.id !== id;
  }

  /** Writes a new e-mail address (sessions void: `epoch`) and records it as changeEmail. */
  private async applyEmail(manager: EntityManager, member: MemberEntity, email: string, epoch: number, origin: Origin, now: Date): Promise<void> {
    const id = member.id;
    await manager.update(MemberEntity, { id }, { email, emailKey: matchKey(email), sessionEpoch: epoch, updatedAt: now });
    await this.record(manager, 'user_updated', origin, id, { field: 'email', from: member.email, to: email }, now, {
      action: 'changeEmail',
      params: [
        ['id', String(id)],
        ['email', email],
      ],
    });
  }

  /** Writes a new name and records it as changeName. */
  private async applyName(manager: EntityManager, member: MemberEntity, name: string, origin: Origin, now: Date): Promise<void> {
    const id = member.id;
    await manager.update(MemberEntity, { id }, { name, nameKey: matchKey(name), updatedAt: now });
    await this.record(manager, 'user_updated', origin, id, { field: 'name', from: member.name, to: name }, now, {
      action: 'changeName',
      params: [
        ['id', String(id)],
        ['name', name],
      ],
    });
  }

  /** `changeEmail` (§2.14, D10). */
  async changeEmail(id: number, email: string, origin: Origin, now: Date): Promise<ChangeOutcome> {
    try {
      return await this.withMember(id, async (manager, member) => {
        if (member.email === email) return 'unchanged' as const;
        if (await this.heldByAnother(manager, 'email', email, id)) return 'in_use' as const;
        await this.applyEmail(manager, member, email, member.sessionEpoch + 1, origin, now);
        return 'changed' as const;
      });
    } catch (err) {
      if (uniqueViolation(err) !== null) return 'in_use';
      throw err;
    }
  }

  /** `changeName` (§2.16, D10). */
  async changeName(id: number, name: string, origin: Origin, now: Date): Promise<ChangeOutcome> {
    try {
      return await this.withMember(id, async (manager, member) => {
        if (member.name === name) return 'unchanged' as const;
        if (await this.heldByAnother(manager, 'name', name, id)) return 'in_use' as const;
        await this.applyName(manager, member, name, origin, now);
        return 'changed' as const;
      });
    } catch (err) {
      if (uniqueViolation(err) !== null) return 'in_use';
      throw err;
    }
  }

  /**
   * An admin's edit of several fields at once (admin API `PATCH /admin/members/:id`): one
   * transaction, every clash checked before anything is written (`{inUse}` names the field), then
   * each changed field recorded exactly as the slave-originated action would be (changeEmail,
   * changeName, changePassword, in that order), so slaves receive the same calls.
   */
  async update(
    id: number,
    changes: { name?: string; email?: string; passHash?: string; passSalt?: string },
    origin: Origin,
    now: Date,
  ): Promise<'changed' | 'unchanged' | 'not_found' | { inUse: 'email' | 'name' }> {
    try {
      return await this.withMember(id, async (manager, member) => {
        const email = changes.email !== undefined && changes.email !== member.email ? changes.email : undefined;
        const name = changes.name !== undefined && changes.name !== member.name ? changes.name : undefined;
        if (email !== undefined && (await this.heldByAnother(manager, 'email', email, id))) return { inUse: 'email' as const };
        if (name !== undefined && (await this.heldByAnother(manager, 'name', name, id))) return { inUse: 'name' as const };
        if (email === undefined && name === undefined && changes.passHash === undefined) return 'unchanged' as const;
        let epoch = member.sessionEpoch;
        if (email !== undefined) await this.applyEmail(manager, member, email, ++epoch, origin, now);
        if (name !== undefined) await this.applyName(manager, member, name, origin, now);
        if (changes.passHash !== undefined && changes.passSalt !== undefined) {
          await this.applyPassword(manager, id, epoch + 1, changes.passHash, changes.passSalt, origin, now);
        }
        return 'changed' as const;
      });
    } catch (err) {
      const which = uniqueViolation(err);
      if (which === null) throw err;
      return { inUse: isEmailClash(which) ? 'email' : 'name' };
    }
  }

  /**
   * "Log out everywhere" (admin API): the member's session epoch moves on, so every master session
   * created before (gateway, consent page) stops counting at its next use, on every gateway
   * process. Slaves keep their own sessions: IPS Connect has no call that ends them
   * (docs/admin-api.md).
   */
  async logoutEverywhere(id: number, origin: Origin, now: Date): Promise<'changed' | 'not_found'> {
    return this.withMember(id, async (manager, member) => {
      await manager.update(MemberEntity, { id }, { sessionEpoch: member.sessionEpoch + 1, updatedAt: now });
      await this.record(manager, 'session_expired', origin, id, { reason: 'logout_everywhere' }, now);
      return 'changed' as const;
    });
  }

  private async applyPassword(manager: EntityManager, id: number, epoch: number, passHash: string, passSalt: string, origin: Origin, now: Date): Promise<void> {
    await manager.update(MemberEntity, { id }, {
      passDigest: this.digester.digest(passHash),
      passSalt,
      sessionEpoch: epoch,
      // The gateway's lockout record written before this no longer counts (docs/architecture.md).
      lockoutResetAt: () => 'clock_timestamp()',
      updatedAt: now,
    });
    await this.record(manager, 'authn_password_change', origin, id, {}, now, {
      action: 'changePassword',
      params: [
        ['id', String(id)],
        ['pass_hash', passHash],
        ['pass_salt', passSalt],
      ],
    });
  }

  /** `changePassword` (§2.15): new hash and salt, sessions void, lockout cleared. */
  async changePassword(id: number, passHash: string, passSalt: string, origin: Origin, now: Date): Promise<'changed' | 'not_found'> {
    return this.withMember(id, async (manager, member) => {
      await this.applyPassword(manager, id, member.sessionEpoch + 1, passHash, passSalt, origin, now);
      return 'changed' as const;
    });
  }
}
