/**
 * The soak's verdict, as pure functions over what was recorded: the changes the master committed
 * (in its commit order) and, per slave, every change it applied in arrival order. The definitions
 * (also in docs/propagation.md, "Soak"):
 *
 * - **lost**: a (change, slave) pair that was due (the change committed at the master, the slave
 *   registered before it and not its originator) and that the slave never applied.
 * - **out_of_order**: the first application at a slave of a change older (master commit order) than
 *   a change of the same member the slave had already applied; a merge counts as a change of both
 *   members (the removed member's pending changes must arrive before it, D15).
 * - **duplicated**: a change applied again at a slave after a newer change of the same member had
 *   been applied there (the repeat put an old value back), a change echoed to its own originator,
 *   or a change the master turned into more than one delivery for one slave (`masterDuplicates`).
 *   The product promises at-least-once delivery of idempotent actions (docs/propagation.md): a
 *   repeat that arrives before anything newer of that member changes nothing, and is counted as
 *   `redelivered`, not here.
 */

export type SoakAction = 'register' | 'changeEmail' | 'changeName' | 'changePassword' | 'ban' | 'delete' | 'merge';

/** A change as committed by the master. */
export interface CommittedChange {
  /** Unique per change: see signatureOf. */
  sig: string;
  action: SoakAction;
  /** The member the master filed the change under (for a merge: the member kept). */
  member: number;
  /** For a merge: the member removed. */
  remove?: number;
  /** The master's commit order (the outbox id). */
  seq: number;
  /** The originating slave (index), or null for a change made on the master itself. */
  origin: number | null;
  /** When the originating call got its answer (ms since epoch), for latency figures. */
  committedAt: number;
}

/** One change applied at a slave, in arrival order. */
export interface Applied {
  sig: string;
  at: number;
  /** The slave's own change, applied locally when the master accepted it (not a delivery). */
  own?: boolean;
}

export interface Verdict {
  lost: number;
  outOfOrder: number;
  duplicated: number;
  /** Harmless repeats (at-least-once): the change again, before anything newer of that member. */
  redelivered: number;
  /** Requests a slave applied that match no committed change (should be 0). */
  unexpected: number;
  /** Due (change, slave) pairs, and those applied. */
  due: number;
  delivered: number;
  /** Commit → first application at each slave, ms, one per delivered pair. */
  latencies: number[];
  /** Up to 20 examples of each anomaly, for the report. */
  examples: string[];
}

/**
 * The IPS parameters of a propagated change, reduced to what identifies it. Every value the soak
 * generates is unique (e-mails, names, salts), a member is banned at most once and unbanned at
 * most once, and deleted or merged away at most once, so the signature names exactly one change.
 */
export function signatureOf(action: string, p: Record<string, string | undefined>): string {
  switch (action) {
    case 'register':
    case 'delete':
      return `${action}:${p['id']}`;
    case 'changeEmail':
      return `${action}:${p['id']}:${p['email']}`;
    case 'changeName':
      return `${action}:${p['id']}:${p['name']}`;
    case 'changePassword':
      return `${action}:${p['id']}:${p['pass_salt']}`;
    case 'ban':
      return `${action}:${p['id']}:${p['status']}`;
    case 'merge':
      return `${action}:${p['id']}:${p['remove']}`;
    default:
      return `${action}:${p['id'] ?? ''}`;
  }
}

/**
 * Compares what each slave applied with what the master committed. `slaves[i]` is slave i's log in
 * arrival order; `registeredBefore[i]` is the seq from which slave i receives changes (all slaves
 * register before the first change in the soak, so 0).
 */
export function verify(
  changes: CommittedChange[],
  slaves: Applied[][],
  options: { masterDuplicates?: number; registeredBefore?: number[] } = {},
): Verdict {
  const bySig = new Map<string, CommittedChange>();
  for (const c of changes) bySig.set(c.sig, c);
  const v: Verdict = { lost: 0, outOfOrder: 0, duplicated: options.masterDuplicates ?? 0, redelivered: 0, unexpected: 0, due: 0, delivered: 0, latencies: [], examples: [] };
  // Up to 10 examples of each kind of anomaly (so that many lost ones do not hide the rest).
  const kinds = new Map<string, number>();
  const example = (kind: string, s: string) => {
    const seen = kinds.get(kind) ?? 0;
    kinds.set(kind, seen + 1);
    if (seen < 10) v.examples.push(s);
  };

  slaves.forEach((log, slave) => {
    const from = options.registeredBefore?.[slave] ?? 0;
    const applied = new Set<string>();
    /** Per member, the newest seq applied at this slave (a merge counts for both members). */
    const newest = new Map<number, number>();
    const bump = (member: number, seq: number) => newest.set(member, Math.max(newest.get(member) ?? 0, seq));
    for (const r of log) {
      const c = bySig.get(r.sig);
      if (!c) {
        v.unexpected++;
        example('unexpected', `slave ${slave}: applied ${r.sig}, which the master never committed`);
        continue;
      }
      const members = c.remove === undefined ? [c.member] : [c.member, c.remove];
      const newer = Math.max(...members.map((m) => newest.get(m) ?? 0));
      if (r.own) {
        for (const m of members) bump(m, c.seq);
        continue;
      }
      if (c.origin === slave) {
        v.duplicated++;
        example('echo', `slave ${slave}: received its own change ${c.sig}`);
        continue;
      }
      if (applied.has(r.sig)) {
        if (newer > c.seq) {
          v.duplicated++;
          example('repeat', `slave ${slave}: ${c.sig} (seq ${c.seq}) applied again after seq ${newer}`);
        } else v.redelivered++;
        continue;
      }
      applied.add(r.sig);
      if (newer > c.seq) {
        v.outOfOrder++;
        example('order', `slave ${slave}: ${c.sig} (seq ${c.seq}) first applied after seq ${newer} of the same member`);
      }
      for (const m of members) bump(m, c.seq);
      if (c.seq >= from) {
        v.delivered++;
        v.latencies.push(Math.max(0, r.at - c.committedAt));
      }
    }
    for (const c of changes) {
      if (c.origin === slave || c.seq < from) continue;
      v.due++;
      if (!applied.has(c.sig)) {
        v.lost++;
        example('lost', `slave ${slave}: never applied ${c.sig} (seq ${c.seq})`);
      }
    }
  });
  return v;
}

/** A member's fields as a slave or the master holds them. */
export interface MemberState {
  name: string;
  email: string;
  passHash: string;
  passSalt: string;
  banned: boolean;
}

/**
 * (slave, member) pairs whose final record differs from the master's (a member the master no
 * longer has must be gone at the slave too). `master.passHash` may be null: the master keeps only a
 * digest, so the expected hash comes from the soak's own model.
 */
export function stateMismatches(
  master: Map<number, MemberState>,
  slaves: Map<number, MemberState>[],
  examples: string[] = [],
): number {
  let mismatched = 0;
  slaves.forEach((held, slave) => {
    const ids = new Set([...master.keys(), ...held.keys()]);
    for (const id of ids) {
      const want = master.get(id);
      const got = held.get(id);
      const same =
        want === undefined
          ? got === undefined
          : got !== undefined && got.name === want.name && got.email === want.email && got.passHash === want.passHash && got.passSalt === want.passSalt && got.banned === want.banned;
      if (!same) {
        mismatched++;
        if (examples.length < 20) examples.push(`slave ${slave}, member ${id}: holds ${JSON.stringify(got ?? null)}, master ${JSON.stringify(want ?? null)}`);
      }
    }
  });
  return mismatched;
}

/** The p-th percentile (0–100) of `values` (nearest rank); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
