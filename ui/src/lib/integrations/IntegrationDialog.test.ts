import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import IntegrationDialog from './IntegrationDialog.svelte';
import * as api from '$lib/ipc/api';
import type { Integration } from '$lib/ipc/types';
import { loginAs, makeIntegration } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

function setup() {
  const onclose = vi.fn();
  const onsaved = vi.fn();
  render(IntegrationDialog, { props: { secretStoreLabel: 'OS keyring', onclose, onsaved } });
  return { onclose, onsaved, user: userEvent.setup() };
}

const CRED_IDS = ['field-username', 'field-client_id', 'field-password', 'field-token', 'field-client_secret'];
const shownCreds = () => CRED_IDS.filter((id) => screen.queryByTestId(id) !== null);
const options = (testid: string) =>
  Array.from((screen.getByTestId(testid) as HTMLSelectElement).options).map((o) => [o.value, o.textContent]);

beforeEach(() => {
  loginAs('admin');
});

describe('IntegrationDialog: fields per auth type', () => {
  it('starts as ServiceNow + Basic with URL, Username, Password', () => {
    setup();
    expect(screen.getByTestId('integration-dialog')).toHaveAttribute('aria-modal', 'true');
    expect(screen.getByRole('heading', { name: 'Add integration' })).toBeInTheDocument();
    expect(screen.getByTestId('field-kind')).toHaveValue('servicenow');
    expect(screen.getByTestId('field-auth')).toHaveValue('basic');
    expect(screen.getByTestId('field-url')).toHaveAttribute('placeholder', 'https://company.service-now.com');
    expect(shownCreds()).toEqual(['field-username', 'field-password']);
    expect(screen.getByTestId('field-enabled')).toBeChecked();
    expect(screen.getByTestId('integration-dialog')).toHaveTextContent(
      'Credentials are stored in OS keyring. Never share them.',
    );
  });

  it('restricts auth types by kind and shows token fields for Jira', async () => {
    const { user } = setup();
    expect(options('field-auth')).toEqual([
      ['basic', 'Basic'],
      ['oauth2', 'OAuth 2.0'],
      ['oauth2_client_credentials', 'OAuth 2.0 client credentials'],
    ]);
    await user.selectOptions(screen.getByTestId('field-kind'), 'jira');
    expect(options('field-auth')).toEqual([
      ['basic', 'Basic'],
      ['token', 'API token'],
    ]);
    expect(screen.getByTestId('field-url')).toHaveAttribute('placeholder', 'https://company.atlassian.net');
    await user.selectOptions(screen.getByTestId('field-auth'), 'token');
    expect(shownCreds()).toEqual(['field-username', 'field-token']);
    expect(screen.getByTestId('integration-dialog')).toHaveTextContent(
      'Leave empty for a Jira Data Center personal access token',
    );
    expect(screen.getByText('Username / email')).toBeInTheDocument();
  });

  it('shows only the client ID and secret for OAuth 2.0 client credentials', async () => {
    const { user } = setup();
    await user.selectOptions(screen.getByTestId('field-auth'), 'oauth2_client_credentials');
    expect(shownCreds()).toEqual(['field-client_id', 'field-client_secret']);
    await user.selectOptions(screen.getByTestId('field-kind'), 'jira');
    expect(screen.getByTestId('field-auth')).toHaveValue('basic');
  });

  it('shows OAuth 2.0 fields and resets the auth type when the kind no longer allows it', async () => {
    const { user } = setup();
    await user.selectOptions(screen.getByTestId('field-auth'), 'oauth2');
    expect(shownCreds()).toEqual(['field-username', 'field-client_id', 'field-password', 'field-client_secret']);
    await user.selectOptions(screen.getByTestId('field-kind'), 'jira');
    expect(screen.getByTestId('field-auth')).toHaveValue('basic');
    expect(shownCreds()).toEqual(['field-username', 'field-password']);
  });
});

