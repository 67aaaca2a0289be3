import { ApiClient } from './support/api-client';
import { ADMIN_TOKEN, System, http, startSystem } from './support/system';

/**
 * Issue 12: the request id an operator or a proxy gives (x-request-id) follows the request into the
 * service it calls: admin → auth, and the gateway's API calls that auth executes.
 */
describe('request ids across internal calls', () => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem();
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
  }, 180_000);

  const authLinesWith = (id: string) => sys.logs.lines.filter((l) => l.includes('"service":"auth"') && l.includes(id));

  it('an admin change reaches auth with the admin request\'s id', async () => {
    const id = 'trace-admin-0000000001';
    const r = await http(`${sys.urls.admin}/admin/members`, {
      method: 'POST',
      body: JSON.stringify({ name: 'Traced', email: 'traced@example.test', password: 'a password' }),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'x-request-id': id },
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-request-id')).toBe(id);
    expect(authLinesWith(id).length).toBeGreaterThan(0);
  }, 60_000);

  it('an application API call executed by auth carries the gateway request\'s id', async () => {
    const created = await http(`${sys.urls.admin}/admin/apps`, {
      method: 'POST',
      body: JSON.stringify({ title: 'Traced app', type: 'desktop' }),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    const app = new ApiClient(sys.urls.gateway, created.json().api_key, created.json().secret);
    const params = { api_key: app.apiKey };
    const id = 'trace-api-0000000002';
    const r = await http(`${sys.urls.gateway}/api/auth.getFrob?${new URLSearchParams({ ...params, api_sig: app.sign('auth.getFrob', params) })}`, { headers: { 'x-request-id': id } });
    expect(r.json().auth.frob).toBeTruthy();
    expect(authLinesWith(id).length).toBeGreaterThan(0);
  }, 60_000);
});
