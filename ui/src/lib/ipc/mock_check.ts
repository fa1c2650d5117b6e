// DEV-ONLY connection checks of the mock core (mock.ts): the card's `integration_check` and the
// dialog's `integration_check_draft` answer with the steps the core would report.
import type { CheckStep, IntegrationCheck, Kind } from './types';

/** How a mock check goes: `unreachable` fails the first step, `wrongCredentials` the sign-in. */
export interface MockCheckCase {
  url: string;
  kind: Kind;
  unreachable?: boolean;
  wrongCredentials?: boolean;
  /** The draft trusts its own CA certificates (the core names them in the reach step). */
  customCa?: boolean;
}

const NOT_CHECKED = 'Not checked: an earlier step failed.';

const AUTH_FAILED: Record<Kind, Pick<CheckStep, 'detail' | 'advice'>> = {
  servicenow: {
    detail: 'table incident: HTTP 401: User Not Authenticated',
    advice:
      'ServiceNow refused the credentials: invalid username or password, or an expired password. Verify the username and password, check whether the service account is locked, then update the credentials and try again.',
  },
  jira: {
    detail: 'GET /rest/api/2/myself: HTTP 401 Unauthorized',
    advice:
      'Jira refused the credentials: check the email and API token (Cloud) or the personal access token (Data Center), and whether the token was revoked or expired, then try again.',
  },
};

export function mockCheck(c: MockCheckCase): IntegrationCheck {
  const skipped = (name: CheckStep['name']): CheckStep => ({ name, ok: false, detail: NOT_CHECKED, advice: null });
  const host = (() => {
    try {
      return new URL(c.url).host;
    } catch {
      return c.url;
    }
  })();
  if (c.unreachable) {
    return {
      ok: false,
      steps: [
        {
          name: 'reach',
          ok: false,
          detail: `error sending request for url (${c.url}): dns error: failed to lookup address information`,
          advice: `Could not reach ${host}: the name does not resolve. Check the URL and your network or VPN, then try again.`,
        },
        skipped('auth'),
        skipped('read'),
        skipped('count'),
      ],
      source_total: null,
    };
  }
  const via = c.customCa ? ", trusting the integration's CA certificates," : '';
  const reach: CheckStep = { name: 'reach', ok: true, detail: `${c.url} answered${via} (HTTP 401 without credentials).`, advice: null };
  if (c.wrongCredentials) {
    return {
      ok: false,
      steps: [reach, { name: 'auth', ok: false, ...AUTH_FAILED[c.kind] }, skipped('read'), skipped('count')],
      source_total: null,
    };
  }
  return {
    ok: true,
    steps: [
      reach,
      { name: 'auth', ok: true, detail: `Signed in to ${c.kind === 'jira' ? 'Jira' : 'ServiceNow'}.`, advice: null },
      { name: 'read', ok: true, detail: 'The account can read incidents.', advice: null },
      { name: 'count', ok: true, detail: "500 incidents match this integration's filters.", advice: null },
    ],
    source_total: 500,
  };
}
