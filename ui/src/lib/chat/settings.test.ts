import { describe, expect, it } from 'vitest';
import { formFrom, toPatch, validateForm } from './settings';
import { makeChatSettings } from '../../test/fixtures';

const base = makeChatSettings();

describe('chat settings form', () => {
  it('round-trips with no changes into an empty patch, secrets left blank', () => {
    const f = formFrom(base);
    expect(f.wait_minutes).toBe('3');
    expect(f.password).toBe('');
    expect(toPatch(f, base)).toEqual({});
  });

  it('sends only what changed, and a secret only when typed', () => {
    const f = { ...formFrom(base), mode: 'real' as const, instance_url: ' https://acme.service-now.com ', client_id: 'cid', username: 'bot', client_secret: 's3cret', public_hosts: 'a.example.com, b.example.com', tunnel: true };
    expect(toPatch(f, base)).toEqual({
      mode: 'real',
      instance_url: 'https://acme.service-now.com',
      client_id: 'cid',
      username: 'bot',
      client_secret: 's3cret',
      tunnel: true,
      public_hosts: ['a.example.com', 'b.example.com'],
    });
  });

  it('removes a stored secret with an empty string, unless a new one is typed', () => {
    const was = { ...base, secrets: { ...base.secrets, password: true, va_token: true } };
    const f = { ...formFrom(was), remove: ['password', 'va_token', 'client_secret'] as const };
    expect(toPatch({ ...f, remove: [...f.remove] }, was)).toEqual({ password: '', va_token: '' });
    expect(toPatch({ ...f, remove: ['password'], password: 'n3w' }, was)).toEqual({ password: 'n3w' });
  });

  it('clears a text with an empty string', () => {
    const was = { ...base, bot_id: 'old-bot' };
    expect(toPatch({ ...formFrom(was), bot_id: ' ' }, was)).toEqual({ bot_id: '' });
  });

  it('explains what to fix, next to each field', () => {
    const f = { ...formFrom(base), mode: 'real' as const, instance_url: 'acme', webhook_port: '70000', wait_minutes: '0', tunnel: true };
    expect(validateForm(f)).toEqual({
      instance_url: 'Enter your instance URL, like https://acme.service-now.com (http:// only for localhost).',
      username: 'Enter the integration user.',
      client_id: 'Enter the OAuth client id.',
      webhook_port: 'Use a port from 1 to 65535, or 0 to pick a free one.',
      wait_timeout_s: 'Wait between 1 and 60 minutes for an agent.',
      public_hosts: 'Name the public host name(s) of your tunnel, or turn tunnel mode off.',
    });
    expect(validateForm(formFrom(base))).toEqual({});
  });

  it('accepts http:// only for this machine, and never blocks on what the environment decides', () => {
    const real = { ...formFrom(base), mode: 'real' as const, username: 'svc', client_id: 'cid' };
    expect(validateForm({ ...real, instance_url: 'http://127.0.0.1:8443' })).toEqual({});
    expect(validateForm({ ...real, instance_url: 'http://acme.service-now.com' })).toHaveProperty('instance_url');
    // SERVICENOW_INSTANCE=http://… is the environment's: the form saves its other fields.
    expect(validateForm({ ...real, instance_url: 'http://acme.service-now.com', username: '' }, ['instance_url', 'username'])).toEqual({});
  });
});
