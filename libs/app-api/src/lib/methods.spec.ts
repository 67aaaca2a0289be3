import { METHODS, findMethod } from './methods';
import { allows, describeGrant, parsePermissions, permissionAttributes } from './permissions';

describe('method table (A8) and permissions (§3, A6)', () => {
  it('declares every method of A8 once, with consistent flags', () => {
    const names = METHODS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of ['test.hello', 'test.echo', 'auth.getFrob', 'auth.getToken', 'auth.checkToken', 'api.methods.getList', 'api.methods.get', 'user.get', 'account.get', 'account.setName', 'account.setEmail', 'network.sites.getList', 'auth.revokeToken']) {
      expect(findMethod(n)?.name).toBe(n);
    }
    for (const m of METHODS) {
      if (m.token) expect(m.sign).toBe(true); // every token method is signed (§1.3)
      if (m.post) expect(m.token).toBe(true);
    }
    expect(findMethod('test.hello')).toMatchObject({ sign: false, token: false, post: false });
    expect(findMethod('account.setEmail')).toMatchObject({ post: true, sign: true, token: true, permissions: { profile: 'write' } });
    expect(findMethod('nope')).toBeUndefined();
    expect(findMethod('__proto__')).toBeUndefined();
  });

  it('levels imply the lower ones', () => {
    expect(allows({ profile: 'write' }, { profile: 'read' })).toBe(true);
    expect(allows({ profile: 'read' }, { profile: 'write' })).toBe(false);
    expect(allows({ doc: 'delete' }, { doc: 'write', network: 'read' })).toBe(false);
    expect(allows({}, {})).toBe(true);
  });

  it('reports all five areas plus user, none where nothing was granted', () => {
    expect(permissionAttributes({ doc: 'write' })).toEqual({ doc: 'write', blog: 'none', post: 'none', network: 'none', profile: 'none', user: 'none' });
  });

  it('parses authorization-link permissions, refusing unknown areas and levels', () => {
    expect(parsePermissions([['api_key', 'k'], ['perm_doc', 'write'], ['perm_user', 'read']])).toEqual({ ok: true, grant: { doc: 'write', profile: 'read' } });
    expect(parsePermissions([['perm_photos', 'read']]).ok).toBe(false);
    expect(parsePermissions([['perm_doc', 'admin']]).ok).toBe(false);
    expect(parsePermissions([['perm_profile', 'delete']]).ok).toBe(false);
    expect(describeGrant({ profile: 'write', network: 'read' })).toEqual([
      'see the sites of the network and your contacts',
      'see and change your account: name and e-mail address',
    ]);
  });
});