describe('IntegrationDialog: validation', () => {
  it('blocks submit with inline errors for missing fields', async () => {
    const { user, onsaved } = setup();
    await user.click(screen.getByTestId('dialog-save'));
    expect(screen.getByTestId('error-name')).toHaveTextContent('Enter a service name.');
    expect(screen.getByTestId('error-url')).toHaveTextContent('Enter the URL of your instance.');
    expect(screen.getByTestId('error-username')).toHaveTextContent('Enter a username.');
    expect(screen.getByTestId('error-password')).toHaveTextContent('Enter a password.');
    expect(screen.getByTestId('field-name')).toHaveAttribute('aria-invalid', 'true');
    expect(api.integrationAdd).not.toHaveBeenCalled();
    expect(onsaved).not.toHaveBeenCalled();
  });

  it('rejects a URL that is not http(s)', async () => {
    const { user } = setup();
    await user.type(screen.getByTestId('field-name'), 'Prod');
    await user.type(screen.getByTestId('field-url'), 'company.service-now.com');
    await user.type(screen.getByTestId('field-username'), 'svc');
    await user.type(screen.getByTestId('field-password'), 'pw');
    await user.click(screen.getByTestId('dialog-save'));
    expect(screen.getByTestId('error-url')).toHaveTextContent('Enter a valid URL starting with https:// or http://.');
    expect(screen.queryByTestId('error-name')).not.toBeInTheDocument();
    expect(api.integrationAdd).not.toHaveBeenCalled();

    // Typing clears the error; a valid URL submits.
    await user.clear(screen.getByTestId('field-url'));
    expect(screen.queryByTestId('error-url')).not.toBeInTheDocument();
  });

  it('requires client id/secret, username and password for OAuth 2.0', async () => {
    const { user } = setup();
    await user.selectOptions(screen.getByTestId('field-auth'), 'oauth2');
    await user.click(screen.getByTestId('dialog-save'));
    expect(screen.getByTestId('error-client_id')).toHaveTextContent('Enter the client ID.');
    expect(screen.getByTestId('error-client_secret')).toHaveTextContent('Enter the client secret.');
    expect(screen.getByTestId('error-username')).toHaveTextContent('Enter a username.');
    expect(screen.getByTestId('error-password')).toHaveTextContent('Enter a password.');
  });

  it('requires the client ID and secret, and no user, for client credentials', async () => {
    const { user } = setup();
    vi.mocked(api.integrationAdd).mockResolvedValue(makeIntegration());
    await user.selectOptions(screen.getByTestId('field-auth'), 'oauth2_client_credentials');
    await user.click(screen.getByTestId('dialog-save'));
    expect(screen.getByTestId('error-client_id')).toHaveTextContent('Enter the client ID.');
    expect(screen.getByTestId('error-client_secret')).toHaveTextContent('Enter the client secret.');
    expect(screen.queryByTestId('error-username')).not.toBeInTheDocument();
    expect(screen.queryByTestId('error-password')).not.toBeInTheDocument();
    await user.type(screen.getByTestId('field-name'), 'Prod');
    await user.type(screen.getByTestId('field-url'), 'https://acme.service-now.com');
    await user.type(screen.getByTestId('field-client_id'), 'app');
    await user.type(screen.getByTestId('field-client_secret'), 's3cret');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationAdd).toHaveBeenCalledWith(
      expect.objectContaining({ auth: 'oauth2_client_credentials', username: null, password: null, client_id: 'app', client_secret: 's3cret' }),
    );
  });

  it('does not require a username for API token auth', async () => {
    const { user } = setup();
    await user.selectOptions(screen.getByTestId('field-kind'), 'jira');
    await user.selectOptions(screen.getByTestId('field-auth'), 'token');
    await user.click(screen.getByTestId('dialog-save'));
    expect(screen.queryByTestId('error-username')).not.toBeInTheDocument();
    expect(screen.getByTestId('error-token')).toHaveTextContent('Enter the API token.');
  });
});

