import { Agent, Dispatcher } from 'undici';
import { OutboundPolicy, OutboundRefusal, RefusalRule, hostOf } from '@switchboard/outbound';

/** What a slave answered to one delivery, classified per spec D15. */
export type SlaveAnswer =
  | { outcome: 'delivered'; httpStatus: number; ipsStatus: 'SUCCESS' }
  | { outcome: 'disabled'; httpStatus: number; ipsStatus: string | null }
  | {
      outcome: 'retry';
      httpStatus: number | null;
      ipsStatus: string | null;
      error: string;
      /** Set when the outbound policy refused the request (it was never sent): which rule. */
      refused?: RefusalRule;
    };

const MAX_REDIRECTS = 5;
const MAX_BODY = 1024 * 1024;
const HEADERS = { 'user-agent': 'Switchboard IPS Connect master', accept: 'application/json' };

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

/** Where one request goes: the connection's origin, and the request line's target. */
export interface RequestTarget {
  protocol: string;
  /** As in a URL (`[::1]:8080`), to resolve redirects against. */
  host: string;
  /** The host for the socket and the policy (`::1`, `forum.example`). */
  hostname: string;
  /** `scheme://host[:port]`: the keep-alive pool the request goes to. */
  origin: string;
  /** true when the URL carried `user:password@` (refused; never sent, never shown). */
  credentials: boolean;
  /** Path and query as sent on the request line. */
  path: string;
}

function targetOfUrl(url: URL, path = url.pathname + url.search): RequestTarget {
  return {
    protocol: url.protocol,
    host: url.host,
    hostname: hostOf(url),
    origin: `${url.protocol}//${url.host}`,
    credentials: !!(url.username || url.password),
    path,
  };
}

/** The target as a whole URL (what a redirect is resolved against), never with credentials. */
export function hrefOf(target: RequestTarget): string {
  return `${target.origin}${target.path}`;
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

interface RawAnswer {
  status: number;
  location?: string;
  body: string;
}

/**
 * The propagator's HTTP client for slaves: undici keep-alive pools (one per slave origin, up to 256
 * connections each) whose every connection goes through the outbound policy's connector — a
 * literal address is checked, a name is resolved once, every address it resolves to is checked,
 * and the socket connects to exactly those (docs/propagation.md, "Outbound requests to slaves").
 */
export class SlaveHttp {
  private readonly agent: Agent;

  constructor(readonly policy: OutboundPolicy) {
    this.agent = new Agent({ connections: 256, connect: policy.connector({ timeout: 10_000 }) });
  }

  /** The scheme, credentials and (literal or loopback-name) address rules, before anything is sent. */
  private refusal(target: RequestTarget): OutboundRefusal | null {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return new OutboundRefusal('scheme', `only http and https URLs are allowed, not ${target.protocol.slice(0, 20)}`);
    }
    if (target.credentials) return new OutboundRefusal('credentials', 'a slave URL must not carry credentials (user:password@)');
    return this.policy.checkHost(target.hostname);
  }

  private getOnce(target: RequestTarget, timeoutMs: number): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      let controller: Dispatcher.DispatchController | null = null;
      let settled = false;
      let status = 0;
      let location: string | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = (err: Error | null, answer?: RawAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (err) reject(err);
        else resolve(answer!);
      };
      // A deadline for the whole exchange (connecting included; a slave trickling bytes never resets
      // it), not an idle timeout. A request still waiting for its connection is aborted once it gets one.
      const expired = () => new Error(`no complete answer within ${timeoutMs} ms`);
      const deadline = setTimeout(() => {
        const err = expired();
        controller?.abort(err);
        settle(err);
      }, timeoutMs);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(c) {
          controller = c;
          if (settled) c.abort(expired());
        },
        onResponseStart(_c, statusCode, headers) {
          status = statusCode;
          if (statusCode >= 300 && statusCode < 400) {
            const value = headers['location'];
            location = Array.isArray(value) ? value[0] : value;
          }
        },
        onResponseData(c, chunk) {
          size += chunk.length;
          if (size > MAX_BODY) {
            const err = new Error('answer larger than 1 MiB');
            c.abort(err);
            settle(err);
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd() {
          settle(null, { status, location, body: chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8') });
        },
        onResponseError(_c, err) {
          settle(err);
        },
      };
      try {
        this.agent.dispatch({ origin: target.origin, path: target.path, method: 'GET', headers: HEADERS }, handler);
      } catch (err) {
        settle(err as Error);
      }
    });
  }

  /**
   * GETs `to` (keep-alive, whole exchange within `timeoutMs`, ≤ 5 redirects, each hop under the
   * outbound policy) and classifies the answer. A string is parsed as a whole URL; null stands for
   * a slave URL that is not one. A refused hop is a failed attempt whose error names the rule.
   */
  async call(to: string | RequestTarget | null, timeoutMs: number): Promise<SlaveAnswer> {
    const deadline = Date.now() + timeoutMs;
    const first = typeof to === 'string' ? parseTarget(to) : to;
    if (!first) return { outcome: 'retry', httpStatus: null, ipsStatus: null, error: 'the slave URL is malformed' };
    let target = first;
    for (let hop = 0; ; hop++) {
      const where = hop === 0 ? '' : `redirected to ${hrefOf({ ...target, path: '/' }).slice(0, 200)}: `;
      const early = this.refusal(target);
      if (early) return { outcome: 'retry', httpStatus: null, ipsStatus: null, error: `${where}refused: ${early.message}`, refused: early.rule };
      let res: RawAnswer;
      try {
        res = await this.getOnce(target, Math.max(1, deadline - Date.now()));
      } catch (err) {
        if (err instanceof OutboundRefusal) {
          return { outcome: 'retry', httpStatus: null, ipsStatus: null, error: `${where}refused: ${err.message}`, refused: err.rule };
        }
        return { outcome: 'retry', httpStatus: null, ipsStatus: null, error: where + (err as Error).message };
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

  /** Closes the pooled connections once the requests in flight are answered (Nest calls it at shutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }
}

/** `http.call(to, timeoutMs)`: see SlaveHttp.call. */
export function callSlave(to: string | RequestTarget | null, timeoutMs: number, http: SlaveHttp): Promise<SlaveAnswer> {
  return http.call(to, timeoutMs);
}
