/**
 * The `keyring_version` setting (docs/architecture.md, "Key material"): auth increases it in every
 * transaction that changes key material; every process holding a copy of keys reads it with its
 * data and fetches newer keys when it moved. Written here once for all of them.
 */
export const KEYRING_VERSION_SETTING = 'keyring_version';

/** A derived table `(… AS v)` giving the current version (0 before any change), for a FROM clause. */
export const KEYRING_VERSION_SUBQUERY = `(SELECT coalesce((SELECT (value #>> '{}')::bigint FROM settings WHERE key = '${KEYRING_VERSION_SETTING}'), 0)::int AS v)`;

/** The current version alone, as column `v`. */
export const KEYRING_VERSION_SQL = `SELECT v.v FROM ${KEYRING_VERSION_SUBQUERY} v`;

/** Anything that runs SQL: a DataSource, an EntityManager inside a transaction, a QueryRunner. */
interface Sql {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Increases the keyring version in the caller's transaction. Every change of key material (a
 * slave's registration, key or enabled state, a per-slave master key, the global key switch, an
 * application key) calls it before committing, so that no copy of keys is served older than the
 * last committed change.
 */
export async function bumpKeyringVersion(sql: Sql): Promise<void> {
  await sql.query(
    `INSERT INTO settings (key, value, updated_at) VALUES ($1, '1'::jsonb, now())
     ON CONFLICT (key) DO UPDATE SET value = to_jsonb(coalesce((settings.value #>> '{}')::bigint, 0) + 1), updated_at = now()`,
    [KEYRING_VERSION_SETTING],
  );
}
