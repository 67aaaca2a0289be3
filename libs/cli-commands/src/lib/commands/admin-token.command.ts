import { Command, Option, SubCommand } from 'nest-commander';
import { adminTokenCreated, adminTokenPage, adminTokenView, createAdminTokenCommand } from '@switchboard/contracts';
import { checkInput, usageError } from '../cli-error';
import { CliCommand, GroupCommand } from '../cli-command';
import { table, when } from '../output';

@SubCommand({ name: 'create', arguments: '<name>', description: 'create a named admin token; the token is shown once', argsDescription: { name: '1–64 letters, digits, dots, dashes or underscores' } })
export class AdminTokenCreateCommand extends CliCommand {
  async run([name]: string[]): Promise<void> {
    const body = checkInput(createAdminTokenCommand, { name });
    const created = await this.api().request('POST', '/admin/tokens', adminTokenCreated, body);
    this.print(created, () => [
      `Created admin token ${created.id} "${created.name}".`,
      'The token is shown only this once: store it now (it is kept as a digest and cannot be shown again).',
      created.token,
    ]);
  }
}

@SubCommand({ name: 'list', description: 'named admin tokens, live and revoked (never the tokens themselves)' })
export class AdminTokenListCommand extends CliCommand {
  async run(_args: string[], options: { revoked?: boolean; live?: boolean }): Promise<void> {
    if (options.revoked && options.live) throw usageError('give --revoked or --live, not both');
    const revoked = options.revoked ? 'true' : options.live ? 'false' : undefined;
    const tokens = await this.api().list('/admin/tokens', adminTokenPage, { revoked });
    this.print(tokens, () =>
      table(
        ['ID', 'NAME', 'CREATED', 'BY', 'LAST USED', 'REVOKED', 'REVOKED BY'],
        tokens.map((t) => [t.id, t.name, when(t.created_at), t.created_by, when(t.last_used_at), when(t.revoked_at), t.revoked_by]),
      ),
    );
  }

  @Option({ flags: '--revoked', description: 'only revoked tokens' })
  revoked(): boolean {
    return true;
  }

  @Option({ flags: '--live', description: 'only live tokens' })
  live(): boolean {
    return true;
  }
}

@SubCommand({ name: 'revoke', arguments: '<id>', description: 'revoke a named admin token: refused from its next request on' })
export class AdminTokenRevokeCommand extends CliCommand {
  async run([raw]: string[]): Promise<void> {
    const id = this.id(raw, 'the admin token id');
    const revoked = await this.api().request('DELETE', `/admin/tokens/${id}`, adminTokenView);
    this.print(revoked, () => `Revoked admin token ${revoked.id} "${revoked.name}" (at ${when(revoked.revoked_at)}, by ${revoked.revoked_by}).`);
  }
}

@Command({
  name: 'admin-token',
  description: 'named admin tokens (besides the bootstrap ADMIN_TOKEN)',
  subCommands: [AdminTokenCreateCommand, AdminTokenListCommand, AdminTokenRevokeCommand],
})
export class AdminTokenCommand extends GroupCommand {}
