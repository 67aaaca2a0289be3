import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Propagation } from '@switchboard/events';
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
   */
  async relayBatch(limit = 100): Promise<{ events: number; ready: ReadyDelivery[]; members: number[] }> {
    if (this.floor === undefined) await this.advanceFloor();
    return this.db.transaction(async (manager) => {
      // One relay at a time across propagators (an advisory lock, not row locks: the outbox's
      // publisher locks the same outbox rows briefly, and SKIP LOCKED would make us miss them).
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [RELAY_LOCK]);
      if (!locked) return { events: 0, ready: [], members: [] };
      const rows: { id: string; event_id: string; payload: { propagate?: Propagation; memberId?: number | null; slaveId?: number | null } }[] = await manager.query(
        `SELECT o.id, o.event_id, o.payload FROM outbox_events o
          WHERE o.id > $1 AND NOT EXISTS (SELECT 1 FROM propagation_changes c WHERE c.seq = o.id)
          ORDER BY o.id LIMIT $2`,
        [this.floor ?? '0', limit],
      );
      if (rows.length === 0) return { events: 0, ready: [], members: [] };
      const now = this.now();
      const members = new Set<number>();
      const events: { event_id: string; seq: string; member_id: number; blocking: number | null; action: string; fields: string[]; origin: number | null }[] = [];
      for (const row of rows) {
        const payload = row.payload;
        if (!payload.propagate || typeof payload.memberId !== 'number') continue;
        members.add(payload.memberId);
        // A merge also waits for the removed member's line (its pending changes go out first).
        const removed = payload.propagate.action === 'merge' ? Number(payload.propagate.params.find(([k]) => k === 'remove')?.[1]) : NaN;
        if (Number.isInteger(removed)) members.add(removed);
        events.push({
          event_id: row.event_id,
          seq: String(row.id),
          member_id: payload.memberId,
          blocking: Number.isInteger(removed) ? removed : null,
          action: payload.propagate.action,
          fields: ACTION_FIELDS[payload.propagate.action] ?? [],
          origin: payload.slaveId ?? null,
        });
      }
      // Our progress and our copy of each change (what the deliveries send; its secrets erased later).
      await manager.query(
        `INSERT INTO propagation_changes (seq, event_id, propagate, relayed_at)
         SELECT c.seq, c.event_id, c.propagate, $2 FROM jsonb_to_recordset($1::jsonb) AS c(seq bigint, event_id uuid, propagate jsonb)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(rows.map((r) => ({ seq: String(r.id), event_id: r.event_id, propagate: r.payload.memberId != null ? (r.payload.propagate ?? null) : null }))), now],
      );
      // One statement for the whole batch: every event × every enabled slave with a key, the originator excluded.
      if (events.length) {
        await manager.query(
          `INSERT INTO deliveries (event_id, seq, slave_id, member_id, blocking_member_id, action, fields, status, next_attempt_at, created_at, updated_at)
           SELECT e.event_id, e.seq, s.id, e.member_id, e.blocking, e.action, e.fields, 'waiting', $2, $2, $2
             FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, seq bigint, member_id int, blocking int, action text, fields text[], origin int)
             JOIN slaves s ON s.enabled AND s.slave_key_sealed IS NOT NULL AND s.id IS DISTINCT FROM e.origin
            ORDER BY e.seq, s.id
           ON CONFLICT (event_id, slave_id) DO NOTHING`,
          [JSON.stringify(events), now],
        );
      }
      const ready = members.size ? await promoteIn(manager, now, { members: [...members] }) : [];
      return { events: rows.length, ready, members: [...members] };
    });
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
