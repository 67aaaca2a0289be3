module.exports = {
  displayName: 'propagation',
  preset: '../../jest.preset.js',
};
