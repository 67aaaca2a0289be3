import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A network account (IPS Connect `connect_id`). Written only by the auth service.
 * `pass_hash` is never stored: `pass_digest` is HMAC-SHA256 of it under a key derived from
 * SECRETS_KEY (spec D13). Names and e-mails are unique by their Unicode lower case (D8), kept in
 * `name_key` / `email_key`.
 */
@Entity({ name: 'members' })
@Check('ck_members_id_positive', '"id" > 0')
@Index('ix_members_locked_until', ['lockedUntil'], { where: 'locked_until IS NOT NULL' })
export class MemberEntity {
  /** Positive int32, from the sequence `members_id_seq` (or given on import), never reused. */
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'pk_members' })
  id!: number;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'name_key', type: 'text', unique: true })
  nameKey!: string;

  @Column({ type: 'text' })
  email!: string;

  @Column({ name: 'email_key', type: 'text', unique: true })
  emailKey!: string;

  @Column({ name: 'pass_salt', type: 'text' })
  passSalt!: string;

  @Column({ name: 'pass_digest', type: 'text' })
  passDigest!: string;

  @Column({ type: 'boolean', default: false })
  validating!: boolean;

  @Column({ name: 'revalidate_url', type: 'text', nullable: true })
  revalidateUrl!: string | null;

  @Column({ type: 'boolean', default: false })
  banned!: boolean;

  /** Failed logins in the current window (D12), the window's start, and the lock. */
  @Column({ name: 'failed_logins', type: 'integer', default: 0 })
  failedLogins!: number;

  @Column({ name: 'first_failed_at', type: 'timestamptz', nullable: true })
  firstFailedAt!: Date | null;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  /** Locks so far in the current streak; each further lock doubles the duration (D12). */
  @Column({ name: 'lock_count', type: 'integer', default: 0 })
  lockCount!: number;

  /** Bumped on password and e-mail changes: master sessions of an older epoch are void. */
  @Column({ name: 'session_epoch', type: 'integer', default: 0 })
  sessionEpoch!: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
