import { describe, expect, it } from 'vitest';
import {
  AUTHS_FOR_KIND,
  CA_NOT_PEM_MESSAGE,
  CA_TOO_LARGE_MESSAGE,
  countCertificates,
  credentialFields,
  emptyForm,
  formFromIntegration,
  isHttpUrl,
  isInsecureHttp,
  parseList,
  sameOrigin,
  scheduleOptions,
  secretsFor,
  summarizeFilters,
  toDraft,
  toFilters,
  toNewIntegration,
  toPatch,
  validate,
} from './form';
import { makeIntegration } from '../../test/fixtures';

describe('origins', () => {
  it('counts scheme, host and port, not path or letter case', () => {
    const url = 'https://acme.service-now.com';
    expect(sameOrigin(url, 'https://ACME.service-now.com/now/')).toBe(true);
    expect(sameOrigin(url, 'https://acme.service-now.com:443')).toBe(true);
    expect(sameOrigin(url, 'https://other.service-now.com')).toBe(false);
    expect(sameOrigin(url, 'http://acme.service-now.com')).toBe(false);
    expect(sameOrigin(url, 'https://acme.service-now.com:8443')).toBe(false);
    // Half-typed: nothing moved yet.
    expect(sameOrigin(url, 'https://')).toBe(true);
  });

  it('finds plain http:// on another machine only', () => {
    expect(isInsecureHttp('http://itsm.example.com')).toBe(true);
    expect(isInsecureHttp('http://localhost.example.com')).toBe(true);
    for (const local of ['http://localhost:8080', 'http://127.0.0.1', 'http://127.3.2.1:1', 'http://[::1]:9000']) {
      expect(isInsecureHttp(local)).toBe(false);
    }
    expect(isInsecureHttp('https://itsm.example.com')).toBe(false);
  });
});

