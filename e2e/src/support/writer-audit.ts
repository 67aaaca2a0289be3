import { Client } from 'pg';

/**
 * Who writes which table (issue 11: every table has exactly one writing service). Installs, in a
 * test database, a statement trigger on every table of `public` that records the writing
 * connection's `application_name` (each service's pool has its own: switchboard-auth,
 * switchboard-admin, switchboard-propagator…) and the operation, once per (table, writer, op).
 * Tables created after the install are not watched.
 */
export async function installWriterAudit(databaseUrl: string): Promise<void> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    await pg.query(`
      CREATE TABLE IF NOT EXISTS writer_audit (tbl text NOT NULL, writer text NOT NULL, op text NOT NULL, PRIMARY KEY (tbl, writer, op));
      CREATE OR REPLACE FUNCTION writer_audit_record() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO writer_audit (tbl, writer, op) VALUES (TG_TABLE_NAME, coalesce(current_setting('application_name', true), ''), TG_OP)
        ON CONFLICT DO NOTHING;
        RETURN NULL;
      END $$;`);
    const { rows } = await pg.query<{ t: string }>(
      `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('writer_audit', 'migrations')`,
    );
    for (const { t } of rows) {
      await pg.query(`DROP TRIGGER IF EXISTS writer_audit ON "${t}"`);
      await pg.query(`CREATE TRIGGER writer_audit AFTER INSERT OR UPDATE OR DELETE ON "${t}" FOR EACH STATEMENT EXECUTE FUNCTION writer_audit_record()`);
    }
  } finally {
    await pg.end();
  }
}

/** Per table, the sorted application names that wrote it since installWriterAudit (statements that changed no row count too). */
export async function writersByTable(databaseUrl: string): Promise<Record<string, string[]>> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ tbl: string; writers: string[] }>(
      `SELECT tbl, array_agg(DISTINCT writer ORDER BY writer) AS writers FROM writer_audit GROUP BY tbl ORDER BY tbl`,
    );
    return Object.fromEntries(rows.map((r) => [r.tbl, r.writers]));
  } finally {
    await pg.end();
  }
}
