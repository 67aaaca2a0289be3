module.exports = {
  displayName: 'input-rules',
  preset: '../../jest.preset.js',
};
