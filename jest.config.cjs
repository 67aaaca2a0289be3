const { getJestProjectsAsync } = require('@nx/jest');

/** Every project's tests in one run (what `npm test` runs). */
module.exports = async () => ({
  projects: await getJestProjectsAsync(),
});