describe('IntegrationDialog: saving', () => {
  it('sends a NewIntegration and reports the saved integration', async () => {
    const { user, onsaved } = setup();
    const created = makeIntegration({ id: 42, name: 'Jira Cloud', kind: 'jira', auth: 'token' });
    vi.mocked(api.integrationAdd).mockResolvedValue(created);
    await user.type(screen.getByTestId('field-name'), '  Jira Cloud ');
    await user.selectOptions(screen.getByTestId('field-kind'), 'jira');
    await user.selectOptions(screen.getByTestId('field-auth'), 'token');
    await user.type(screen.getByTestId('field-url'), 'https://acme.atlassian.net');
    await user.type(screen.getByTestId('field-username'), 'bot@acme.io');
    await user.type(screen.getByTestId('field-token'), 'tok-123');
    await user.click(screen.getByTestId('field-enabled'));
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationAdd).toHaveBeenCalledWith({
      name: 'Jira Cloud',
      kind: 'jira',
      auth: 'token',
      url: 'https://acme.atlassian.net',
      username: 'bot@acme.io',
      client_id: null,
      password: null,
      token: 'tok-123',
      client_secret: null,
      enabled: false,
      schedule_minutes: null,
      filters: null,
      request_budget: null,
      ca_certificates: null,
    });
    expect(onsaved).toHaveBeenCalledWith(created);
  });

  async function fillValid(user: ReturnType<typeof userEvent.setup>) {
    await user.type(screen.getByTestId('field-name'), 'Prod');
    await user.type(screen.getByTestId('field-url'), 'https://acme.service-now.com');
    await user.type(screen.getByTestId('field-username'), 'svc');
    await user.type(screen.getByTestId('field-password'), 'pw');
  }

  it('maps server field errors inline under their inputs', async () => {
    const { user, onsaved } = setup();
    vi.mocked(api.integrationAdd).mockRejectedValue({
      code: 'duplicate_name',
      message: 'Duplicate',
      fields: { name: 'An integration named "Prod" already exists.', url: 'Host not allowed.' },
    });
    await fillValid(user);
    await user.click(screen.getByTestId('dialog-save'));
    expect(await screen.findByTestId('error-name')).toHaveTextContent('An integration named "Prod" already exists.');
    expect(screen.getByTestId('error-url')).toHaveTextContent('Host not allowed.');
    expect(screen.queryByTestId('dialog-error')).not.toBeInTheDocument();
    expect(onsaved).not.toHaveBeenCalled();
    expect(screen.getByTestId('integration-dialog')).toBeInTheDocument();
  });

  it('shows errors without a visible field (and other codes) inside the dialog', async () => {
    const { user } = setup();
    vi.mocked(api.integrationAdd).mockRejectedValueOnce({
      code: 'secret_store_unavailable',
      message: 'The OS keyring is locked.',
    });
    await fillValid(user);
    await user.click(screen.getByTestId('dialog-save'));
    expect(await screen.findByTestId('dialog-error')).toHaveTextContent('The OS keyring is locked.');

    vi.mocked(api.integrationAdd).mockRejectedValueOnce({
      code: 'validation',
      message: 'Invalid',
      fields: { token: 'Token is not used with basic auth.' },
    });
    await user.click(screen.getByTestId('dialog-save'));
    expect(await screen.findByTestId('dialog-error')).toHaveTextContent('Token is not used with basic auth.');
  });
});

