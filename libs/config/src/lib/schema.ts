import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * Every environment variable Switchboard reads, with its rule. Each service picks the fragment it
 * needs (see `SERVICE_KEYS`), so a service never fails on a variable it does not use.
 * `.env.example` documents each of them; keep the two in step.
 */

const port = (fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .refine((v) => /^\d{1,5}$/.test(v), 'must be a port number')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 65535, 'must be between 1 and 65535');

const url = (protocols: string[], what: string, rules: { path?: boolean; noQuery?: boolean } = {}) =>
  z
    .string({ error: 'is required' })
    .min(1, 'is required')
    .refine((v) => {
      try {
        const u = new URL(v);
        return protocols.includes(u.protocol) && !!u.hostname && (!rules.path || u.pathname.length > 1) && (!rules.noQuery || (!u.search && !u.hash));
      } catch {
        return false;
      }
    }, `must be a ${what} URL (${protocols.join(' or ')}${rules.path ? ', with a host and a database name' : ' with a host'}${rules.noQuery ? ', no query or fragment' : ''})`);

/** The minimum length of MASTER_KEY, SECRETS_KEY and the tokens. */
export const SECRET_MIN_LENGTH = 32;

const secret = (min: number) =>
  z
    .string({ error: 'is required' })
    .min(min, `must be at least ${min} characters`)
    .refine((v) => v.trim() === v, 'must not start or end with white space');

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses `500ms`, `30s`, `15m`, `2h`, `5d` (or `0`) into milliseconds. */
export function parseDuration(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) return undefined;
  if (!m[2] && Number(m[1]) !== 0) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 'ms') as keyof typeof UNIT_MS]);
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 30s, 15m, 2h or 0' });
        return z.NEVER;
      }
      return ms;
    });

const count = (fallback: number, min = 0) =>
  z
    .string()
    .default(String(fallback))
    .refine((v) => /^\d{1,9}$/.test(v), 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= min, `must be at least ${min}`);

