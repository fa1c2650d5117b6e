import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import IntegrationDialog from './IntegrationDialog.svelte';
import * as api from '$lib/ipc/api';
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
