module.exports = {
  displayName: 'e2e',
  preset: '../jest.preset.js',
  // Used when this project runs alone (-c e2e/jest.config.cjs); under npm test the root's applies.
  testTimeout: 60000,
};
