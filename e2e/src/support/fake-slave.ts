import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type SlaveMode = 'ok' | 'http500' | 'garbage' | 'BAD_KEY' | 'hang' | 'DISABLED' | 'http410';

export interface Received {
  at: number;
  params: Record<string, string>;
  /** Whether `key` was right: raw SK for register, md5(SK . id) otherwise (spec §1.8). */
  keyOk: boolean;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/**
 * An IPS slave's gateway on 127.0.0.1 for propagation tests: checks the key of every master call,
 * records what it received, and answers as told (SUCCESS, a 500 page, garbage, BAD_KEY, no answer,
 * DISABLED, HTTP 410). `stop()` takes it down (connection refused) and `start()` brings it back on
 * the same port.
 */
export class FakeSlave {
  readonly received: Received[] = [];
  mode: SlaveMode = 'ok';
  /** Answer this much later (deliveries in flight for fault tests). */
  delayMs = 0;
  private server?: http.Server;
  port = 0;

  constructor(readonly key: string) {}

  get url() {
    return `http://127.0.0.1:${this.port}/ipsconnect.php`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const params = Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams);
      const expected = params['do'] === 'register' ? this.key : md5(this.key + (params['id'] ?? ''));
      if (this.mode !== 'hang') this.received.push({ at: Date.now(), params, keyOk: params['key'] === expected });
      const mode = this.mode;
      if (this.delayMs > 0 && mode !== 'hang') setTimeout(() => this.answer(res, mode, params['key'] === expected), this.delayMs);
      else this.answer(res, mode, params['key'] === expected);
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private answer(res: http.ServerResponse, mode: SlaveMode, keyOk: boolean) {
    switch (mode) {
      case 'ok':
        res.setHeader('content-type', 'application/json');
        res.end(keyOk ? '{"status":"SUCCESS"}' : '{"status":"BAD_KEY"}');
        return;
      case 'http500':
        res.statusCode = 500;
        res.end('<html><body>Fatal error: something</body></html>');
        return;
      case 'garbage':
        res.end('this is not json');
        return;
      case 'BAD_KEY':
        res.end('{"status":"BAD_KEY"}');
        return;
      case 'DISABLED':
        res.end('{"status":"DISABLED"}');
        return;
      case 'http410':
        res.statusCode = 410;
        res.end('gone');
        return;
      case 'hang':
        return; // never answers
    }
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** What it received for one action (and member id). */
  got(action: string, id?: string): Received[] {
    return this.received.filter((r) => r.params['do'] === action && (id === undefined || r.params['id'] === id));
  }
}
