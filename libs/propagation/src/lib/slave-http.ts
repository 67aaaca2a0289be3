import http from 'node:http';
import https from 'node:https';

/** What a slave answered to one delivery, classified per spec D15. */
export type SlaveAnswer =
  | { outcome: 'delivered'; httpStatus: number; ipsStatus: 'SUCCESS' }
  | { outcome: 'disabled'; httpStatus: number; ipsStatus: string | null }
  | { outcome: 'retry'; httpStatus: number | null; ipsStatus: string | null; error: string };

const MAX_REDIRECTS = 5;
const MAX_BODY = 1024 * 1024;
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
};

/** PHP's `json_decode(..., true)['status']`, tolerating a BOM and whitespace, else null. */
export function ipsStatusOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body.replace(/^\uFEFF/, '').trim()) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const status = (parsed as Record<string, unknown>)['status'];
      return typeof status === 'string' ? status : null;
    }
  } catch {
    /* not JSON */
  }
  return null;
}

/**
 * Spec D15: delivered only on HTTP 200 with JSON `status == SUCCESS`; `DISABLED` (or HTTP 410)
 * disables the slave; anything else (network error, timeout, non-JSON, another status) is retried.
 */
export function classify(httpStatus: number, body: string): SlaveAnswer {
  const ipsStatus = ipsStatusOf(body);
  if (httpStatus === 410 || ipsStatus === 'DISABLED') return { outcome: 'disabled', httpStatus, ipsStatus };
  if (httpStatus === 200 && ipsStatus === 'SUCCESS') return { outcome: 'delivered', httpStatus, ipsStatus };
  const error =
    ipsStatus !== null ? `slave answered ${ipsStatus}` : httpStatus !== 200 ? `HTTP ${httpStatus}` : 'answer is not IPS JSON';
  return { outcome: 'retry', httpStatus, ipsStatus, error };
}

/** Where one request goes: what `http.request` needs, and what a redirect is resolved against. */
export interface RequestTarget {
  protocol: string;
  /** As in a URL (`[::1]:8080`), to resolve redirects against. */
  host: string;
  hostname: string;
  port: string;
  /** `user:password@` as written in the URL (percent-encoded), or ''. */
  userinfo: string;
  /** The same, decoded, for Basic authentication. */
  auth?: string;
  /** Path and query as sent on the request line. */
  path: string;
}

function targetOfUrl(url: URL, path = url.pathname + url.search): RequestTarget {
  const credentials = url.username || url.password;
  return {
    protocol: url.protocol,
    host: url.host,
    // `[::1]` in a URL, `::1` for the socket.
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port,
    userinfo: credentials ? `${url.username}${url.password ? ':' + url.password : ''}@` : '',
    auth: credentials ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
    path,
  };
}

/** The target as a whole URL (what a redirect is resolved against). */
export function hrefOf(target: RequestTarget): string {
  return `${target.protocol}//${target.userinfo}${target.host}${target.path}`;
}

function parseTarget(url: string): RequestTarget | null {
  try {
    return targetOfUrl(new URL(url));
  } catch {
    return null;
  }
}

/**
 * A slave URL parsed once, for every delivery to that slave: its `path` ends where the query we
 * append begins (`?`, or `&` after a query of its own; the fragment dropped). null: not a URL.
 */
export function slaveTarget(slaveUrl: string): RequestTarget | null {
  try {
    const url = new URL(slaveUrl);
    return targetOfUrl(url, url.pathname + (url.search ? url.search + (/[?&]$/.test(url.search) ? '' : '&') : '?'));
  } catch {
    return null;
  }
}

/**
 * A slave's target with a query appended as it is: the query is already IPS-encoded (spec §1.3),
 * and parsing the whole URL again for every delivery would cost more than building it (WHATWG URL
 * would also re-encode `'` as `%27`, which IPS does not).
 */
export function withQuery(base: RequestTarget, query: string): RequestTarget {
  return { ...base, path: base.path + query };
}

function getOnce(target: RequestTarget, timeoutMs: number): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        auth: target.auth,
        path: target.path,
        method: 'GET',
        agent: agents[target.protocol as 'http:' | 'https:'],
        headers: { 'user-agent': 'Switchboard IPS Connect master', accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) {
            req.destroy(new Error('answer larger than 1 MiB'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // Headers are only read for a redirect (Node builds the headers object on first access).
          const location = status >= 300 && status < 400 ? res.headers.location : undefined;
          resolve({ status, location, body: chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    // A deadline for the whole exchange (a slave trickling bytes never resets it), not an idle timeout.
    const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', reject);
    req.end();
  });
}

/**
 * GETs `to` (keep-alive, whole exchange within `timeoutMs`, ≤ 5 redirects) and classifies the
 * answer. A string is parsed as a whole URL; null stands for a slave URL that is not one.
 */
export async function callSlave(to: string | RequestTarget | null, timeoutMs: number): Promise<SlaveAnswer> {
  const deadline = Date.now() + timeoutMs;
  const first = typeof to === 'string' ? parseTarget(to) : to;
  if (!first) return { outcome: 'retry', httpStatus: null, ipsStatus: null, error: 'the slave URL is malformed' };
  let target = first;
  for (let hop = 0; ; hop++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return { outcome: 'retry', httpStatus: null, ipsStatus: null, error: `redirected to a ${target.protocol} URL` };
    }
    let res: { status: number; location?: string; body: string };
    try {
      res = await getOnce(target, Math.max(1, deadline - Date.now()));
    } catch (err) {
      return { outcome: 'retry', httpStatus: null, ipsStatus: null, error: (err as Error).message };
    }
    if (res.status >= 300 && res.status < 400 && res.location) {
      if (hop >= MAX_REDIRECTS) return { outcome: 'retry', httpStatus: res.status, ipsStatus: null, error: 'more than 5 redirects' };
      let next: URL;
      try {
        next = new URL(res.location, hrefOf(target));
      } catch {
        return { outcome: 'retry', httpStatus: res.status, ipsStatus: null, error: 'redirected to a malformed URL' };
      }
      target = targetOfUrl(next);
      continue;
    }
    return classify(res.status, res.body);
  }
}
