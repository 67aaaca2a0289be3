import { loadConfigOrExit } from '@switchboard/config';
import { ensureDatabase, runMigrations } from '@switchboard/db';

/** The one party that changes the schema: creates the database if needed, then migrates. */
async function main() {
  const config = loadConfigOrExit('migrator');
  const log = (msg: string) => process.stdout.write(JSON.stringify({ level: 'info', service: 'migrator', msg }) + '\n');
  const dbName = decodeURIComponent(new URL(config.DATABASE_URL).pathname.slice(1));
  if (await ensureDatabase(config.DATABASE_URL)) log(`created database ${dbName}`);
  const applied = await runMigrations(config.DATABASE_URL);
  log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`switchboard migrator: failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
