import http from 'node:http';

export interface ConsoleAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * A client of the admin service's web console without a browser: one cookie jar, a loopback source
 * address of its own (127.0.0.0/8, so each test has its own failed-authentication counter), and
 * the `Origin` a browser sends with a form (same origin unless told otherwise).
 */
export class ConsoleClient {
  cookies = new Map<string, string>();
  private readonly agent: http.Agent;
  private readonly origin: string;

  constructor(
    readonly base: string,
    readonly localAddress = '127.0.0.1',
    private readonly timeoutMs = 30_000,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 4, localAddress });
    this.origin = new URL(base).origin;
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /**
   * One request. `form`: an urlencoded body (`_csrf` is not added); headers with an `undefined`
   * value are left out (e.g. `origin: undefined`).
   */
  request(method: string, path: string, options: { form?: Record<string, string> | string; json?: unknown; headers?: Record<string, string | undefined> } = {}): Promise<ConsoleAnswer> {
    const u = new URL(path, this.base);
    const body =
      options.json !== undefined ? JSON.stringify(options.json) : typeof options.form === 'string' ? options.form : options.form ? new URLSearchParams(options.form).toString() : undefined;
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers['cookie'] = this.cookieHeader;
    if (method !== 'GET' && method !== 'HEAD') headers['origin'] = this.origin;
    if (body !== undefined) {
      headers['content-type'] = options.json !== undefined ? 'application/json' : 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      if (v === undefined) delete headers[k];
      else headers[k] = v;
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: this.agent, timeout: this.timeoutMs, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair, ...attributes] = c.split(';');
            const eq = pair.indexOf('=');
            const [k, v] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
            if (!v || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(k);
            else this.cookies.set(k, v);
          }
          resolve({ status: res.statusCode!, headers: res.headers, text });
        });
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${this.timeoutMs} ms`)));
      req.end(body);
    });
  }

  get(path: string, headers?: Record<string, string | undefined>) {
    return this.request('GET', path, { headers });
  }

  /** A console form: the page's CSRF token added unless `_csrf` is given. */
  async post(path: string, form: Record<string, string> = {}, headers?: Record<string, string | undefined>) {
    const fields = '_csrf' in form ? form : { _csrf: await this.csrf(), ...form };
    return this.request('POST', path, { form: fields, headers });
  }

  /** The CSRF token of the signed-in session (from the overview page's sign-out form). */
  async csrf(): Promise<string> {
    const page = await this.get('/admin/console');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!token) throw new Error(`no CSRF token on the overview (HTTP ${page.status})`);
    return token;
  }

  /** Signs in with an admin token; the answer of the sign-in form. */
  signIn(token: string) {
    return this.request('POST', '/admin/console/sign-in', { form: { token } });
  }

  close() {
    this.agent.destroy();
  }
}
