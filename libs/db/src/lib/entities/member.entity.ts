import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A network account (IPS Connect `connect_id`). Written only by the auth service.
 * `pass_hash` is never stored: `pass_digest` is HMAC-SHA256 of it under a key derived from
 * SECRETS_KEY (spec D13). Names and e-mails are unique by their Unicode lower case (D8), kept in
 * `name_key` / `email_key`.
 */
@Entity({ name: 'members' })
@Check('ck_members_id_positive', '"id" > 0')
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

  /**
   * Set by auth when an admin unlocks the member or the password changes: the gateway's lockout
   * record (`login_lockouts`) counts only if it was written after this (D12).
   */
  @Column({ name: 'lockout_reset_at', type: 'timestamptz', nullable: true })
  lockoutResetAt!: Date | null;

  /** Bumped on password and e-mail changes: master sessions of an older epoch are void. */
  @Column({ name: 'session_epoch', type: 'integer', default: 0 })
  sessionEpoch!: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
