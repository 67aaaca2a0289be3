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

/** Where one request goes: what `http.request` needs, and the URL to resolve a redirect against. */
interface Target {
  protocol: string;
  hostname: string;
  port: string;
  auth?: string;
  /** Path and query as sent on the request line. */
  path: string;
  href: string;
}

function targetOfUrl(url: URL): Target {
  return {
    protocol: url.protocol,
    // `[::1]` in a URL, `::1` for the socket.
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port,
    auth: url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
    path: url.pathname + url.search,
    href: url.href,
  };
}

/** Parsed `scheme://host/path` parts of slave URLs, which every delivery to that slave shares. */
const heads = new Map<string, Target | null>();

/**
 * The first request of a delivery. The slave URL part (before `?`) is parsed once per slave and the
 * query goes as it is: parsing the whole URL for every delivery cost more than building it, and the
 * query is already IPS-encoded (spec §1.3; WHATWG URL would re-encode `'` as `%27`, which IPS does not).
 */
function targetOf(url: string): Target | null {
  const hash = url.indexOf('#');
  const bare = hash === -1 ? url : url.slice(0, hash);
  const q = bare.indexOf('?');
  const head = q === -1 ? bare : bare.slice(0, q);
  let parsed = heads.get(head);
  if (parsed === undefined) {
    try {
      parsed = targetOfUrl(new URL(head));
    } catch {
      parsed = null;
    }
    if (heads.size >= 10_000) heads.clear();
    heads.set(head, parsed);
  }
  if (!parsed) return null;
  return { ...parsed, path: parsed.path + (q === -1 ? '' : bare.slice(q)), href: bare };
}

function getOnce(target: Target, timeoutMs: number): Promise<{ status: number; location?: string; body: string }> {
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

/** GETs `url` (keep-alive, whole exchange within `timeoutMs`, ≤ 5 redirects) and classifies the answer. */
export async function callSlave(url: string, timeoutMs: number): Promise<SlaveAnswer> {
  const deadline = Date.now() + timeoutMs;
  let target = targetOf(url);
  if (!target) return { outcome: 'retry', httpStatus: null, ipsStatus: null, error: 'the slave URL is malformed' };
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
      try {
        target = targetOfUrl(new URL(res.location, target.href));
      } catch {
        return { outcome: 'retry', httpStatus: res.status, ipsStatus: null, error: 'redirected to a malformed URL' };
      }
      continue;
    }
    return classify(res.status, res.body);
  }
}
