import { Inject } from '@nestjs/common';
import { CommandRunner } from 'nest-commander';
import { ConfigError, CliSettings, parseCliSettings } from '@switchboard/config';
import { parseId } from '@switchboard/input-rules';
import { AdminClient } from './admin-client';
import { usageError } from './cli-error';
import { json, out } from './output';

/** The environment the CLI reads its settings and the services' settings from. */
export const CLI_ENV = Symbol('CLI_ENV');
export type CliEnv = Record<string, string | undefined>;

/** The options every command takes (declared once, on the root command). */
export interface GlobalFlags {
  json?: boolean;
  url?: string;
  tokenFile?: string;
  timeout?: string;
}

/**
 * What every command shares: the global flags, the CLI's settings, the admin client and the two
 * kinds of output (a human table or text; `--json` for tools).
 */
export abstract class CliCommand extends CommandRunner {
  constructor(@Inject(CLI_ENV) protected readonly env: CliEnv) {
    super();
  }

  protected flags(): GlobalFlags {
    return this.command.optsWithGlobals() as GlobalFlags;
  }

  protected settings(): CliSettings {
    const { url, tokenFile, timeout } = this.flags();
    try {
      return parseCliSettings(this.env, { url, tokenFile, timeout });
    } catch (err) {
      if (err instanceof ConfigError) throw usageError('the CLI\'s settings are invalid (nothing was sent)', err.problems);
      throw err;
    }
  }

  protected api(): AdminClient {
    return new AdminClient(this.settings());
  }

  /** `--json`: the value as JSON; otherwise the human text. */
  protected print(value: unknown, human: () => string | string[]): void {
    if (this.flags().json) json(value);
    else {
      const text = human();
      out(Array.isArray(text) ? text.join('\n') : text);
    }
  }

  /** A row id argument (1–2147483647), or a usage error naming it. */
  protected id(raw: string | undefined, what: string): number {
    const id = parseId(raw);
    if (id === null) throw usageError(`${what} must be a whole number from 1 to 2147483647`);
    return id;
  }
}

/**
 * A command that only groups others (`slave`, `member`…): run alone it shows its help, with an
 * unknown word it says so; both are usage errors.
 */
export abstract class GroupCommand extends CommandRunner {
  async run(args: string[]): Promise<void> {
    // `switchboard help [command]`, `switchboard slave help [command]`: the help, as --help shows it.
    if (args[0] === 'help') {
      const target = args[1] === undefined ? this.command : this.command.commands.find((c) => c.name() === args[1]);
      if (target) {
        target.outputHelp();
        return;
      }
    }
    const path = this.command.parent ? `switchboard ${this.command.name()}` : 'switchboard';
    const commands = this.command.commands.map((c) => c.name()).join(', ');
    throw usageError(args.length ? `unknown command '${path} ${args[0]}' (commands: ${commands})` : `${path} needs a command: ${commands}`, [`${path} --help shows each`]);
  }
}
