import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Lint is about architecture here: Nx module boundaries keep apps thin and libs layered.
 *   type:app      → may use libs (never another app)
 *   type:lib      → scope:platform (config, db, redis, runtime, crypto, events) uses only platform libs;
 *                   scope:domain (identity, ips-connect, admin-api, propagation, auth-client) uses
 *                   platform and domain libs
 *   type:testing  → libs/testing, only for type:test (e2e)
 *   type:test     → e2e: may use anything (it composes the apps in one process)
 */
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:platform'] },
  { sourceTag: 'scope:domain', onlyDependOnLibsWithTags: ['scope:platform', 'scope:domain'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['scope:platform'] },
  { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib', 'type:testing', 'type:app'] },
];
const boundaries = (allow) => ['error', { enforceBuildableLibDependency: true, allow, depConstraints }];

export default [
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/.nx', '**/coverage', '**/*.cjs', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': boundaries([]),
    },
  },
  {
    // The system tests compose the apps' root modules in one process; nothing else may import an app.
    files: ['e2e/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(['@switchboard/app-*']),
    },
  },
];
