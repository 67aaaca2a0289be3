/**
 * The load generator of `npm run bench`: autocannon's programmatic API, run in the bench process
 * (the servers it measures are other processes). Every response body is checked for an expected
 * substring, so a row measures the answer it names (a BAD_KEY or a 113 would be fast and wrong).
 */
// autocannon ships no type declarations: the fields used here are typed below.
const autocannon = require('autocannon') as (opts: Record<string, unknown>, cb: (err: Error | null, r: AutocannonResult) => void) => unknown;

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
}

export interface LoadResult {
  /** Completed requests per second over the measured window. */
  rps: number;
  p50: number;
  p99: number;
  total: number;
  /** Responses without the expected substring, non-2xx, errors and timeouts. */
  bad: number;
  errors: number;
  sample?: string;
}

export interface LoadSpec {
  base: string;
  /** The path (with query) of each request; called once per request. */
  path: () => string;
  /** Responses must contain this. */
  expect?: string;
  method?: 'GET' | 'POST';
  body?: () => string;
  headers?: Record<string, string>;
  connections?: number;
  durationS?: number;
  warmupS?: number;
  /** A fixed number of requests instead of a duration. */
  amount?: number;
}

function run(spec: LoadSpec, durationS: number, amount?: number): Promise<LoadResult> {
  let bad = 0;
  let sample: string | undefined;
  const expect = spec.expect;
  const request: Record<string, unknown> = {
    method: spec.method ?? 'GET',
    headers: spec.headers,
    setupRequest: (req: Record<string, unknown>) => {
      req['path'] = spec.path();
      if (spec.body) req['body'] = spec.body();
      return req;
    },
  };
  if (expect) {
    request['onResponse'] = (status: number, body: string) => {
      if (status < 200 || status > 299 || !String(body).includes(expect)) {
        bad++;
        sample ??= `${status} ${String(body).slice(0, 160)}`;
      }
    };
  }
  const opts: Record<string, unknown> = {
    url: spec.base,
    connections: spec.connections ?? 50,
    pipelining: 1,
    timeout: 20,
    requests: [request],
  };
  if (amount) opts['amount'] = amount;
  else opts['duration'] = durationS;
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, r) => {
      if (err) return reject(err);
      const seconds = r.duration > 0 ? r.duration : durationS;
      const errors = r.errors + r.timeouts + r.non2xx;
      resolve({ rps: r.requests.total / seconds, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, bad: bad + r.errors + r.timeouts, errors, sample });
    });
  });
}

/** A warm-up run (discarded), then the measured one. */
export async function measure(spec: LoadSpec): Promise<LoadResult> {
  const warm = spec.warmupS ?? 1;
  if (warm > 0 && !spec.amount) await run(spec, warm);
  return run(spec, spec.durationS ?? 3, spec.amount);
}
