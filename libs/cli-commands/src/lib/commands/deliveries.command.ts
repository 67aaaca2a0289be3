import { Command, Option, SubCommand } from 'nest-commander';
import { DELIVERY_STATES, deliveryPage, retriedView, slavePage } from '@switchboard/contracts';
import { parseBigId } from '@switchboard/input-rules';
import { CliError, EXIT, usageError } from '../cli-error';
import { CliCommand, GroupCommand } from '../cli-command';
import { err, table, when } from '../output';

@SubCommand({
  name: 'retry',
  arguments: '[delivery_id]',
  description:
    "retry now: one delivery (a dead letter, or the head of a line waiting out its backoff), every one of a slave (--slave <id>), or of every enabled slave (--all); order per member and slave is kept",
})
export class DeliveriesRetryCommand extends CliCommand {
  async run([delivery]: string[], options: { slave?: string; all?: boolean }): Promise<void> {
    const given = [delivery !== undefined, options.slave !== undefined, options.all === true].filter(Boolean).length;
    if (given !== 1) throw usageError('give exactly one of: a delivery id, --slave <id>, --all');
    const api = this.api();
    if (delivery !== undefined) {
      const id = parseBigId(delivery);
      if (id === null) throw usageError('the delivery id must be a whole number');
      const answer = await api.request('POST', `/admin/deliveries/${id}/retry`, retriedView);
      this.print(answer, () => `Retrying deliveries: ${answer.retried.join(', ')}.`);
      return;
    }
    if (options.slave !== undefined) {
      const slave = this.id(options.slave, '--slave');
      const answer = await api.request('POST', `/admin/slaves/${slave}/retry`, retriedView);
      this.print({ slave_id: slave, ...answer }, () =>
        answer.retried.length ? `Slave ${slave}: retrying ${answer.retried.length} deliveries (${answer.retried.join(', ')}).` : `Slave ${slave}: nothing to retry.`,
      );
      return;
    }
    // --all: every enabled slave (a disabled slave's deliveries are parked; enabling it sends them).
    const slaves = await api.list('/admin/slaves', slavePage, { enabled: 'true' });
    const results: { slave_id: number; retried?: string[]; error?: string }[] = [];
    for (const s of slaves) {
      try {
        const answer = await api.request('POST', `/admin/slaves/${s.id}/retry`, retriedView);
        results.push({ slave_id: s.id, retried: answer.retried });
      } catch (e) {
        // A slave deleted since the list: say so and go on with the others; anything else stops here.
        if (!(e instanceof CliError) || e.status !== 404) throw e;
        results.push({ slave_id: s.id, error: e.message });
        err(`switchboard: slave ${s.id}: ${e.message}`);
      }
    }
    this.print(results, () =>
      results.length === 0
        ? 'No enabled slave.'
        : table(
            ['SLAVE', 'RETRIED', 'DELIVERIES'],
            results.map((r) => [r.slave_id, r.error ? 'failed' : r.retried!.length, r.error ?? r.retried!.join(', ')]),
          ),
    );
    if (results.some((r) => r.error)) throw new CliError(EXIT.FAILED, 'some slaves could not be retried (above)');
  }

  @Option({ flags: '--slave <id>', description: "every dead letter and waiting line head of this slave" })
  slave(value: string): string {
    return value;
  }

  @Option({ flags: '--all', description: 'the same for every enabled slave' })
  all(): boolean {
    return true;
  }
}

@SubCommand({ name: 'list', description: 'deliveries of changes to slaves, newest first (one page; --limit up to 500)' })
export class DeliveriesListCommand extends CliCommand {
  async run(_args: string[], options: { status?: string; slave?: string; member?: string; limit?: string }): Promise<void> {
    if (options.status !== undefined && !(DELIVERY_STATES as readonly string[]).includes(options.status)) throw usageError(`--status must be one of ${DELIVERY_STATES.join(', ')}`);
    const query = new URLSearchParams({ limit: options.limit ?? '100' });
    if (!/^[1-9][0-9]{0,2}$/.test(query.get('limit')!) || Number(query.get('limit')) > 500) throw usageError('--limit must be a whole number from 1 to 500');
    if (options.status !== undefined) query.set('status', options.status);
    if (options.slave !== undefined) query.set('slave_id', String(this.id(options.slave, '--slave')));
    if (options.member !== undefined) query.set('member_id', String(this.id(options.member, '--member')));
    const page = await this.api().request('GET', `/admin/deliveries?${query}`, deliveryPage);
    this.print(page.items, () =>
      table(
        ['ID', 'SLAVE', 'MEMBER', 'ACTION', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'CREATED', 'LAST ERROR'],
        page.items.map((d) => [d.id, d.slave_id, d.member_id, d.action, d.status, d.attempts, when(d.next_attempt_at), when(d.created_at), d.last_error]),
      ),
    );
  }

  @Option({ flags: '--status <status>', description: `only deliveries in this state (${DELIVERY_STATES.join(', ')})` })
  status(value: string): string {
    return value;
  }

  @Option({ flags: '--slave <id>', description: 'only deliveries to this slave' })
  slave(value: string): string {
    return value;
  }

  @Option({ flags: '--member <id>', description: 'only deliveries of this member' })
  member(value: string): string {
    return value;
  }

  @Option({ flags: '--limit <n>', description: 'at most this many (default 100)' })
  limit(value: string): string {
    return value;
  }
}

@Command({ name: 'deliveries', description: 'deliveries to slaves: list, retry now', subCommands: [DeliveriesRetryCommand, DeliveriesListCommand] })
export class DeliveriesCommand extends GroupCommand {}
