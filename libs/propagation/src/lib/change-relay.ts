import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ACTION_FIELDS } from './member-fields';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { promoteIn } from './delivery-sql';
import type { ReadyDelivery } from './delivery-types';

const RELAY_LOCK = 7_106_362_848;
/**
 * Outbox ids are taken before commit, so a change can become visible after a higher id was relayed.
 * The relay looks back this far behind what it has relayed (each event is relayed once: its row in
 * propagation_changes), so a late commit is relayed too.
 */
const LOOK_BACK = "interval '1 minute'";

/**
 * The relay in one statement. One relay at a time across propagators: an advisory lock, taken by
 * the statement and held until it ends (not row locks: the outbox's publisher locks the same outbox
 * rows briefly, and SKIP LOCKED would make us miss them). Two relays overlapping anyway would
 * insert nothing twice (unique seq, unique (event_id, slave_id)).
 *
 * An event is propagated when its payload has a change (`propagate`) and a member (`memberId`);
 * every event gets its row in propagation_changes (our progress), with the change only then. A
 * merge also waits for the removed member's line (`blocking_member_id`: its pending changes go
 * first). Data-modifying CTEs see the statement's snapshot, not each other's rows: the deliveries
 * are computed from the events read, not from the copies inserted.
 */
const RELAY_SQL = `
  WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1) AS locked),
  src AS MATERIALIZED (
    SELECT o.id AS seq, o.event_id, o.payload FROM outbox_events o
     WHERE (SELECT locked FROM lock) AND o.id > $2
       AND NOT EXISTS (SELECT 1 FROM propagation_changes c WHERE c.seq = o.id)
     ORDER BY o.id LIMIT $3),
  ev AS MATERIALIZED (
    SELECT x.seq, x.event_id, x.member_id, x.action, x.origin,
           CASE WHEN x.action = 'merge' AND x.removed ~ '^[0-9]{1,9}$' THEN x.removed::int END AS blocking
      FROM (SELECT src.seq, src.event_id, (src.payload->>'memberId')::int AS member_id,
                   src.payload->'propagate'->>'action' AS action, (src.payload->>'slaveId')::int AS origin,
                   (SELECT p.v->>1 FROM jsonb_array_elements(src.payload->'propagate'->'params') WITH ORDINALITY AS p(v, n)
                     WHERE p.v->>0 = 'remove' ORDER BY p.n LIMIT 1) AS removed
              FROM src
             WHERE jsonb_typeof(src.payload->'propagate') = 'object' AND jsonb_typeof(src.payload->'memberId') = 'number') x),
  changes AS (
    INSERT INTO propagation_changes (seq, event_id, propagate, relayed_at)
    SELECT seq, event_id, CASE WHEN jsonb_typeof(payload->'memberId') <> 'null' THEN nullif(payload->'propagate', 'null'::jsonb) END, $5::timestamptz
      FROM src ORDER BY seq
    ON CONFLICT DO NOTHING),
  inserted AS (
    -- Every event × every enabled slave with a key, the originator excluded.
    INSERT INTO deliveries (event_id, seq, slave_id, member_id, blocking_member_id, action, fields, status, next_attempt_at, created_at, updated_at)
    SELECT e.event_id, e.seq, s.id, e.member_id, e.blocking, e.action,
           ARRAY(SELECT jsonb_array_elements_text(coalesce($4::jsonb->e.action, '[]'::jsonb))), 'waiting', $5::timestamptz, $5::timestamptz, $5::timestamptz
      FROM ev e JOIN slaves s ON s.enabled AND s.slave_key_sealed IS NOT NULL AND s.id IS DISTINCT FROM e.origin
     ORDER BY e.seq, s.id
    ON CONFLICT (event_id, slave_id) DO NOTHING)
  SELECT (SELECT count(*) FROM src)::int AS events,
         ARRAY(SELECT DISTINCT m FROM ev, LATERAL (VALUES (ev.member_id), (ev.blocking)) AS v(m) WHERE m IS NOT NULL ORDER BY m) AS members`;

/**
 * Outbox → deliveries (spec D15). Reads the change outbox (never writes it) and keeps its own
 * progress and copy of each change in propagation_changes (written only by the propagator).
 */
@Injectable()
export class ChangeRelay {
  /** Outbox ids at or below this are relayed (see LOOK_BACK); unknown until the first pass. */
  private floor?: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  private now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  /**
   * Turns up to `limit` committed outbox events not relayed yet into deliveries, one per enabled
   * slave that has registered its key, the originator excluded, and copies each change. Returns the
   * deliveries now at the head of their line and the members concerned.
   *
   * One statement (no transaction around it) reads the events, copies the changes and inserts the
   * deliveries: the copy and the deliveries of an event commit together, which is what the order
   * of each line needs (a relay that sees an event's copy sees its deliveries). Then one statement
   * promotes the heads of the lines concerned. Two round trips on the way from a commit to the
   * queue, where a transaction of five statements plus a promote after it took eight.
   */
  async relayBatch(limit = 100): Promise<{ events: number; ready: ReadyDelivery[]; members: number[] }> {
    if (this.floor === undefined) await this.advanceFloor();
    const now = this.now();
    const [row] = (await this.db.query(RELAY_SQL, [RELAY_LOCK, this.floor ?? '0', limit, JSON.stringify(ACTION_FIELDS), now])) as { events: number; members: number[] | null }[];
    const events = Number(row?.events ?? 0);
    if (events === 0) return { events: 0, ready: [], members: [] };
    const members = row.members ?? [];
    // After the commit: a worker finishing a delivery of the same line meanwhile sees the new
    // deliveries (and promotes them itself), or this promote sees its delivery final.
    const ready = members.length ? await promoteIn(this.db, now, { members }) : [];
    return { events, ready, members };
  }

  /** Moves the relay's look-back floor up to what was relayed more than LOOK_BACK ago (repair pass). */
  async advanceFloor(): Promise<void> {
    const [row] = (await this.db.query(
      `SELECT seq FROM propagation_changes WHERE relayed_at < now() - ${LOOK_BACK} ORDER BY seq DESC LIMIT 1`,
    )) as { seq: string }[];
    this.floor = row ? String(row.seq) : '0';
  }

  /** Seconds since the oldest outbox event not relayed yet was committed (0: none). */
  async lagSeconds(): Promise<number> {
    const [{ lag }] = await this.db.query(
      `SELECT coalesce(extract(epoch FROM (now() - min(o.created_at))), 0)::float AS lag FROM outbox_events o
        WHERE o.id > $1 AND NOT EXISTS (SELECT 1 FROM propagation_changes c WHERE c.seq = o.id)`,
      [this.floor ?? '0'],
    );
    return Number(lag);
  }
}