describe('IntegrationDialog: automatic sync', () => {
  const STANDARD = [
    ['0', 'Off (manual only)'],
    ['15', 'Every 15 minutes'],
    ['60', 'Every hour'],
    ['360', 'Every 6 hours'],
    ['1440', 'Every day'],
  ];
  const HINT = 'Runs only while the integration is enabled and the app is open. Manual Sync Now always works.';

  function setupEdit(over: Partial<Integration> = {}) {
    const integration = makeIntegration(over);
    const onsaved = vi.fn();
    render(IntegrationDialog, {
      props: { integration, secretStoreLabel: 'OS keyring', onclose: vi.fn(), onsaved },
    });
    vi.mocked(api.integrationEdit).mockResolvedValue(integration);
    return { integration, onsaved, user: userEvent.setup() };
  }

  async function fillAdd(user: ReturnType<typeof userEvent.setup>) {
    await user.type(screen.getByTestId('field-name'), 'Prod');
    await user.type(screen.getByTestId('field-url'), 'https://acme.service-now.com');
    await user.type(screen.getByTestId('field-username'), 'svc');
    await user.type(screen.getByTestId('field-password'), 'pw');
  }

  const lastPatch = () => vi.mocked(api.integrationEdit).mock.calls.at(-1)?.[1];

  it('offers the standard intervals, Off by default, with a hint', () => {
    setup();
    const select = screen.getByTestId('field-schedule_minutes');
    expect(options('field-schedule_minutes')).toEqual(STANDARD);
    expect(select).toHaveValue('0');
    expect(screen.getByLabelText('Automatic sync')).toBe(select);
    expect(select).toHaveAccessibleDescription(HINT);
  });

  it('add: sends null for Off and the number of minutes otherwise', async () => {
    const { user } = setup();
    vi.mocked(api.integrationAdd).mockResolvedValue(makeIntegration());
    await fillAdd(user);
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationAdd).toHaveBeenLastCalledWith(expect.objectContaining({ schedule_minutes: null }));

    await user.selectOptions(screen.getByTestId('field-schedule_minutes'), 'Every 6 hours');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationAdd).toHaveBeenLastCalledWith(expect.objectContaining({ schedule_minutes: 360 }));
  });

  it('shows the server error for schedule_minutes under the field', async () => {
    const { user } = setup();
    vi.mocked(api.integrationAdd).mockRejectedValue({
      code: 'validation',
      message: 'Invalid',
      fields: { schedule_minutes: 'Choose an interval from 5 minutes to one week.' },
    });
    await fillAdd(user);
    await user.selectOptions(screen.getByTestId('field-schedule_minutes'), '15');
    await user.click(screen.getByTestId('dialog-save'));
    expect(await screen.findByTestId('error-schedule_minutes')).toHaveTextContent(
      'Choose an interval from 5 minutes to one week.',
    );
    expect(screen.getByTestId('field-schedule_minutes')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByTestId('dialog-error')).not.toBeInTheDocument();

    await user.selectOptions(screen.getByTestId('field-schedule_minutes'), '60');
    expect(screen.queryByTestId('error-schedule_minutes')).not.toBeInTheDocument();
  });

  it('edit: preselects the current value and omits it when unchanged', async () => {
    const { user } = setupEdit({ schedule_minutes: 60 });
    expect(screen.getByTestId('field-schedule_minutes')).toHaveValue('60');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).toHaveBeenCalledTimes(1);
    expect(lastPatch()).not.toHaveProperty('schedule_minutes');
  });

  it('edit: sends 0 when a schedule is turned off', async () => {
    const { user } = setupEdit({ schedule_minutes: 1440 });
    await user.selectOptions(screen.getByTestId('field-schedule_minutes'), 'Off (manual only)');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({ schedule_minutes: 0 });
  });

  it('edit: sends the number when set or changed', async () => {
    const { user } = setupEdit({ schedule_minutes: null });
    expect(screen.getByTestId('field-schedule_minutes')).toHaveValue('0');
    await user.selectOptions(screen.getByTestId('field-schedule_minutes'), '15');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({ schedule_minutes: 15 });
  });

  it('edit: leaving Off unchanged omits the field', async () => {
    const { user } = setupEdit({ schedule_minutes: null });
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).not.toHaveProperty('schedule_minutes');
  });

  it('edit: lists a non-standard current value as "Every N minutes" and keeps it', async () => {
    const { user } = setupEdit({ schedule_minutes: 90 });
    expect(options('field-schedule_minutes')).toEqual([
      ...STANDARD.slice(0, 3),
      ['90', 'Every 90 minutes'],
      ...STANDARD.slice(3),
    ]);
    expect(screen.getByTestId('field-schedule_minutes')).toHaveValue('90');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).not.toHaveProperty('schedule_minutes');

    await user.selectOptions(screen.getByTestId('field-schedule_minutes'), 'Every hour');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({ schedule_minutes: 60 });
  });
});

