import { Command } from 'nest-commander';
import { ConfigError, parseSettings } from '@switchboard/config';
import { CliCommand } from '../cli-command';
import { passwordParams } from '../store-checks';

/** A word for a POSIX shell: single-quoted unless plainly safe. */
export const shellQuote = (word: string) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

export interface BackupPlan {
  /** DATABASE_URL without its password, or null when it is not set or not valid. */
  database_url: string | null;
  /** Whether the database needs a password, which is never printed. */
  password_needed: boolean;
  backup: string[];
  restore: string[];
  keep: string[];
  redis: string;
}

/** The backup and restore commands for DATABASE_URL (docs/operations.md#backup-and-restore), no password in them. */
export function backupPlan(env: Record<string, string | undefined>): BackupPlan {
  let url: URL | null = null;
  try {
    url = new URL(parseSettings(['DATABASE_URL', 'DATABASE_PASSWORD'], env).DATABASE_URL);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
  }
  const passwordNeeded = !!url && (!!url.password || passwordParams(url).length > 0);
  if (url) {
    url.password = '';
    for (const name of passwordParams(url)) url.searchParams.delete(name);
  }
  const target = url ? shellQuote(url.toString()) : '"$DATABASE_URL"';
  const name = url ? shellQuote(decodeURIComponent(url.pathname.slice(1))) : '<database>';
  const server = url
    ? [`-h ${shellQuote(decodeURIComponent(url.hostname))}`, url.port ? `-p ${url.port}` : '', url.username ? `-U ${shellQuote(decodeURIComponent(url.username))}` : ''].filter(Boolean).join(' ')
    : '<server options>';
  return {
    database_url: url ? url.toString() : null,
    password_needed: passwordNeeded,
    backup: [
      `pg_dump -Fc -d ${target} > switchboard-$(date +%F).dump`,
      'docker compose exec -T postgres pg_dump -U switchboard -Fc switchboard > switchboard-$(date +%F).dump   # with docker compose',
    ],
    restore: [
      'stop the services (docker compose stop gateway auth admin propagator, or stop npm start)',
      `dropdb ${server} ${name} && createdb ${server} ${name}`,
      `pg_restore --no-owner -d ${target} switchboard-YYYY-MM-DD.dump`,
      'start the services with the SECRETS_KEY the dump was written with: the migrator brings an older dump up to date first',
    ],
    keep: [
      'the PostgreSQL dump: members, credentials, slaves and their keys, applications, grants and tokens, deliveries, the outboxes, the audit log',
      'SECRETS_KEY: slave keys, application secrets and pending password hashes in the dump are encrypted with it; a dump without the SECRETS_KEY it was written with cannot be used (every slave and application would need a new key). Keep it apart from the dumps (a password manager, a vault)',
      'MASTER_KEY (every slave is configured with it), and ADMIN_TOKEN and INTERNAL_TOKEN unless you are ready to hand out new ones',
    ],
    redis:
      'Redis needs no backup. Losing its data costs the browser sessions and chain states (users sign in again), the recent-authentication marks (crossLogin waits for a fresh login), the per-address and per-caller counters (limits start from zero), application token last use with API_TOKEN_IDLE set, hmac nonces (the nonce epoch refuses replays anyway), the gateway\'s login events not yet in the audit and the day\'s API usage statistics. Nothing is lost for propagation (pending deliveries are re-created from PostgreSQL within PROPAGATION_REPAIR_INTERVAL) or for the audit of changes.',
  };
}

@Command({ name: 'backup', description: 'how to back up and restore: the pg_dump command for DATABASE_URL (no password printed), SECRETS_KEY, what a Redis loss costs' })
export class BackupCommand extends CliCommand {
  async run(): Promise<void> {
    const plan = backupPlan(this.env);
    this.print(plan, () => [
      'Backing up Switchboard (docs/operations.md#backup-and-restore)',
      '',
      'Keep:',
      ...plan.keep.map((k) => `  - ${k}`),
      '',
      'Back up (online and consistent; run it daily, keep several):',
      ...plan.backup.map((c) => `  ${c}`),
      ...(plan.database_url === null ? ['  (DATABASE_URL is not set or not valid here: run this where the services\' environment is)'] : []),
      ...(plan.password_needed ? ['  The password is not printed: give it with PGPASSWORD=… or a ~/.pgpass line (host:port:database:user:password).'] : []),
      '',
      'Restore into an empty database:',
      ...plan.restore.map((c, i) => `  ${i + 1}. ${c}`),
      '',
      plan.redis,
    ]);
  }
}
