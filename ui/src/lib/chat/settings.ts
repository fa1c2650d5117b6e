import type { ChatSettings, ChatSettingsPatch } from '$lib/ipc/types';

export interface ChatForm {
  mode: ChatSettings['mode'];
  instance_url: string;
  auth: ChatSettings['auth'];
  client_id: string;
  username: string;
  bot_id: string;
  email: string;
  enterprise_id: string;
  webhook_port: string;
  tunnel: boolean;
  public_hosts: string;
  wait_minutes: string;
  attachment_days: string;
  client_secret: string;
  password: string;
  va_token: string;
  webhook_secret: string;
  /** Stored secrets the user chose to remove on save. */
  remove: SecretField[];
}

export const SECRET_FIELDS = ['client_secret', 'password', 'va_token', 'webhook_secret'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

export function formFrom(s: ChatSettings): ChatForm {
  return {
    mode: s.mode,
    instance_url: s.instance_url ?? '',
    auth: s.auth,
    client_id: s.client_id ?? '',
    username: s.username ?? '',
    bot_id: s.bot_id ?? '',
    email: s.email ?? '',
    enterprise_id: s.enterprise_id ?? '',
    webhook_port: String(s.webhook_port),
    tunnel: s.tunnel,
    public_hosts: s.public_hosts.join(', '),
    wait_minutes: String(Math.round(s.wait_timeout_s / 60)),
    attachment_days: String(s.attachment_days),
    client_secret: '',
    password: '',
    va_token: '',
    webhook_secret: '',
    remove: [],
  };
}

/** An instance URL the core accepts: https, or http to this machine only. */
function instanceUrlOk(url: string): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:') return true;
    return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

/** Field errors the UI can tell before asking the core (the core checks everything again).
 *  Fields the environment decides are not the form's to check: they never block a save. */
export function validateForm(f: ChatForm, fromEnv: string[] = []): Record<string, string> {
  const e: Record<string, string> = {};
  const port = Number(f.webhook_port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) e.webhook_port = 'Use a port from 1 to 65535, or 0 to pick a free one.';
  const wait = Number(f.wait_minutes);
  if (!Number.isInteger(wait) || wait < 1 || wait > 60) e.wait_timeout_s = 'Wait between 1 and 60 minutes for an agent.';
  const days = Number(f.attachment_days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) e.attachment_days = 'Keep attachments between 1 day and 10 years.';
  if (f.mode === 'real') {
    if (!fromEnv.includes('instance_url') && !instanceUrlOk(f.instance_url.trim()))
      e.instance_url = 'Enter your instance URL, like https://acme.service-now.com (http:// only for localhost).';
    if (f.auth !== 'token' && !fromEnv.includes('username') && f.username.trim() === '') e.username = 'Enter the integration user.';
    if (f.auth === 'oauth2' && !fromEnv.includes('client_id') && f.client_id.trim() === '') e.client_id = 'Enter the OAuth client id.';
  }
  if (f.tunnel && f.public_hosts.trim() === '') e.public_hosts = 'Name the public host name(s) of your tunnel, or turn tunnel mode off.';
  return e;
}

/** Only what changed; secrets only when typed (blank keeps the stored one) or removed. */
export function toPatch(f: ChatForm, was: ChatSettings): ChatSettingsPatch {
  const p: ChatSettingsPatch = {};
  // A text sent as "" clears it in the core.
  for (const k of ['instance_url', 'client_id', 'username', 'bot_id', 'email', 'enterprise_id'] as const) {
    // The environment decides these: the core ignores them, so they are not sent.
    if (was.from_env.includes(k)) continue;
    const v = f[k].trim();
    if (v !== (was[k] ?? '')) p[k] = v;
  }
  if (f.mode !== was.mode) p.mode = f.mode;
  if (f.auth !== was.auth) p.auth = f.auth;
  if (Number(f.webhook_port) !== was.webhook_port) p.webhook_port = Number(f.webhook_port);
  if (f.tunnel !== was.tunnel) p.tunnel = f.tunnel;
  const hosts = f.public_hosts.split(/[\s,]+/).filter((h) => h !== '');
  if (hosts.join(',') !== was.public_hosts.join(',')) p.public_hosts = hosts;
  if (Number(f.wait_minutes) * 60 !== was.wait_timeout_s) p.wait_timeout_s = Number(f.wait_minutes) * 60;
  if (Number(f.attachment_days) !== was.attachment_days) p.attachment_days = Number(f.attachment_days);
  for (const k of SECRET_FIELDS) {
    // A typed value wins over a removal chosen before typing it.
    if (f[k] !== '') p[k] = f[k];
    else if (f.remove.includes(k) && was.secrets[k]) p[k] = '';
  }
  return p;
}