const oneOf = <T extends string>(values: readonly [T, ...T[]], fallback: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` }).default(fallback);

/** Names proxy-addr (Fastify's trustProxy) understands for address ranges. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const;

/** `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8` or one of the range names above. */
function isProxyEntry(entry: string): boolean {
  if ((PROXY_RANGE_NAMES as readonly string[]).includes(entry)) return true;
  if (entry.includes('/')) {
    try {
      ipaddr.parseCIDR(entry);
      return true;
    } catch {
      return false;
    }
  }
  return ipaddr.isValid(entry) && (ipaddr.IPv4.isValidFourPartDecimal(entry) || entry.includes(':'));
}

export const ENV_RULES = {
  NODE_ENV: oneOf(['development', 'production', 'test'], 'production'),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'PostgreSQL', { path: true }),
  REDIS_URL: url(['redis:', 'rediss:'], 'Redis'),
  PUBLIC_URL: url(['http:', 'https:'], 'http(s)', { noQuery: true }).transform((v) => v.replace(/\/+$/, '')),
  MASTER_KEY: secret(SECRET_MIN_LENGTH),
  SECRETS_KEY: secret(SECRET_MIN_LENGTH),
  ADMIN_TOKEN: secret(SECRET_MIN_LENGTH),
  INTERNAL_TOKEN: secret(SECRET_MIN_LENGTH),
  AUTH_URL: url(['http:', 'https:'], 'http(s)')
    .default('http://127.0.0.1:3001')
    .transform((v) => v.replace(/\/+$/, '')),
  /** Where the admin service reaches the propagator's internal routes (dead-letter retries). */
  PROPAGATOR_URL: url(['http:', 'https:'], 'http(s)')
    .default('http://127.0.0.1:3003')
    .transform((v) => v.replace(/\/+$/, '')),
  // Login brute-force policy (spec D12).
  LOGIN_LOCK_THRESHOLD: count(5, 1),
  LOGIN_LOCK_WINDOW: duration('15m'),
  LOGIN_LOCK_BASE: duration('1m'),
  LOGIN_LOCK_MAX: duration('15m'),
  LOGIN_CALLER_LIMIT: count(300, 1),
  /** Failed admin authentications per minute from one client address before 429 (admin). */
  ADMIN_AUTH_FAIL_LIMIT: count(20, 1),
  /** crossLogin logs in only after a login/register for that id this recently (D14); 0 = off. */
  CROSSLOGIN_RECENT_AUTH: duration('5m'),
  /** Application API calls per minute from one client address (113). */
  API_CLIENT_LIMIT: count(600, 1),
  /** An auth_token unused this long stops working (0 = never, as ipernity; A5). */
  API_TOKEN_IDLE: duration('0'),
  // Propagation (spec D15).
  /** Delay before each attempt, the first usually 0 (at once); as many attempts as entries. ±20 % jitter. */
  PROPAGATION_RETRY_SCHEDULE: z
    .string()
    .default('0,5s,5m,30m,2h,5h,10h,14h,20h,24h')
    .transform((v, ctx) => {
      const parts = v.split(',').map((p) => parseDuration(p));
      if (!v.trim() || parts.some((p) => p === undefined) || parts.length > 50) {
        ctx.addIssue({ code: 'custom', message: 'must be 1–50 comma-separated durations such as 0,5s,5m,30m,2h' });
        return z.NEVER;
      }
      return parts as number[];
    }),
  PROPAGATION_TIMEOUT: duration('15s'),
  PROPAGATION_CONCURRENCY: count(64, 1),
  /** A slave whose deliveries all failed for this long is disabled (0 = never). */
  PROPAGATION_AUTO_DISABLE_AFTER: duration('5d'),
  /** How often the propagator re-checks PostgreSQL for work Redis lost (restart without data). */
  PROPAGATION_REPAIR_INTERVAL: duration('30s'),
  /**
   * Slave URLs may point at loopback, private, link-local… addresses (local development and tests);
   * lifts only the address rule of the outbound policy, never http/https only or no credentials.
   */
  SLAVE_URL_ALLOW_PRIVATE: oneOf(['true', 'false'], 'false').transform((v) => v === 'true'),
  /**
   * The reverse proxies whose `X-Forwarded-For` is believed: comma-separated addresses or CIDRs (or
   * `loopback`, `linklocal`, `uniquelocal`). Unset: none; every client is the TCP peer. The client
   * address is then the right-most address of the header not in this list (Fastify's trustProxy).
   */
  TRUST_PROXY: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const entries = v.split(',').map((e) => e.trim()).filter(Boolean);
      const bad = entries.filter((e) => !isProxyEntry(e));
      if (bad.length) {
        ctx.addIssue({ code: 'custom', message: `must be comma-separated IP addresses or CIDRs (or loopback, linklocal, uniquelocal); not ${bad.join(', ')}` });
        return z.NEVER;
      }
      return entries;
    }),
  GATEWAY_PORT: port(3000),
  AUTH_PORT: port(3001),
  ADMIN_PORT: port(3002),
  PROPAGATOR_PORT: port(3003),
  /** Bearer token for scraping /metrics on the public ports (gateway, admin); unset = no scrape there. */
  METRICS_TOKEN: secret(SECRET_MIN_LENGTH).optional(),
  /**
   * The password of DATABASE_URL's user, given apart from the URL (e.g. DATABASE_PASSWORD_FILE, the
   * same file as the postgres image's POSTGRES_PASSWORD_FILE): replaces the URL's password, any
   * character allowed (it is percent-encoded into the URL).
   */
  DATABASE_PASSWORD: z.string().min(1).optional(),
} as const;

/**
 * The secrets that are random strings (not URLs or a database password): what `npm start` and
 * `switchboard secrets generate` create. METRICS_TOKEN is optional (it enables the token-protected
 * /metrics scrape on the public ports).
 */
export const GENERATED_SECRETS = ['MASTER_KEY', 'SECRETS_KEY', 'ADMIN_TOKEN', 'INTERNAL_TOKEN', 'METRICS_TOKEN'] as const satisfies readonly (keyof typeof ENV_RULES)[];

/**
 * The secrets: each may also be given as `<NAME>_FILE`, the path of a file holding it (Docker and
 * Kubernetes secrets), read by parseConfig. Setting both is a configuration error.
 */
export const SECRET_KEYS = ['MASTER_KEY', 'SECRETS_KEY', 'ADMIN_TOKEN', 'INTERNAL_TOKEN', 'METRICS_TOKEN', 'DATABASE_URL', 'DATABASE_PASSWORD', 'REDIS_URL'] as const satisfies readonly (keyof typeof ENV_RULES)[];

export type EnvKey = keyof typeof ENV_RULES;

const COMMON = ['NODE_ENV', 'HOST', 'LOG_LEVEL', 'REDIS_URL'] as const;
const DATABASE = ['DATABASE_URL', 'DATABASE_PASSWORD'] as const;

export const SERVICE_KEYS = {
  gateway: [
    ...COMMON,
    ...DATABASE,
    'PUBLIC_URL',
    'INTERNAL_TOKEN',
    'AUTH_URL',
    'GATEWAY_PORT',
    'TRUST_PROXY',
    'METRICS_TOKEN',
    'LOGIN_LOCK_THRESHOLD',
    'LOGIN_LOCK_WINDOW',
    'LOGIN_LOCK_BASE',
    'LOGIN_LOCK_MAX',
    'LOGIN_CALLER_LIMIT',
    'CROSSLOGIN_RECENT_AUTH',
    'API_CLIENT_LIMIT',
    'API_TOKEN_IDLE',
  ],
  auth: [
    ...COMMON,
    ...DATABASE,
    'PUBLIC_URL',
    'MASTER_KEY',
    'SECRETS_KEY',
    'INTERNAL_TOKEN',
    'AUTH_PORT',
    'CROSSLOGIN_RECENT_AUTH',
    'SLAVE_URL_ALLOW_PRIVATE',
  ],
  admin: [...COMMON, ...DATABASE, 'ADMIN_TOKEN', 'INTERNAL_TOKEN', 'AUTH_URL', 'PROPAGATOR_URL', 'ADMIN_PORT', 'METRICS_TOKEN', 'TRUST_PROXY', 'ADMIN_AUTH_FAIL_LIMIT'],
  propagator: [
    ...COMMON,
    ...DATABASE,
    'SECRETS_KEY',
    'INTERNAL_TOKEN',
    'AUTH_URL',
    'PROPAGATOR_PORT',
    'PROPAGATION_RETRY_SCHEDULE',
    'PROPAGATION_TIMEOUT',
    'PROPAGATION_CONCURRENCY',
    'PROPAGATION_AUTO_DISABLE_AFTER',
    'PROPAGATION_REPAIR_INTERVAL',
    'SLAVE_URL_ALLOW_PRIVATE',
  ],
  migrator: ['NODE_ENV', 'LOG_LEVEL', ...DATABASE],
} as const satisfies Record<string, readonly EnvKey[]>;

export type ServiceName = keyof typeof SERVICE_KEYS;

type Rules = typeof ENV_RULES;
export type ServiceConfig<S extends ServiceName> = {
  [K in (typeof SERVICE_KEYS)[S][number]]: z.output<Rules[K]>;
};

/** The full configuration of every service together (used when they run in one process). */
export type SwitchboardConfig = { [K in EnvKey]: z.output<Rules[K]> };