describe('IntegrationDialog: filters', () => {
  const NONE = { priority: [], category: [], state: [], updated_from: null, updated_to: null, raw_query: null };
  const HINT =
    'Only incidents matching every filter are synced. Changing filters applies from the next sync; run a full reconcile to remove incidents that no longer match.';

  function setupEdit(over: Partial<Integration> = {}) {
    const integration = makeIntegration(over);
    render(IntegrationDialog, {
      props: { integration, secretStoreLabel: 'OS keyring', onclose: vi.fn(), onsaved: vi.fn() },
    });
    vi.mocked(api.integrationEdit).mockResolvedValue(integration);
    return { integration, user: userEvent.setup() };
  }
  const lastPatch = () => vi.mocked(api.integrationEdit).mock.calls.at(-1)?.[1];

  async function fillAdd(user: ReturnType<typeof userEvent.setup>) {
    await user.type(screen.getByTestId('field-name'), 'Prod');
    await user.type(screen.getByTestId('field-url'), 'https://acme.service-now.com');
    await user.type(screen.getByTestId('field-username'), 'svc');
    await user.type(screen.getByTestId('field-password'), 'pw');
  }

  it('is collapsed by default and shows per-kind labels and placeholders', async () => {
    const { user } = setup();
    const toggle = screen.getByTestId('filters-toggle');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(toggle).toHaveTextContent('Filters (optional)');
    expect(screen.queryByTestId('field-filters-priority')).not.toBeInTheDocument();
    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByTestId('filters-section')).toHaveAccessibleDescription(HINT);
    expect(screen.getByTestId('field-filters-priority')).toHaveAttribute('placeholder', '1 - Critical, 2 - High');
    expect(screen.getByLabelText('Category')).toBe(screen.getByTestId('field-filters-category'));
    expect(screen.getByLabelText('Encoded query')).toHaveAttribute(
      'placeholder',
      'assignment_group.name=Service Desk^active=true',
    );
    expect(screen.getByTestId('field-filters-updated_from')).toHaveAttribute('type', 'date');
    expect(screen.getByTestId('field-filters-raw_query').tagName).toBe('TEXTAREA');
    await user.selectOptions(screen.getByTestId('field-kind'), 'jira');
    expect(screen.getByTestId('field-filters-priority')).toHaveAttribute('placeholder', 'Highest, High');
    expect(screen.getByLabelText('Project')).toHaveAttribute('placeholder', 'OPS, SUP');
    expect(screen.getByLabelText('JQL')).toHaveAttribute('placeholder', 'labels = vpn');
  });

  it('add: sends the parsed filters', async () => {
    const { user } = setup();
    vi.mocked(api.integrationAdd).mockResolvedValue(makeIntegration());
    await fillAdd(user);
    await user.click(screen.getByTestId('filters-toggle'));
    await user.type(screen.getByTestId('field-filters-priority'), ' 1 - Critical , ,2 - High,');
    await user.type(screen.getByTestId('field-filters-state'), 'Closed');
    await fireEvent.input(screen.getByTestId('field-filters-updated_from'), { target: { value: '2026-01-01' } });
    await user.type(screen.getByTestId('field-filters-raw_query'), '  active=true ');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationAdd).toHaveBeenLastCalledWith(
      expect.objectContaining({
        filters: {
          priority: ['1 - Critical', '2 - High'],
          category: [],
          state: ['Closed'],
          updated_from: '2026-01-01',
          updated_to: null,
          raw_query: 'active=true',
        },
      }),
    );
  });

  it('edit: opens when filters are set, omits them when untouched', async () => {
    const { user } = setupEdit({ filters: { ...NONE, priority: ['1 - Critical', '2 - High'], updated_to: '2026-03-31' } });
    expect(screen.getByTestId('filters-toggle')).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByTestId('field-filters-priority')).toHaveValue('1 - Critical, 2 - High');
    expect(screen.getByTestId('field-filters-updated_to')).toHaveValue('2026-03-31');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).toHaveBeenCalledTimes(1);
    expect(lastPatch()).not.toHaveProperty('filters');
  });

  it('edit: changing one filter sends the whole object', async () => {
    const { user } = setupEdit({ filters: { ...NONE, category: ['Network'], raw_query: 'active=true' } });
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).not.toHaveProperty('filters');
    await user.clear(screen.getByTestId('field-filters-raw_query'));
    await user.type(screen.getByTestId('field-filters-state'), 'Resolved, Closed');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({
      filters: { ...NONE, category: ['Network'], state: ['Resolved', 'Closed'], raw_query: null },
    });
  });

  it('edit: an integration without filters starts collapsed', () => {
    setupEdit();
    expect(screen.getByTestId('filters-toggle')).toHaveAttribute('aria-expanded', 'false');
  });

  it('shows a server error for filters.raw_query under the input, opening the section', async () => {
    const { user } = setup();
    vi.mocked(api.integrationAdd).mockRejectedValue({
      code: 'validation',
      message: 'Invalid',
      fields: { 'filters.raw_query': 'Keep the query under 2,000 characters.' },
    });
    await fillAdd(user);
    await user.click(screen.getByTestId('filters-toggle'));
    await user.type(screen.getByTestId('field-filters-raw_query'), 'active=true');
    await user.click(screen.getByTestId('filters-toggle'));
    expect(screen.queryByTestId('field-filters-raw_query')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('dialog-save'));
    expect(await screen.findByTestId('error-filters.raw_query')).toHaveTextContent('Keep the query under 2,000 characters.');
    const input = screen.getByTestId('field-filters-raw_query');
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveAccessibleDescription('Keep the query under 2,000 characters.');
    await waitFor(() => expect(input).toHaveFocus());
    expect(screen.queryByTestId('dialog-error')).not.toBeInTheDocument();
    await user.type(input, ' ');
    expect(screen.queryByTestId('error-filters.raw_query')).not.toBeInTheDocument();
  });
});

