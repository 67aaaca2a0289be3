module.exports = {
  displayName: 'auth-client',
  preset: '../../jest.preset.js',
};
