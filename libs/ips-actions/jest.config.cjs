module.exports = {
  displayName: 'ips-actions',
  preset: '../../jest.preset.js',
};
