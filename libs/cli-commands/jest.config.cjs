module.exports = {
  displayName: 'cli-commands',
  preset: '../../jest.preset.js',
  // Used when this project runs alone (nx test); under npm test the root configuration's applies.
  testTimeout: 60000,
};
