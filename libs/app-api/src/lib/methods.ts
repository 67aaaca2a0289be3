import type { Grant } from './permissions';

/**
 * The method table (A8): each method declared once; dispatch, the post / sign / token / permission
 * checks and `api.methods.getList` / `api.methods.get` all read it.
 */
export interface MethodSpec {
  name: string;
  title: string;
  about: string;
  /** Must be called with HTTP POST (else 120). */
  post: boolean;
  /** A signature is required (else 104). */
  sign: boolean;
  /** An auth_token is required (else 106). */
  token: boolean;
  permissions: Grant;
  parameters: { name: string; required: boolean; about: string }[];
  /** Method-local error codes. */
  errors: { code: number; message: string }[];
}

const key = { name: 'api_key', required: true, about: 'your application key' };
const token = { name: 'auth_token', required: true, about: 'the authentication token' };

export const METHODS: MethodSpec[] = [
  { name: 'test.hello', title: 'Hello', about: 'Answers hello world!', post: false, sign: false, token: false, permissions: {}, parameters: [key], errors: [] },
  {
    name: 'test.echo',
    title: 'Echo',
    about: 'Echoes the echo parameter.',
    post: false,
    sign: false,
    token: false,
    permissions: {},
    parameters: [key, { name: 'echo', required: true, about: 'the text to echo' }],
    errors: [{ code: 1, message: 'Nothing to echo: the echo parameter was empty or not sent.' }],
  },
  { name: 'api.methods.getList', title: 'Methods', about: 'Lists the methods of the API.', post: false, sign: false, token: false, permissions: {}, parameters: [], errors: [] },
  {
    name: 'api.methods.get',
    title: 'Method',
    about: 'Describes one method.',
    post: false,
    sign: false,
    token: false,
    permissions: {},
    parameters: [{ name: 'method', required: true, about: 'the method name' }],
    errors: [{ code: 1, message: 'The method is missing or unknown.' }],
  },
  { name: 'auth.getFrob', title: 'Get a frob', about: 'Starts the desktop authorization flow.', post: false, sign: true, token: false, permissions: {}, parameters: [key], errors: [] },
  {
    name: 'auth.getToken',
    title: 'Get a token',
    about: 'Exchanges an approved frob for an authentication token.',
    post: false,
    sign: true,
    token: false,
    permissions: {},
    parameters: [key, { name: 'frob', required: true, about: 'the frob' }],
    errors: [
      { code: 1, message: 'The frob is missing.' },
      { code: 2, message: 'The passed frob is either invalid or already used.' },
    ],
  },
  { name: 'auth.checkToken', title: 'Check a token', about: 'Tells what a token grants.', post: false, sign: true, token: true, permissions: {}, parameters: [key, token], errors: [] },
  { name: 'auth.revokeToken', title: 'Revoke a token', about: 'Ends the grant the token belongs to.', post: true, sign: true, token: true, permissions: {}, parameters: [key, token], errors: [] },
  {
    name: 'user.get',
    title: 'Public profile',
    about: 'A member’s public profile.',
    post: false,
    sign: true,
    token: false,
    permissions: {},
    parameters: [key, { name: 'user_id', required: true, about: 'the member id' }],
    errors: [{ code: 1, message: 'User not found.' }],
  },
  { name: 'account.get', title: 'Account', about: 'The member’s account.', post: false, sign: true, token: true, permissions: { profile: 'read' }, parameters: [key, token], errors: [] },
  {
    name: 'account.setName',
    title: 'Change name',
    about: 'Changes the member’s name on every site of the network.',
    post: true,
    sign: true,
    token: true,
    permissions: { profile: 'write' },
    parameters: [key, token, { name: 'name', required: true, about: 'the new name' }],
    errors: [
      { code: 1, message: 'The name is missing or invalid.' },
      { code: 2, message: 'This name is already in use.' },
      { code: 3, message: 'Too many names or e-mail addresses already in use were tried. Try again in an hour.' },
    ],
  },
  {
    name: 'account.setEmail',
    title: 'Change e-mail',
    about: 'Changes the member’s e-mail address on every site of the network.',
    post: true,
    sign: true,
    token: true,
    permissions: { profile: 'write' },
    parameters: [key, token, { name: 'email', required: true, about: 'the new e-mail address' }],
    errors: [
      { code: 1, message: 'The e-mail address is missing or invalid.' },
      { code: 2, message: 'This e-mail address is already in use.' },
      { code: 3, message: 'Too many names or e-mail addresses already in use were tried. Try again in an hour.' },
    ],
  },
  { name: 'network.sites.getList', title: 'Sites', about: 'The enabled sites of the network.', post: false, sign: true, token: true, permissions: { network: 'read' }, parameters: [key, token], errors: [] },
];

const BY_NAME = new Map(METHODS.map((m) => [m.name, m]));

export function findMethod(name: string | undefined): MethodSpec | undefined {
  return name === undefined ? undefined : BY_NAME.get(name);
}
