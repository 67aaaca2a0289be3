import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { OUTBOX_CHANNEL } from './domain-event';

export interface OutboxWakerOptions {
  databaseUrl: string;
  /** Names the LISTEN connection in pg_stat_activity. */
  applicationName: string;
  /** The NOTIFY channel to LISTEN on (default: the change outbox's). */
  channel?: string;
  /** Fallback poll when no NOTIFY arrives (missed during a reconnect, say). */
  pollMs: number;
  /** One pass of work; resolves true while there may be more to do right away. */
  work: () => Promise<boolean>;
  logger: Logger;
}

/**
 * Runs an outbox consumer's work when a transaction writing the outbox commits (LISTEN on the
 * outbox NOTIFY channel, reconnecting), with a poll as fallback. Overlapping wake-ups coalesce:
 * one pass at a time, and one more pass if woken meanwhile. Failures are logged and retried at the
 * next wake-up.
 */
export class OutboxWaker {
  private listener?: Client;
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly options: OutboxWakerOptions) {}

  start() {
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.timer.unref();
    void this.listen();
    this.kick();
  }

  async stop() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.listener?.end().catch(() => undefined);
    await this.idle;
  }

  private async listen() {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: this.options.applicationName });
    client.on('notification', () => this.kick());
    client.on('error', () => undefined);
    client.on('end', () => {
      if (!this.stopped) setTimeout(() => void this.listen(), 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel ?? OUTBOX_CHANNEL}`);
      this.listener = client;
      this.kick();
    } catch (err) {
      this.options.logger.warn(`outbox LISTEN failed, polling meanwhile: ${(err as Error).message}`);
      await client.end().catch(() => undefined);
    }
  }

  /** Work now (coalesces overlapping calls). */
  kick() {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.options.work())) {
            /* keep draining */
          }
        } while (this.again && !this.stopped);
      } catch (err) {
        this.options.logger.warn(`outbox pass failed, will retry: ${(err as Error).message}`);
      } finally {
        this.running = false;
      }
    })();
  }
}
