import { Command, Option, SubCommand } from 'nest-commander';
import { ConfigError, SERVICE_KEYS, ServiceName, parseConfig, parseSettings } from '@switchboard/config';
import { CliError, EXIT, usageError } from '../cli-error';
import { CliCommand, GroupCommand } from '../cli-command';
import { CheckResult, checkPostgres, checkRedis, withoutPassword } from '../store-checks';

const SERVICES = Object.keys(SERVICE_KEYS) as ServiceName[];
/** How long each store may take to answer. */
const STORE_TIMEOUT_MS = 5000;

const problemsOf = (parse: () => unknown): string[] => {
  try {
    parse();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

interface Report {
  ok: boolean;
  configuration: Record<string, { ok: boolean; problems: string[] }>;
  postgres: CheckResult & { url: string | null; skipped?: boolean };
  redis: CheckResult & { url: string | null; skipped?: boolean };
}

@SubCommand({
  name: 'check',
  description:
    "validate this environment as each service would (libs/config: every variable, *_FILE secrets), then reach PostgreSQL at DATABASE_URL and Redis at REDIS_URL (5 s each); exits 1 on any failure",
})
export class ConfigCheckCommand extends CliCommand {
  async run(_args: string[], options: { service?: string }): Promise<void> {
    const services = options.service === undefined ? SERVICES : options.service.split(',').map((s) => s.trim());
    const unknown = services.filter((s) => !(SERVICES as string[]).includes(s));
    if (unknown.length || services.length === 0) throw usageError(`--service takes a comma-separated list of ${SERVICES.join(', ')}`);

    const configuration: Report['configuration'] = {};
    for (const service of services as ServiceName[]) {
      const problems = problemsOf(() => parseConfig(service, this.env));
      configuration[service] = { ok: problems.length === 0, problems };
    }
    const needsDatabase = services.some((s) => (SERVICE_KEYS[s as ServiceName] as readonly string[]).includes('DATABASE_URL'));
    const needsRedis = services.some((s) => (SERVICE_KEYS[s as ServiceName] as readonly string[]).includes('REDIS_URL'));

    const skipped = { ok: true, skipped: true, detail: 'not checked: not used by these services', notes: [], url: null };
    const postgres = needsDatabase ? await this.postgres() : skipped;
    const redis = needsRedis ? await this.redis() : skipped;
    const report: Report = { ok: Object.values(configuration).every((c) => c.ok) && postgres.ok && redis.ok, configuration, postgres, redis };

    this.print(report, () => {
      const lines = ['Configuration (this environment, as each service reads it):'];
      for (const [service, c] of Object.entries(configuration)) {
        lines.push(`  ${c.ok ? 'ok    ' : 'FAILED'}  ${service}`);
        for (const p of c.problems) lines.push(`            ${p}`);
      }
      const store = (name: string, r: Report['postgres']) => {
        lines.push(`${name.padEnd(11)} ${r.skipped ? '-     ' : r.ok ? 'ok    ' : 'FAILED'}  ${r.url ? `${r.url}: ` : ''}${r.detail}`);
        for (const n of r.notes) lines.push(`                    note: ${n}`);
      };
      store('PostgreSQL', postgres);
      store('Redis', redis);
      lines.push(report.ok ? 'All checks passed.' : 'Some checks FAILED (above).');
      return lines;
    });
    if (!report.ok) throw new CliError(EXIT.FAILED, 'config check failed (see the report above)');
  }

  private async postgres(): Promise<Report['postgres']> {
    let url: string;
    try {
      url = parseSettings(['DATABASE_URL', 'DATABASE_PASSWORD'], this.env).DATABASE_URL;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return { ok: false, detail: `not checked: ${err.problems.join('; ')}`, notes: [], url: null };
    }
    // Loaded here only: the migrations' list pulls in TypeORM, which no other command needs.
    const { MIGRATIONS } = await import('@switchboard/db');
    return { ...(await checkPostgres(url, MIGRATIONS.map((m) => m.name), STORE_TIMEOUT_MS)), url: withoutPassword(url) };
  }

  private async redis(): Promise<Report['redis']> {
    let url: string;
    try {
      url = parseSettings(['REDIS_URL'], this.env).REDIS_URL;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return { ok: false, detail: `not checked: ${err.problems.join('; ')}`, notes: [], url: null };
    }
    return { ...(await checkRedis(url, STORE_TIMEOUT_MS)), url: withoutPassword(url) };
  }

  @Option({ flags: '--service <names>', description: `check only these services (comma-separated: ${SERVICES.join(', ')}), e.g. in one container` })
  service(value: string): string {
    return value;
  }
}

@Command({ name: 'config', description: 'the services\' configuration: check', subCommands: [ConfigCheckCommand] })
export class ConfigCommand extends GroupCommand {}