describe('IntegrationDialog: modal behaviour', () => {
  it('focuses the first field, traps Tab and closes on Esc', async () => {
    const { user, onclose } = setup();
    const name = screen.getByTestId('field-name');
    expect(name).toHaveFocus();
    await user.tab({ shift: true });
    expect(screen.getByTestId('dialog-save')).toHaveFocus();
    await user.tab();
    expect(name).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(onclose).toHaveBeenCalledTimes(1);
  });

  it('Cancel closes without saving', async () => {
    const { user, onclose } = setup();
    await user.click(screen.getByTestId('dialog-cancel'));
    expect(onclose).toHaveBeenCalledTimes(1);
    expect(api.integrationAdd).not.toHaveBeenCalled();
  });
});

describe('IntegrationDialog: a URL on another host', () => {
  function setupEdit(over: Partial<Integration> = {}) {
    const integration = makeIntegration(over);
    render(IntegrationDialog, {
      props: { integration, secretStoreLabel: 'OS keyring', onclose: vi.fn(), onsaved: vi.fn() },
    });
    vi.mocked(api.integrationEdit).mockResolvedValue(integration);
    return { integration, user: userEvent.setup() };
  }
  const lastPatch = () => vi.mocked(api.integrationEdit).mock.calls.at(-1)?.[1];
  const dialog = () => screen.getByTestId('integration-dialog');

  async function setUrl(user: ReturnType<typeof userEvent.setup>, url: string) {
    await user.clear(screen.getByTestId('field-url'));
    await user.type(screen.getByTestId('field-url'), url);
  }

  it('asks for the password again and refuses to save without it', async () => {
    const { user } = setupEdit();
    expect(screen.getByTestId('field-password')).toHaveAttribute('placeholder', '•••••••• (stored)');
    await setUrl(user, 'https://other.service-now.com');
    // The stored password no longer counts: no "(stored)" placeholder, a hint to enter it again.
    expect(screen.getByTestId('field-password')).toHaveAttribute('placeholder', '');
    expect(dialog()).toHaveTextContent('Another host: enter the credentials again below.');
    expect(dialog()).toHaveTextContent('Enter it again for the new host.');
    expect(dialog()).not.toHaveTextContent('Leave empty to keep the stored value.');

    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).not.toHaveBeenCalled();
    expect(screen.getByTestId('error-url')).toHaveTextContent('enter the credentials again');
    expect(screen.getByTestId('field-url')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('error-password')).toHaveTextContent('Enter the password again for the new host.');

    await user.type(screen.getByTestId('field-password'), 'new-host-password');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({ url: 'https://other.service-now.com', password: 'new-host-password' });
  });

  it('keeps the stored password for a path or letter-case change', async () => {
    const { user } = setupEdit();
    await setUrl(user, 'https://ACME.service-now.com/now');
    expect(dialog()).toHaveTextContent('Leave empty to keep the stored value.');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({ url: 'https://ACME.service-now.com/now', password: null });
  });

  it('needs both OAuth secrets again, and a new port counts as another host', async () => {
    const { user } = setupEdit({
      auth: 'oauth2',
      client_id: 'client',
      secrets: { password: true, token: false, client_secret: true },
    });
    await setUrl(user, 'https://acme.service-now.com:8443');
    await user.type(screen.getByTestId('field-password'), 'pw');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).not.toHaveBeenCalled();
    expect(screen.getByTestId('error-client_secret')).toHaveTextContent('again for the new host');
    expect(screen.queryByTestId('error-password')).not.toBeInTheDocument();
  });

  it("shows the core's refusal next to the URL and the password", async () => {
    const { user } = setupEdit();
    vi.mocked(api.integrationEdit).mockRejectedValueOnce({
      code: 'validation',
      message: 'The URL now points at another host (https://other.service-now.com): enter the credentials again for it (password).',
      fields: {
        url: 'The URL now points at another host (https://other.service-now.com): enter the credentials again for it (password).',
        password: 'Enter the password again for the new host.',
      },
    });
    // The client check passes (a password is typed); what the core answers is what is shown.
    await setUrl(user, 'https://other.service-now.com');
    await user.type(screen.getByTestId('field-password'), 'x');
    await user.click(screen.getByTestId('dialog-save'));
    expect(await screen.findByTestId('error-url')).toHaveTextContent('https://other.service-now.com');
    expect(screen.getByTestId('error-password')).toHaveTextContent('again for the new host');
    expect(screen.queryByTestId('dialog-error')).not.toBeInTheDocument();
  });

  it('asks to confirm plain http:// on another machine, but not on this one', async () => {
    const { user } = setupEdit();
    await setUrl(user, 'http://127.0.0.1:8080');
    expect(screen.queryByTestId('field-allow_insecure_http')).not.toBeInTheDocument();

    await setUrl(user, 'http://itsm.example.com');
    await user.type(screen.getByTestId('field-password'), 'pw');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).not.toHaveBeenCalled();
    expect(screen.getByTestId('error-url')).toHaveTextContent('unencrypted');
    await user.click(screen.getByTestId('field-allow_insecure_http'));
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({ url: 'http://itsm.example.com', allow_insecure_http: true });
  });
});
