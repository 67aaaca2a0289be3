import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ENV_RULES, EnvKey, SECRET_KEYS, SERVICE_KEYS, ServiceConfig, ServiceName } from './schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

const isSecret = (key: string) => (SECRET_KEYS as readonly string[]).includes(key);

/**
 * A secret's value from `<NAME>_FILE`: the file's text with its trailing line break(s) removed
 * (`echo secret > file` writes one). Returns a problem line instead when the file cannot be read,
 * naming `label` (default `<NAME>_FILE`).
 */
export function readSecretFile(key: string, path: string, label = `${key}_FILE`): { value: string } | { problem: string } {
  try {
    return { value: readFileSync(path, 'utf8').replace(/(\r?\n)+$/, '') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    return { problem: `${label} cannot be read (${path}: ${why})` };
  }
}

/** DATABASE_URL with its password replaced by DATABASE_PASSWORD (percent-encoded); as is if not a URL. */
function withDatabasePassword(url: string, password: string): string {
  try {
    const u = new URL(url);
    u.password = encodeURIComponent(password);
    return u.toString();
  } catch {
    return url; // DATABASE_URL's own rule reports it
  }
}

/**
 * Validates the variables a service needs. Throws a ConfigError whose `problems` are one line per
 * variable, each naming the variable, e.g. `MASTER_KEY must be at least 32 characters`.
 * Empty strings count as unset, so `MASTER_KEY=` in a .env file is reported as missing.
 * Each secret (SECRET_KEYS) may come from the file named by `<NAME>_FILE` instead; both set, or a
 * file that cannot be read, is a problem naming the variable.
 */
export function parseConfig<S extends ServiceName>(
  service: S,
  env: Record<string, string | undefined>,
): ServiceConfig<S> {
  return parseSettings(SERVICE_KEYS[service], env) as ServiceConfig<S>;
}

/**
 * parseConfig for any list of variables (the CLI's `config check` reads DATABASE_URL and REDIS_URL
 * alone, whatever else is wrong): the same rules, `<NAME>_FILE` and problem lines.
 */
export function parseSettings<K extends EnvKey>(
  keys: readonly K[],
  env: Record<string, string | undefined>,
): { [P in K]: z.output<(typeof ENV_RULES)[P]> } {
  const shape: Record<string, z.ZodType> = {};
  const input: Record<string, string | undefined> = {};
  const fileProblems: string[] = [];
  const fileFailed = new Set<string>();
  for (const key of keys) {
    shape[key] = ENV_RULES[key];
    const value = env[key];
    input[key] = value === '' ? undefined : value;
    const file = isSecret(key) ? env[`${key}_FILE`] : undefined;
    if (file === undefined || file === '') continue;
    if (input[key] !== undefined) {
      fileProblems.push(`${key} and ${key}_FILE are both set: set only one`);
      fileFailed.add(key);
      continue;
    }
    const read = readSecretFile(key, file);
    if ('problem' in read) {
      fileProblems.push(read.problem);
      fileFailed.add(key);
    } else input[key] = read.value === '' ? undefined : read.value;
  }
  if (input['DATABASE_URL'] !== undefined && input['DATABASE_PASSWORD'] !== undefined) {
    input['DATABASE_URL'] = withDatabasePassword(input['DATABASE_URL'], input['DATABASE_PASSWORD']);
  }
  const result = z.object(shape).safeParse(input);
  if (!result.success || fileProblems.length) {
    const issues = result.success ? [] : result.error.issues.filter((issue) => !fileFailed.has(String(issue.path[0])));
    const problems = issues.map((issue) => {
      const name = String(issue.path[0] ?? 'configuration');
      const missing = input[name] === undefined;
      if (missing && isSecret(name)) return `${name} is required (or ${name}_FILE)`;
      return `${name} ${missing ? 'is required' : issue.message}`;
    });
    // A variable whose file failed is reported once, by its file problem.
    throw new ConfigError([...new Set([...fileProblems, ...problems])]);
  }
  return result.data as { [P in K]: z.output<(typeof ENV_RULES)[P]> };
}

/**
 * A copy of this process's environment, for the one program that reads several services' settings
 * and its own (the operator CLI, libs/cli-commands). Services use loadConfigOrExit.
 */
export function readEnvironment(): Record<string, string | undefined> {
  return { ...process.env };
}

/**
 * The one place that reads `process.env`. On invalid configuration it prints one line per problem
 * to stderr and exits with status 78 (EX_CONFIG) before anything starts.
 */
export function loadConfigOrExit<S extends ServiceName>(service: S): ServiceConfig<S> {
  try {
    return parseConfig(service, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) {
        process.stderr.write(`switchboard ${service}: configuration error: ${problem}\n`);
      }
      process.exit(78);
    }
    throw err;
  }
}
