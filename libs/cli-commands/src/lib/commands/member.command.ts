import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command, Option, SubCommand } from 'nest-commander';
import { MemberView, createMemberCommand, createMemberContract, memberPage, memberView } from '@switchboard/contracts';
import { checkInput, usageError } from '../cli-error';
import { CliCommand, GroupCommand } from '../cli-command';
import { table, when } from '../output';

/** The most a password read from standard input may be (the API takes up to 4096 characters). */
const MAX_STDIN = 16 * 1024;

/** Standard input to its end, without one trailing line break (`echo pw |` adds one). */
async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.length > MAX_STDIN) throw usageError('standard input is too long for a password');
  }
  return text.replace(/\r?\n$/, '');
}

/** Asks on the terminal without echoing what is typed. */
async function askHidden(question: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  process.stderr.write(question);
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

const memberLine = (m: MemberView) =>
  `Member ${m.id} "${m.name}" <${m.email}>${m.banned ? ', banned' : ''}${m.locked_until ? `, locked until ${when(m.locked_until)}` : ''}${m.validating ? ', validating' : ''}.`;

@SubCommand({
  name: 'create',
  description: 'create a member on the master and every slave; the password is read from standard input (--password-stdin) or asked on the terminal, never taken from the command line',
})
export class MemberCreateCommand extends CliCommand {
  async run(_args: string[], options: { name?: string; email?: string; passwordStdin?: boolean; id?: string; validating?: boolean }): Promise<void> {
    if (options.name === undefined || options.email === undefined) throw usageError('member create needs --name and --email');
    const id = options.id === undefined ? undefined : this.id(options.id, '--id');
    let password: string;
    if (options.passwordStdin) password = await readStdin();
    else if (process.stdin.isTTY) {
      password = await askHidden('Password: ');
      if ((await askHidden('Password again: ')) !== password) throw usageError('the two passwords differ (nothing was sent)');
    } else throw usageError('give the password on standard input with --password-stdin (never on the command line)');
    const body = checkInput(
      createMemberCommand,
      { name: options.name, email: options.email, password, ...(id === undefined ? {} : { id }), ...(options.validating ? { validating: true } : {}) },
      { name: '--name', email: '--email', password: 'password', id: '--id' },
    );
    const member = await this.api().request('POST', '/admin/members', createMemberContract.response, body);
    this.print(member, () => `Created ${memberLine(member).replace(/^M/, 'm')}`);
  }

  @Option({ flags: '--name <name>', description: 'display name (unique)' })
  name(value: string): string {
    return value;
  }

  @Option({ flags: '--email <email>', description: 'e-mail address (unique)' })
  email(value: string): string {
    return value;
  }

  @Option({ flags: '--password-stdin', description: 'read the password from standard input' })
  passwordStdin(): boolean {
    return true;
  }

  @Option({ flags: '--id <id>', description: 'keep this member id (imports from an existing network)' })
  memberId(value: string): string {
    return value;
  }

  @Option({ flags: '--validating', description: 'the member still has to validate the e-mail address' })
  validating(): boolean {
    return true;
  }
}

@SubCommand({ name: 'list', description: 'members by id; --search filters on name or e-mail' })
export class MemberListCommand extends CliCommand {
  async run(_args: string[], options: { search?: string }): Promise<void> {
    const members = await this.api().list('/admin/members', memberPage, { q: options.search });
    this.print(members, () =>
      table(
        ['ID', 'NAME', 'EMAIL', 'BANNED', 'LOCKED UNTIL', 'VALIDATING', 'CREATED'],
        members.map((m) => [m.id, m.name, m.email, m.banned, when(m.locked_until), m.validating, when(m.created_at)]),
      ),
    );
  }

  @Option({ flags: '--search <text>', description: 'name or e-mail contains this (case-insensitive)' })
  search(value: string): string {
    return value;
  }
}

/** ban, unban, unlock: POST /admin/members/:id/<action>, answered with the member. */
abstract class MemberActionCommand extends CliCommand {
  protected abstract readonly action: 'ban' | 'unban' | 'unlock';
  protected abstract readonly done: string;

  async run([raw]: string[]): Promise<void> {
    const id = this.id(raw, 'the member id');
    const member = await this.api().request('POST', `/admin/members/${id}/${this.action}`, memberView);
    this.print(member, () => `${this.done}: ${memberLine(member)}`);
  }
}

@SubCommand({ name: 'ban', arguments: '<id>', description: 'ban a member on the master and every slave (their master sessions end)' })
export class MemberBanCommand extends MemberActionCommand {
  protected readonly action = 'ban';
  protected readonly done = 'Banned';
}

@SubCommand({ name: 'unban', arguments: '<id>', description: 'lift a ban on the master and every slave' })
export class MemberUnbanCommand extends MemberActionCommand {
  protected readonly action = 'unban';
  protected readonly done = 'Ban lifted';
}

@SubCommand({ name: 'unlock', arguments: '<id>', description: "clear a member's login lock and failure count" })
export class MemberUnlockCommand extends MemberActionCommand {
  protected readonly action = 'unlock';
  protected readonly done = 'Unlocked';
}

@Command({
  name: 'member',
  description: 'members: create, list, ban, unban, unlock',
  subCommands: [MemberCreateCommand, MemberListCommand, MemberBanCommand, MemberUnbanCommand, MemberUnlockCommand],
})
export class MemberCommand extends GroupCommand {}
