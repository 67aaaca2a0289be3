import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A member's login lockout state (spec D12), written only by the gateway, which runs every login
 * (IPS `login` and the consent page's sign-in). No foreign key: auth deletes members without writing
 * here; a row of a deleted member names nothing. `updated_at` is compared with
 * `members.lockout_reset_at` (auth: admin unlock, password change): an older row counts as clean.
 */
@Entity({ name: 'login_lockouts' })
@Index('ix_login_lockouts_locked_until', ['lockedUntil'], { where: 'locked_until IS NOT NULL' })
export class LoginLockoutEntity {
  @PrimaryColumn({ name: 'member_id', type: 'integer', primaryKeyConstraintName: 'pk_login_lockouts' })
  memberId!: number;

  /** Failed logins in the current window, and the window's start. */
  @Column({ name: 'failed_logins', type: 'integer', default: 0 })
  failedLogins!: number;

  @Column({ name: 'first_failed_at', type: 'timestamptz', nullable: true })
  firstFailedAt!: Date | null;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  /** Locks so far in the current streak; each further lock doubles the duration. */
  @Column({ name: 'lock_count', type: 'integer', default: 0 })
  lockCount!: number;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
