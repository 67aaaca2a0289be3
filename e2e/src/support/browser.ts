import http from 'node:http';

/**
 * A browser without JavaScript that can come from any loopback address (127.0.0.0/8), so each test
 * has a client address of its own for the per-address limit.
 */
export class Browser {
  cookies = new Map<string, string>();
  private readonly agent: http.Agent;
  /** `timeoutMs`: a request without an answer that long fails (the benchmark's bound). */
  constructor(
    readonly localAddress: string,
    private readonly timeoutMs = 60_000,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress });
  }
  go(url: string, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; html: string }> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname + u.search,
          method: body === undefined ? 'GET' : 'POST',
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          let html = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (html += d));
          res.on('end', () => {
            for (const c of res.headers['set-cookie'] ?? []) {
              const [k, v] = c.split(';')[0].split('=');
              if (v) this.cookies.set(k, v);
              else this.cookies.delete(k);
            }
            resolve({ status: res.statusCode!, headers: res.headers, html });
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(body);
    });
  }
  /** The hidden inputs of `<form name="fa">` plus `extra`. */
  static fields(html: string, extra: Record<string, string>): string {
    const form = /<form name="fa"[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
    const params = new URLSearchParams();
    for (const m of form.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) params.set(m[1], m[2].replace(/&amp;/g, '&'));
    for (const [k, v] of Object.entries(extra)) params.set(k, v);
    return params.toString();
  }
  close() {
    this.agent.destroy();
  }
}
