/** The stub slaves' HTTP server (run by bench/stub-slaves.ts in a process of its own). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** CLOCK_MONOTONIC in milliseconds: comparable between the processes of one machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * One HTTP server standing in for any number of slaves (one path each), answering SUCCESS. It runs
 * in a process of its own (bench/stub-slaves.ts, driven by StubSlaves in propagation-lib.ts); arrival times are
 * CLOCK_MONOTONIC milliseconds (monotonicMs), the same clock in every process of the machine.
 */
export class StubServer {
  private server = http.createServer((req, res) => this.handle(req, res));
  private waiters = new Map<string, { left: number; resolve: (t: number) => void }>();
  /** Arrival times of tagged requests nobody waited for yet. */
  private early = new Map<string, number[]>();
  port = 0;
  /** The last request each slave path received (the baseline sends the same bytes). */
  lastRequest = new Map<string, string>();

  async start() {
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }
  url(i: number) {
    return `http://127.0.0.1:${this.port}/s${i}/ipsconnect.php`;
  }
  /**
   * Resolves with the time the `count`-th request tagged `tag` (member id or job tag) arrived,
   * counting those that arrived before the call (a delivery can beat the answer to `register`).
   */
  expect(tag: string, count: number): Promise<number> {
    const early = this.early.get(tag) ?? [];
    this.early.delete(tag);
    if (early.length >= count) return Promise.resolve(early[count - 1]);
    return new Promise((resolve) => this.waiters.set(tag, { left: count - early.length, resolve }));
  }
  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = req.url ?? '/';
    const q = new URL(url, 'http://x').searchParams;
    const tag = q.get('tag') ?? q.get('id') ?? '';
    if (!q.has('tag')) this.lastRequest.set(url.split('?')[0], url);
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"SUCCESS"}');
    const w = this.waiters.get(tag);
    if (!w) {
      if (tag) {
        const times = this.early.get(tag) ?? [];
        times.push(monotonicMs());
        this.early.set(tag, times);
      }
    } else if (--w.left === 0) {
      this.waiters.delete(tag);
      w.resolve(monotonicMs());
    }
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

