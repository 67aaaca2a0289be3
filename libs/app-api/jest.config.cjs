module.exports = {
  displayName: 'app-api',
  preset: '../../jest.preset.js',
};
