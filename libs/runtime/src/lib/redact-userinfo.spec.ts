import fc from 'fast-check';
import { REDACTED, redactString } from './redact';

describe('redactString: credentials in URLs, however they are written', () => {
  it('removes the password of a URL given plain, with an encoded colon, or percent-encoded in a parameter', () => {
    const secret = 's3cret-pw';
    for (const line of [
      `/ipsconnect?do=verifySettings&url=http://user:${secret}@127.0.0.1:8080/x&ourKey=k`,
      `/ipsconnect?do=verifySettings&url=${encodeURIComponent(`http://user:${secret}@127.0.0.1:8080/x`)}&ourKey=k`,
      `/ipsconnect?do=verifySettings&url=${encodeURIComponent(`https://user:${secret}@[::1]/ips.php?a=b`)}`,
      `url=http://user%3A${secret}@host/x`,
      `{"url":"http%3a%2f%2fuser%3a${secret}%40host%2fx"}`,
    ]) {
      const out = redactString(line);
      expect([line, out.includes(secret)]).toEqual([line, false]);
      expect(out).toContain(REDACTED);
    }
  });

  it('leaves URLs without credentials and e-mail addresses alone', () => {
    for (const line of [
      `/ipsconnect?do=verifySettings&url=${encodeURIComponent('http://forum.example/ips.php?x=1:2')}`,
      '/ipsconnect?do=checkEmail&email=bob%40example.test&x=a%3Ab',
      '/ipsconnect?do=changeEmail&email=a:b@example.test',
    ]) {
      expect(redactString(line)).toBe(line);
    }
  });

  it('never lets an encoded URL password through, whatever it is', () => {
    const part = fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@/?#% ') });
    fc.assert(
      fc.property(part, fc.stringMatching(/^[A-Za-z0-9]{6,20}$/), (user, password) => {
        const url = `http://${encodeURIComponent(user)}:${password}@forum.example/ips.php`;
        expect(redactString(`/ipsconnect?url=${encodeURIComponent(url)}&ourKey=x`)).not.toContain(password);
        expect(redactString(`/ipsconnect?url=${url}`)).not.toContain(password);
      }),
    );
  });
});
