module.exports = {
  displayName: 'ips-connect',
  preset: '../../jest.preset.js',
};