describe('form logic', () => {
  it('restricts auth types per kind', () => {
    expect(AUTHS_FOR_KIND.servicenow).toEqual(['basic', 'oauth2', 'oauth2_client_credentials']);
    expect(AUTHS_FOR_KIND.jira).toEqual(['basic', 'token']);
  });

  it('lists the credential fields per auth type', () => {
    expect(credentialFields('basic').map((f) => f.field)).toEqual(['username', 'password']);
    expect(credentialFields('token').map((f) => [f.field, f.required])).toEqual([
      ['username', false],
      ['token', true],
    ]);
    expect(credentialFields('oauth2').map((f) => f.field)).toEqual(['client_id', 'client_secret', 'username', 'password']);
    expect(credentialFields('oauth2_client_credentials').map((f) => [f.field, f.required])).toEqual([
      ['client_id', true],
      ['client_secret', true],
    ]);
    expect(secretsFor('oauth2')).toEqual(['client_secret', 'password']);
    expect(secretsFor('oauth2_client_credentials')).toEqual(['client_secret']);
    expect(secretsFor('token')).toEqual(['token']);
  });

  it('client credentials: needs the client id and secret only, and sends no user', () => {
    const v = {
      ...emptyForm(),
      auth: 'oauth2_client_credentials' as const,
      name: 'X',
      url: 'https://x.service-now.com',
      username: 'left over',
      password: 'left over',
    };
    expect(validate(v)).toEqual({ client_id: 'Enter the client ID.', client_secret: 'Enter the client secret.' });
    expect(validate({ ...v, kind: 'jira' })).toHaveProperty('auth');
    const filled = { ...v, client_id: ' app ', client_secret: 's3cret' };
    expect(validate(filled)).toEqual({});
    expect(toNewIntegration(filled)).toMatchObject({
      auth: 'oauth2_client_credentials',
      username: null,
      password: null,
      client_id: 'app',
      client_secret: 's3cret',
    });
    // A stored client secret stays on the same host, not on another one.
    const stored = { password: false, token: false, client_secret: true };
    expect(validate({ ...filled, client_secret: '' }, stored, 'https://x.service-now.com')).toEqual({});
    expect(validate({ ...filled, client_secret: '' }, stored, 'https://y.service-now.com')).toHaveProperty('client_secret');
    const patch = toPatch({ ...filled, client_secret: '' });
    expect(patch).toMatchObject({ client_id: 'app', client_secret: null, password: null });
    expect(patch).not.toHaveProperty('username');
  });

  it('accepts only http(s) URLs', () => {
    expect(isHttpUrl('https://acme.service-now.com')).toBe(true);
    expect(isHttpUrl('http://localhost:8080/jira')).toBe(true);
    expect(isHttpUrl('ftp://acme.com')).toBe(false);
    expect(isHttpUrl('acme.service-now.com')).toBe(false);
    expect(isHttpUrl('')).toBe(false);
  });

  it('validates required fields, keeping stored secrets optional', () => {
    const v = { ...emptyForm(), name: ' ', url: 'nope' };
    expect(validate(v)).toEqual({
      name: 'Enter a service name.',
      url: 'Enter a valid URL starting with https:// or http://.',
      username: 'Enter a username.',
      password: 'Enter a password.',
    });
    const filled = { ...emptyForm(), name: 'X', url: 'https://x.service-now.com', username: 'u' };
    expect(validate(filled, { password: true, token: false, client_secret: false })).toEqual({});
    expect(validate({ ...filled, kind: 'jira', auth: 'oauth2' })).toHaveProperty('auth');
  });

  it('builds add and edit payloads', () => {
    const v = { ...emptyForm(), kind: 'jira' as const, auth: 'token' as const, name: ' J ', url: ' https://j.atlassian.net ', token: 't0k', password: 'ignored' };
    expect(toNewIntegration(v)).toEqual({
      name: 'J',
      kind: 'jira',
      auth: 'token',
      url: 'https://j.atlassian.net',
      username: null,
      client_id: null,
      password: null,
      token: 't0k',
      client_secret: null,
      enabled: true,
      schedule_minutes: null,
      filters: null,
      request_budget: null,
      ca_certificates: null,
    });
    expect(toPatch({ ...v, token: '' })).toEqual({
      name: 'J',
      url: 'https://j.atlassian.net',
      auth: 'token',
      enabled: true,
      username: '',
      password: null,
      token: null,
      client_secret: null,
    });
  });

  it('builds the schedule part of the payloads', () => {
    const v = { ...emptyForm(), name: 'X', url: 'https://x.service-now.com', username: 'u', password: 'p' };
    expect(toNewIntegration(v).schedule_minutes).toBeNull();
    expect(toNewIntegration({ ...v, schedule_minutes: 60 }).schedule_minutes).toBe(60);
    // Edit: unchanged → omitted, turned off → 0, set or changed → the number.
    expect(toPatch({ ...v, schedule_minutes: 60 }, 60)).not.toHaveProperty('schedule_minutes');
    expect(toPatch(v, null)).not.toHaveProperty('schedule_minutes');
    expect(toPatch(v, 60).schedule_minutes).toBe(0);
    expect(toPatch({ ...v, schedule_minutes: 15 }, null).schedule_minutes).toBe(15);
    expect(toPatch({ ...v, schedule_minutes: 1440 }, 60).schedule_minutes).toBe(1440);
    expect(formFromIntegration(makeIntegration({ schedule_minutes: 360 })).schedule_minutes).toBe(360);
    expect(formFromIntegration(makeIntegration({ schedule_minutes: null })).schedule_minutes).toBe(0);
  });

  it('lists schedule options, adding a non-standard current value in order', () => {
    expect(scheduleOptions(null).map((o) => o.minutes)).toEqual([0, 15, 60, 360, 1440]);
    expect(scheduleOptions(60).map((o) => o.minutes)).toEqual([0, 15, 60, 360, 1440]);
    expect(scheduleOptions(30).map((o) => [o.minutes, o.label])).toContainEqual([30, 'Every 30 minutes']);
    expect(scheduleOptions(30).map((o) => o.minutes)).toEqual([0, 15, 30, 60, 360, 1440]);
    expect(scheduleOptions(10080).at(-1)).toEqual({ minutes: 10080, label: 'Every 10080 minutes' });
  });

  it('parses comma lists and builds filter payloads', () => {
    expect(parseList(' 1 - Critical, ,2 - High,, 1 - Critical ')).toEqual(['1 - Critical', '2 - High']);
    const base = { ...emptyForm(), name: 'X', url: 'https://x.service-now.com', username: 'u', password: 'p' };
    expect(toNewIntegration({ ...base, filters: { ...base.filters, raw_query: '  ' } }).filters).toBeNull();
    expect(toNewIntegration({ ...base, filters: { ...base.filters, state: 'Closed' } }).filters).toEqual({
      priority: [],
      category: [],
      state: ['Closed'],
      updated_from: null,
      updated_to: null,
      raw_query: null,
    });
    // Edit: untouched inputs keep the original values exactly (RFC 3339 time, item with a comma).
    const original = {
      priority: [],
      category: ['Network, WAN'],
      state: [],
      updated_from: '2026-01-01T08:00:00Z',
      updated_to: null,
      raw_query: 'active=true',
    };
    const v = formFromIntegration(makeIntegration({ filters: original }));
    expect(v.filters.updated_from).toBe('2026-01-01');
    expect(toFilters(v.filters, original)).toEqual(original);
    expect(toPatch(v, null, original)).not.toHaveProperty('filters');
    expect(toPatch({ ...v, filters: { ...v.filters, raw_query: ' active=true ' } }, null, original)).not.toHaveProperty('filters');
    expect(toPatch({ ...v, filters: { ...v.filters, raw_query: '' } }, null, original).filters).toEqual({
      ...original,
      raw_query: null,
    });
    // An older core without `filters` reads as none.
    expect(formFromIntegration({ ...makeIntegration(), filters: undefined as never }).filters.priority).toBe('');
    expect(validate({ ...base, filters: { ...base.filters, updated_from: '2026-02-01', updated_to: '2026-01-01' } })).toEqual({
      'filters.updated_to': 'The end date is before the start date.',
    });
  });

  it('checks the request budget and builds its payloads', () => {
    const v = { ...emptyForm(), name: 'X', url: 'https://x.service-now.com', username: 'u', password: 'p' };
    for (const bad of [9, 1_000_001, 12.5, -20]) {
      expect(validate({ ...v, request_budget: bad }).request_budget).toContain('from 10 to 1,000,000 requests per hour');
    }
    expect(validate({ ...v, request_budget: 500 })).toEqual({});
    expect(validate({ ...v, request_budget: null })).toEqual({});
    expect(toNewIntegration({ ...v, request_budget: 500 }).request_budget).toBe(500);
    expect(toNewIntegration({ ...v, request_budget: null }).request_budget).toBeNull();
    // Edit: unchanged → omitted, removed → 0, set or changed → the number.
    const it500 = makeIntegration({ request_budget: 500 });
    expect(formFromIntegration(it500).request_budget).toBe(500);
    expect(toPatch({ ...v, request_budget: 500 }, null, null, it500)).not.toHaveProperty('request_budget');
    expect(toPatch({ ...v, request_budget: null }, null, null, it500).request_budget).toBe(0);
    expect(toPatch({ ...v, request_budget: 800 }, null, null, it500).request_budget).toBe(800);
    expect(toPatch({ ...v, request_budget: 800 }).request_budget).toBe(800);
    expect(toPatch(v)).not.toHaveProperty('request_budget');
  });

  it('counts PEM certificates, refuses other files and builds the CA payloads', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(countCertificates(cert + cert)).toBe(2);
    expect(countCertificates('hello')).toBe(0);
    const v = { ...emptyForm(), name: 'X', url: 'https://x.service-now.com', username: 'u', password: 'p' };
    expect(validate({ ...v, ca_certificates: cert })).toEqual({});
    expect(validate({ ...v, ca_certificates: 'MIIB binary garbage' })).toEqual({ ca_certificates: CA_NOT_PEM_MESSAGE });
    expect(validate({ ...v, ca_certificates: cert + 'x'.repeat(1024 * 1024) })).toEqual({ ca_certificates: CA_TOO_LARGE_MESSAGE });
    expect(toNewIntegration({ ...v, ca_certificates: cert }).ca_certificates).toBe(cert.trim());
    expect(toNewIntegration(v).ca_certificates).toBeNull();
    // Edit: unchanged → omitted, removed → "", replaced → the new text.
    const stored = makeIntegration({ ca_certificates: cert.trim() });
    const edited = formFromIntegration(stored);
    expect(edited.ca_certificates).toBe(cert.trim());
    expect(toPatch(edited, null, null, stored)).not.toHaveProperty('ca_certificates');
    expect(toPatch({ ...edited, ca_certificates: '' }, null, null, stored).ca_certificates).toBe('');
    expect(toPatch({ ...edited, ca_certificates: cert + cert }, null, null, stored).ca_certificates).toBe((cert + cert).trim());
    expect(toPatch({ ...v, ca_certificates: cert })).toMatchObject({ ca_certificates: cert.trim() });
  });

  it('builds the draft of a connection check', () => {
    const v = { ...emptyForm(), name: 'X', url: 'http://itsm.example.com', username: 'u', password: '' };
    // Adding: the same payload as saving.
    expect(toDraft({ ...v, allow_insecure_http: true })).toEqual(toNewIntegration({ ...v, allow_insecure_http: true }));
    expect(toDraft(v)).not.toHaveProperty('allow_insecure_http');
    // Editing: an http:// URL that stays where it was saved was confirmed back then.
    expect(toDraft(v, 'http://itsm.example.com/')).toMatchObject({ allow_insecure_http: true, password: null });
    expect(toDraft(v, 'https://itsm.example.com')).not.toHaveProperty('allow_insecure_http');
  });

  it('summarises filters per kind', () => {
    const f = { priority: ['1 - Critical', '2 - High'], category: [], state: [], updated_from: '2026-01-01', updated_to: null, raw_query: 'active=true' };
    expect(summarizeFilters(f, 'servicenow')).toBe('Priority: 1 - Critical, 2 - High · Updated from 2026-01-01 · Query: active=true');
    expect(summarizeFilters({ ...f, priority: [], category: ['OPS'], updated_to: '2026-02-01', raw_query: null }, 'jira')).toBe(
      'Project: OPS · Updated from 2026-01-01 to 2026-02-01',
    );
    expect(summarizeFilters(makeIntegration().filters, 'jira')).toBeNull();
  });
});
