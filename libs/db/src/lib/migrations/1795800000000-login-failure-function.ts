import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Spec D12's failure count as one statement (the gateway's wrong-password path): under the member's
 * share lock and the lockout record's row lock, the record that counts (voided by a later
 * `members.lockout_reset_at`), the lock check, then the next state — the same rules as
 * `afterFailure` / `isLocked` in libs/credentials (a property test compares them). One round trip,
 * its commit not waited for (`synchronous_commit` off for that transaction only).
 */
export class LoginFailureFunction1795800000000 implements MigrationInterface {
  name = 'LoginFailureFunction1795800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION switchboard_login_failure(p_member integer, p_now timestamptz, p_threshold integer, p_window_ms bigint, p_base_ms bigint, p_max_ms bigint)
      RETURNS TABLE (outcome text, locked_until timestamptz, locked_now boolean)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_reset timestamptz; r record; v_valid boolean; v_failed integer; v_first timestamptz; v_locked timestamptz; v_count integer;
        v_in_window boolean; v_next integer;
      BEGIN
        PERFORM set_config('synchronous_commit', 'off', true);
        SELECT m.lockout_reset_at INTO v_reset FROM members m WHERE m.id = p_member FOR SHARE;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'gone'::text, NULL::timestamptz, false;
          RETURN;
        END IF;
        INSERT INTO login_lockouts (member_id, updated_at) VALUES (p_member, clock_timestamp()) ON CONFLICT DO NOTHING;
        SELECT * INTO r FROM login_lockouts l WHERE l.member_id = p_member FOR UPDATE;
        v_valid := v_reset IS NULL OR r.updated_at > v_reset;
        v_failed := CASE WHEN v_valid THEN r.failed_logins ELSE 0 END;
        v_first := CASE WHEN v_valid THEN r.first_failed_at END;
        v_locked := CASE WHEN v_valid THEN r.locked_until END;
        v_count := CASE WHEN v_valid THEN r.lock_count ELSE 0 END;
        IF v_locked IS NOT NULL AND v_locked > p_now THEN
          RETURN QUERY SELECT 'locked'::text, v_locked, false;
          RETURN;
        END IF;
        v_in_window := v_first IS NOT NULL AND (p_now - v_first) < p_window_ms * interval '1 millisecond';
        v_next := (CASE WHEN v_in_window THEN v_failed ELSE 0 END) + 1;
        IF v_next < p_threshold THEN
          UPDATE login_lockouts SET failed_logins = v_next, first_failed_at = CASE WHEN v_in_window THEN v_first ELSE p_now END,
                 locked_until = v_locked, lock_count = v_count, updated_at = clock_timestamp()
           WHERE member_id = p_member;
          RETURN QUERY SELECT 'counted'::text, v_locked, false;
        ELSE
          v_locked := p_now + LEAST(p_base_ms::float8 * power(2::float8, LEAST(v_count, 30)), p_max_ms::float8) * interval '1 millisecond';
          UPDATE login_lockouts SET failed_logins = 0, first_failed_at = NULL, locked_until = v_locked, lock_count = v_count + 1, updated_at = clock_timestamp()
           WHERE member_id = p_member;
          RETURN QUERY SELECT 'counted'::text, v_locked, true;
        END IF;
      END
      $fn$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION switchboard_login_failure(integer, timestamptz, integer, bigint, bigint, bigint)`);
  }
}
