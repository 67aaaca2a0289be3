import { AREAS, Area, Grant, LEVELS, Level } from '@switchboard/contracts';

// Permission areas and levels (spec §3, A6) travel in grants between auth and the gateway: written
// once, in libs/contracts.
export { AREAS, LEVELS } from '@switchboard/contracts';
export type { Area, Grant, Level } from '@switchboard/contracts';

const RANK: Record<Level | 'none', number> = { none: 0, read: 1, write: 2, delete: 3 };

/** Whether `granted` meets every `{area: minLevel}` of `required`. */
export function allows(granted: Grant, required: Grant): boolean {
  return Object.entries(required).every(([area, level]) => RANK[granted[area as Area] ?? 'none'] >= RANK[level!]);
}

/** All five areas, `none` where nothing was granted, plus `user` = `profile` (A6). */
export function permissionAttributes(granted: Grant): Record<string, string> {
  const out: Record<string, string> = {};
  for (const area of AREAS) out[area] = granted[area] ?? 'none';
  out['user'] = out['profile'];
  return out;
}

export type ParsedPerms = { ok: true; grant: Grant } | { ok: false; error: string };

/**
 * The `perm_<area>=<level>` parameters of an authorization link. Unknown areas or levels are an
 * error (an error page, never a silent clamp); `perm_user` is a synonym of `perm_profile`;
 * `profile` accepts read and write only.
 */
export function parsePermissions(params: [string, string][]): ParsedPerms {
  const grant: Grant = {};
  for (const [name, value] of params) {
    if (!name.startsWith('perm_')) continue;
    const raw = name.slice(5);
    const area = (raw === 'user' ? 'profile' : raw) as Area;
    if (!(AREAS as readonly string[]).includes(area)) return { ok: false, error: `unknown permission area "${raw}"` };
    if (!(LEVELS as readonly string[]).includes(value)) return { ok: false, error: `unknown permission level "${value}" for ${raw}` };
    if (area === 'profile' && value === 'delete') return { ok: false, error: 'profile accepts read or write only' };
    grant[area] = value as Level;
  }
  return { ok: true, grant };
}

const WORDS: Record<Area, Record<Level, string>> = {
  doc: { read: 'see your photos, videos and documents, private ones included', write: 'add and change your photos, videos and documents', delete: 'add, change and delete your photos, videos and documents' },
  blog: { read: 'read your blog, private posts included', write: 'write and change posts on your blog', delete: 'write, change and delete posts on your blog' },
  post: { read: 'read your articles', write: 'write and change your articles', delete: 'write, change and delete your articles' },
  network: { read: 'see the sites of the network and your contacts', write: 'change your contacts', delete: 'change and remove your contacts' },
  profile: { read: 'see your account: name, e-mail address, status', write: 'see and change your account: name and e-mail address', delete: '' },
};

/** The consent page's sentences, one per requested area. */
export function describeGrant(grant: Grant): string[] {
  return AREAS.filter((a) => grant[a]).map((a) => WORDS[a][grant[a]!]);
}
