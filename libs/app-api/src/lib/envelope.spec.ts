import { el, renderError, renderJson, renderXml } from './envelope';

describe('API envelopes (§4, A7)', () => {
  it('test.hello in JSON and XML', () => {
    const payload = [el('hello', {}, 'hello world!')];
    expect(renderJson(payload)).toBe('{"api":{"status":"ok"},"hello":"hello world!"}');
    expect(renderXml(payload)).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<api status="ok"><hello>hello world!</hello></api>');
  });

  it('getToken as §4.5 shows it, every scalar a string', () => {
    const payload = [
      el('auth', {}, [
        el('token', {}, '987654321-e5a5b9c3d5a77eab'),
        el('permissions', { doc: 'read', blog: 'none', post: 'none', network: 'none', profile: 'none' }),
        el('user', { user_id: 123, username: '007', realname: 'James Bond' }),
      ]),
    ];
    expect(JSON.parse(renderJson(payload))).toEqual({
      api: { status: 'ok' },
      auth: {
        token: '987654321-e5a5b9c3d5a77eab',
        permissions: { doc: 'read', blog: 'none', post: 'none', network: 'none', profile: 'none' },
        user: { user_id: '123', username: '007', realname: 'James Bond' },
      },
    });
    expect(renderXml(payload)).toContain(
      '<auth><token>987654321-e5a5b9c3d5a77eab</token><permissions doc="read" blog="none" post="none" network="none" profile="none"/><user user_id="123" username="007" realname="James Bond"/></auth>',
    );
  });

  it('errors: code as a string in JSON, attributes in XML, escaped', () => {
    expect(renderError('json', 105, 'The query signature is invalid.')).toBe('{"api":{"status":"error","code":"105","message":"The query signature is invalid."}}');
    expect(renderError('xml', 1, 'a "b" <c>')).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<api status="error" code="1" message="a &quot;b&quot; &lt;c&gt;"></api>');
  });

  it('lists render as arrays under the singular name, even with one item', () => {
    const one = [el('sites', {}, [{ ...el('site', { id: 1, url: 'http://a/' }), list: true }])];
    expect(JSON.parse(renderJson(one)).sites).toEqual({ site: [{ id: '1', url: 'http://a/' }] });
  });
});
