import { Command, Option, SubCommand } from 'nest-commander';
import { disableSlaveCommand, issueSlaveKeyCommand, issueSlaveKeyContract, slavePage, slaveState, updateSlaveCommand } from '@switchboard/contracts';
import { CliError, checkInput, usageError } from '../cli-error';
import { CliCommand, GroupCommand } from '../cli-command';
import { table, when } from '../output';

const stateLine = (s: { id: number; url: string; enabled: boolean; disabled_reason: string | null }) =>
  `Slave ${s.id} (${s.url}) is ${s.enabled ? 'enabled' : `disabled${s.disabled_reason ? ` (${s.disabled_reason})` : ''}`}.`;

@SubCommand({
  name: 'add',
  arguments: '<url>',
  description: "issue a per-slave master key for a slave's IPS Connect URL (shown once); --rotate replaces the key of a URL already registered",
})
export class SlaveAddCommand extends CliCommand {
  async run([url]: string[], options: { rotate?: boolean }): Promise<void> {
    const body = checkInput(issueSlaveKeyCommand, { url, ...(options.rotate ? { rotate: true } : {}) });
    const issued = await this.api()
      .request('POST', '/admin/slaves', issueSlaveKeyContract.response, body)
      .catch((e: unknown) => {
        if (e instanceof CliError && e.status === 409 && !options.rotate) e.details.push('switchboard slave add --rotate <url> replaces its key (the old one is refused at once)');
        throw e;
      });
    this.print(issued, () => [
      issued.created ? `Slave ${issued.id} registered: ${issued.url}` : `Slave ${issued.id} (${issued.url}): its master key was replaced; the old one is refused from now on.`,
      'Its master key is shown only this once: configure the slave with it (it becomes enabled when it calls verifySettings with it).',
      issued.master_key,
    ]);
  }

  @Option({ flags: '--rotate', description: 'replace the per-slave key of a URL already registered' })
  rotate(): boolean {
    return true;
  }
}

@SubCommand({ name: 'list', description: 'registered slaves with their delivery health (never their keys)' })
export class SlaveListCommand extends CliCommand {
  async run(_args: string[], options: { enabled?: boolean; disabled?: boolean }): Promise<void> {
    if (options.enabled && options.disabled) throw usageError('give --enabled or --disabled, not both');
    const enabled = options.enabled ? 'true' : options.disabled ? 'false' : undefined;
    const slaves = await this.api().list('/admin/slaves', slavePage, { enabled });
    this.print(slaves, () =>
      table(
        ['ID', 'ENABLED', 'PENDING', 'DEAD', 'LAST ACCESS', 'FAILING SINCE', 'URL', 'DISABLED REASON'],
        slaves.map((s) => [s.id, s.enabled, s.pending, s.dead, when(s.last_access_at), when(s.failing_since), s.url, s.verified ? s.disabled_reason : 'awaiting verifySettings']),
      ),
    );
  }

  @Option({ flags: '--enabled', description: 'only enabled slaves' })
  enabled(): boolean {
    return true;
  }

  @Option({ flags: '--disabled', description: 'only disabled slaves' })
  disabled(): boolean {
    return true;
  }
}

@SubCommand({ name: 'disable', arguments: '<id>', description: 'disable a slave: no deliveries or chains to it, its pending deliveries parked' })
export class SlaveDisableCommand extends CliCommand {
  async run([raw]: string[], options: { reason?: string }): Promise<void> {
    const id = this.id(raw, 'the slave id');
    const body = checkInput(disableSlaveCommand, options.reason === undefined ? {} : { reason: options.reason }, { reason: '--reason' });
    const state = await this.api().request('POST', `/admin/slaves/${id}/disable`, slaveState, body);
    this.print(state, () => stateLine(state));
  }

  @Option({ flags: '--reason <text>', description: 'why (one line, up to 200 characters; recorded with the slave and in the audit)' })
  reason(value: string): string {
    return value;
  }
}

@SubCommand({ name: 'enable', arguments: '<id>', description: 'enable a slave again: its parked deliveries go back in line' })
export class SlaveEnableCommand extends CliCommand {
  async run([raw]: string[]): Promise<void> {
    const id = this.id(raw, 'the slave id');
    const state = await this.api().request('POST', `/admin/slaves/${id}/enable`, slaveState);
    this.print(state, () => stateLine(state));
  }
}

@SubCommand({ name: 'set-url', arguments: '<id> <url>', description: "fix a slave's URL in place (keys, state and deliveries stay)" })
export class SlaveSetUrlCommand extends CliCommand {
  async run([raw, url]: string[]): Promise<void> {
    const id = this.id(raw, 'the slave id');
    const body = checkInput(updateSlaveCommand, { url });
    const state = await this.api().request('PATCH', `/admin/slaves/${id}`, slaveState, body);
    this.print(state, () => stateLine(state));
  }
}

@SubCommand({ name: 'delete', arguments: '<id>', description: 'delete a slave for good (its keys go, its pending deliveries are discarded, the audit keeps its history); needs --yes' })
export class SlaveDeleteCommand extends CliCommand {
  async run([raw]: string[], options: { yes?: boolean }): Promise<void> {
    const id = this.id(raw, 'the slave id');
    if (!options.yes) throw usageError(`deleting slave ${id} cannot be undone: add --yes (to stop it for a while, disable it instead)`);
    await this.api().request('DELETE', `/admin/slaves/${id}`, null);
    this.print({ deleted: id }, () => `Slave ${id} deleted.`);
  }

  @Option({ flags: '--yes', description: 'confirm the deletion' })
  yes(): boolean {
    return true;
  }
}

@Command({
  name: 'slave',
  description: 'slaves: register (issue a key), list, disable, enable, change URL, delete',
  subCommands: [SlaveAddCommand, SlaveListCommand, SlaveDisableCommand, SlaveEnableCommand, SlaveSetUrlCommand, SlaveDeleteCommand],
})
export class SlaveCommand extends GroupCommand {}
