const { getJestProjectsAsync } = require('@nx/jest');

/**
 * Every project's tests in one run (what `npm test` runs). `testTimeout` belongs here: Jest takes it
 * from the configuration it was started with and ignores a project's own, so without it every test
 * without an explicit timeout would get the 5 s default under `npm test` (e2e/src/test-timeouts.spec.ts).
 */
module.exports = async () => ({
  testTimeout: 60_000,
  projects: await getJestProjectsAsync(),
});
