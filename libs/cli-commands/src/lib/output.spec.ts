import { backupPlan, shellQuote } from './commands/backup.command';
import { table, when } from './output';
import { withoutPassword } from './store-checks';

describe('CLI output', () => {
  it('prints tables padded to the widest cell, null as -, booleans as yes/no, control characters escaped', () => {
    expect(table(['ID', 'NAME', 'OK'], [[1, 'alice', true], [22, null, false], [3, 'e\u001b[2J', undefined]])).toBe(
      ['ID  NAME      OK', '1   alice     yes', '22  -         no', '3   e\\x1b[2J  -'].join('\n') + '\n',
    );
    expect(table(['ID'], [])).toBe('(none)\n');
    expect(when('2025-01-02T03:04:05.678Z')).toBe('2025-01-02T03:04:05Z');
    expect(when(null)).toBeNull();
  });

  it('quotes shell words only when needed', () => {
    expect(shellQuote('postgres://u@h:5432/db')).toBe('postgres://u@h:5432/db');
    expect(shellQuote("it's a db")).toBe(`'it'\\''s a db'`);
  });

  it('shows URLs without their password', () => {
    expect(withoutPassword('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
    expect(withoutPassword('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
    expect(withoutPassword('nope')).toBe('(not a URL)');
    // pg and ioredis also read a password from the query string.
    expect(withoutPassword('postgres://app@db/sb?password=hunter2&sslmode=require')).toBe('postgres://app@db/sb?password=***&sslmode=require');
    expect(withoutPassword('redis://redis:6379?password=hunter2')).not.toContain('hunter2');
    expect(withoutPassword('postgres://a:b@db/sb?sslpassword=x&PassWord=y')).not.toMatch(/[=:](b|x|y)(&|@|$)/);
  });

  it('builds the backup commands from DATABASE_URL (and DATABASE_PASSWORD) without printing the password', () => {
    const plan = backupPlan({ DATABASE_URL: 'postgres://sw@db:5433/switchboard?sslmode=require', DATABASE_PASSWORD: 'p@ss w0rd' });
    expect(plan.database_url).toBe('postgres://sw@db:5433/switchboard?sslmode=require');
    expect(plan.password_needed).toBe(true);
    expect(plan.backup[0]).toBe("pg_dump -Fc -d 'postgres://sw@db:5433/switchboard?sslmode=require' > switchboard-$(date +%F).dump");
    expect(plan.restore[1]).toBe('dropdb -h db -p 5433 -U sw switchboard && createdb -h db -p 5433 -U sw switchboard');
    expect(JSON.stringify(plan)).not.toMatch(/p@ss|w0rd|p%40ss/);
    const inQuery = backupPlan({ DATABASE_URL: 'postgres://sw@db/switchboard?password=hunter2&sslmode=require' });
    expect([inQuery.database_url, inQuery.password_needed]).toEqual(['postgres://sw@db/switchboard?sslmode=require', true]);
    expect(JSON.stringify(inQuery)).not.toContain('hunter2');
    const none = backupPlan({});
    expect([none.database_url, none.password_needed, none.backup[0]]).toEqual([null, false, 'pg_dump -Fc -d "$DATABASE_URL" > switchboard-$(date +%F).dump']);
  });
});
