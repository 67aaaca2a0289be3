import { Command, Option, SubCommand } from 'nest-commander';
import { apiKey, appPage, createAppCommand, createAppContract, rotateAppSecretContract } from '@switchboard/contracts';
import { checkInput, usageError } from '../cli-error';
import { CliCommand, GroupCommand } from '../cli-command';
import { table, when } from '../output';

@SubCommand({ name: 'create', description: 'create an application key for the application API; its secret is shown once' })
export class AppCreateCommand extends CliCommand {
  async run(_args: string[], options: { title?: string; type?: string; callbackUrl?: string; description?: string }): Promise<void> {
    if (options.title === undefined || options.type === undefined) throw usageError('app create needs --title and --type (web or desktop)');
    const body = checkInput(
      createAppCommand,
      {
        title: options.title,
        type: options.type,
        ...(options.callbackUrl === undefined ? {} : { callback_url: options.callbackUrl }),
        ...(options.description === undefined ? {} : { description: options.description }),
      },
      { title: '--title', type: '--type', callback_url: '--callback-url', description: '--description' },
    );
    const app = await this.api().request('POST', '/admin/apps', createAppContract.response, body);
    this.print(app, () => [
      `Created application "${app.title}" (${app.type}).`,
      `api_key: ${app.api_key}`,
      'The secret is shown only this once (rotate-secret issues a new one):',
      app.secret,
    ]);
  }

  @Option({ flags: '--title <title>', description: 'the name users see on the consent page' })
  title(value: string): string {
    return value;
  }

  @Option({ flags: '--type <type>', description: 'web (needs --callback-url) or desktop' })
  type(value: string): string {
    return value;
  }

  @Option({ flags: '--callback-url <url>', description: 'where the consent page sends the user back (web applications)' })
  callbackUrl(value: string): string {
    return value;
  }

  @Option({ flags: '--description <text>', description: 'what the application does' })
  description(value: string): string {
    return value;
  }
}

@SubCommand({ name: 'list', description: 'application keys, by creation (never their secrets)' })
export class AppListCommand extends CliCommand {
  async run(): Promise<void> {
    const apps = await this.api().list('/admin/apps', appPage);
    this.print(apps, () =>
      table(
        ['API KEY', 'TYPE', 'ENABLED', 'SIGNATURE', 'QUOTA', 'CREATED', 'TITLE'],
        apps.map((a) => [a.api_key, a.type, a.enabled, a.signature_mode, a.daily_quota, when(a.created_at), a.title]),
      ),
    );
  }
}

@SubCommand({ name: 'rotate-secret', arguments: '<api_key>', description: "replace an application's secret: the old one stops working at once; the new one is shown once" })
export class AppRotateSecretCommand extends CliCommand {
  async run([key]: string[]): Promise<void> {
    if (!apiKey.safeParse(key).success) throw usageError('the api_key must be 32 lowercase hex characters');
    const rotated = await this.api().request('POST', `/admin/apps/${key}/rotate-secret`, rotateAppSecretContract.response);
    this.print(rotated, () => [`New secret of ${rotated.api_key} (the old one no longer works; shown only this once):`, rotated.secret]);
  }
}

@Command({ name: 'app', description: 'application API keys: create, list, rotate-secret', subCommands: [AppCreateCommand, AppListCommand, AppRotateSecretCommand] })
export class AppCommand extends GroupCommand {}
