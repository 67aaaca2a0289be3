module.exports = {
  displayName: 'ips-protocol',
  preset: '../../jest.preset.js',
};
