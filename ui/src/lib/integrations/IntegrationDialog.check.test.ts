import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import IntegrationDialog from './IntegrationDialog.svelte';
import * as api from '$lib/ipc/api';
import type { Integration, IntegrationCheck } from '$lib/ipc/types';
import { loginAs, makeIntegration } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

// "Test connection" inside the add/edit dialog: checks the unsaved values (integration_check_draft).

type User = ReturnType<typeof userEvent.setup>;

function setupAdd() {
  const onsaved = vi.fn();
  render(IntegrationDialog, { props: { secretStoreLabel: 'OS keyring', onclose: vi.fn(), onsaved } });
  return { onsaved, user: userEvent.setup() };
}

function setupEdit(over: Partial<Integration> = {}) {
  const integration = makeIntegration(over);
  render(IntegrationDialog, { props: { integration, secretStoreLabel: 'OS keyring', onclose: vi.fn(), onsaved: vi.fn() } });
  return { integration, user: userEvent.setup() };
}

async function fillAdd(user: User) {
  await user.type(screen.getByTestId('field-name'), 'Prod');
  await user.type(screen.getByTestId('field-url'), 'https://acme.service-now.com');
  await user.type(screen.getByTestId('field-username'), 'svc');
  await user.type(screen.getByTestId('field-password'), 'pw');
}

const PASSED: IntegrationCheck = {
  ok: true,
  steps: [
    { name: 'reach', ok: true, detail: 'https://acme.service-now.com answered (HTTP 401 without credentials).', advice: null },
    { name: 'auth', ok: true, detail: 'Signed in to ServiceNow.', advice: null },
    { name: 'read', ok: true, detail: 'The account can read incidents.', advice: null },
    { name: 'count', ok: true, detail: "500 incidents match this integration's filters.", advice: null },
  ],
  source_total: 500,
};

const AUTH_FAILED: IntegrationCheck = {
  ok: false,
  steps: [
    PASSED.steps[0],
    {
      name: 'auth',
      ok: false,
      detail: 'table incident: HTTP 401: User Not Authenticated',
      advice: 'ServiceNow refused the credentials: invalid username or password, or an expired password.',
    },
    { name: 'read', ok: false, detail: 'Not checked: an earlier step failed.', advice: null },
    { name: 'count', ok: false, detail: 'Not checked: an earlier step failed.', advice: null },
  ],
  source_total: null,
};

beforeEach(() => {
  loginAs('admin');
});

describe('IntegrationDialog: Test connection', () => {
  it('runs the draft check with the typed values and shows the steps, saving nothing', async () => {
    const { user, onsaved } = setupAdd();
    let finish: (c: IntegrationCheck) => void = () => {};
    vi.mocked(api.integrationCheckDraft).mockReturnValue(new Promise((r) => (finish = r)));
    await fillAdd(user);
    const button = screen.getByTestId('dialog-test');
    expect(button).toHaveTextContent('Test connection');
    await user.click(button);
    expect(button).toBeDisabled();
    expect(button).toHaveTextContent('Testing…');
    expect(api.integrationCheckDraft).toHaveBeenCalledWith(
      {
        name: 'Prod',
        kind: 'servicenow',
        auth: 'basic',
        url: 'https://acme.service-now.com',
        username: 'svc',
        client_id: null,
        password: 'pw',
        token: null,
        client_secret: null,
        enabled: true,
        schedule_minutes: null,
        filters: null,
        request_budget: null,
        ca_certificates: null,
      },
      null,
    );
    finish(PASSED);
    const result = await screen.findByTestId('check-result');
    expect(within(screen.getByTestId('integration-dialog')).getByTestId('check-result')).toBe(result);
    expect(result).toHaveTextContent('Connection OK: the source counts 500 incidents for this integration.');
    expect(within(result).getAllByTestId('check-step').map((s) => s.dataset.step)).toEqual(['reach', 'auth', 'read', 'count']);
    expect(button).toBeEnabled();
    expect(button).toHaveTextContent('Test connection');
    expect(api.integrationAdd).not.toHaveBeenCalled();
    expect(onsaved).not.toHaveBeenCalled();

    // Changing a value marks the result as old.
    expect(screen.queryByTestId('check-stale')).not.toBeInTheDocument();
    await user.type(screen.getByTestId('field-password'), '2');
    expect(screen.getByTestId('check-stale')).toHaveTextContent('test again');
  });

  it("shows a failed step's advice", async () => {
    const { user } = setupAdd();
    vi.mocked(api.integrationCheckDraft).mockResolvedValue(AUTH_FAILED);
    await fillAdd(user);
    await user.click(screen.getByTestId('dialog-test'));
    const result = await screen.findByTestId('check-result');
    expect(result).toHaveTextContent('The connection check failed.');
    const steps = within(result).getAllByTestId('check-step');
    expect(steps.map((s) => s.dataset.ok)).toEqual(['true', 'false', 'false', 'false']);
    expect(within(steps[1]).getByTestId('check-advice')).toHaveTextContent('ServiceNow refused the credentials');
    expect(within(result).getAllByTestId('check-advice')).toHaveLength(1);
  });

  it('checks the form first, as Save does', async () => {
    const { user } = setupAdd();
    await user.click(screen.getByTestId('dialog-test'));
    expect(screen.getByTestId('error-name')).toHaveTextContent('Enter a service name.');
    expect(screen.getByTestId('error-password')).toHaveTextContent('Enter a password.');
    expect(api.integrationCheckDraft).not.toHaveBeenCalled();
  });

  it('shows validation errors of the command next to their inputs', async () => {
    const { user } = setupAdd();
    vi.mocked(api.integrationCheckDraft).mockRejectedValue({
      code: 'validation',
      message: 'Invalid',
      fields: {
        url: 'Use the instance address, e.g. https://company.service-now.com.',
        request_budget: 'Choose a budget from 10 to 1000000 requests per hour, or none.',
      },
    });
    await fillAdd(user);
    await user.click(screen.getByTestId('dialog-test'));
    expect(await screen.findByTestId('error-url')).toHaveTextContent('Use the instance address');
    // The budget's error opens its section.
    expect(screen.getByTestId('error-request_budget')).toHaveTextContent('from 10 to 1000000');
    expect(screen.getByTestId('advanced-toggle')).toHaveAttribute('aria-expanded', 'true');
    expect(screen.queryByTestId('check-result')).not.toBeInTheDocument();
    expect(screen.queryByTestId('dialog-error')).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('field-url')).toHaveFocus());
  });

  it('shows other refusals inside the dialog', async () => {
    const { user } = setupAdd();
    vi.mocked(api.integrationCheckDraft).mockRejectedValue({ code: 'permission_denied', message: 'Profile "Bob" is not allowed to do this.' });
    await fillAdd(user);
    await user.click(screen.getByTestId('dialog-test'));
    expect(await screen.findByTestId('dialog-error')).toHaveTextContent('is not allowed to do this');
  });

  it('edit: sends the whole form with the id, empty secrets as null for the stored ones', async () => {
    const { user } = setupEdit({ url: 'http://itsm.example.com', request_budget: 500 });
    vi.mocked(api.integrationCheckDraft).mockResolvedValue(PASSED);
    await user.click(screen.getByTestId('dialog-test'));
    await screen.findByTestId('check-result');
    expect(api.integrationCheckDraft).toHaveBeenLastCalledWith(
      expect.objectContaining({
        name: 'ServiceNow Production',
        url: 'http://itsm.example.com',
        username: 'svc_bot',
        password: null,
        request_budget: 500,
        // Saved with this http:// URL before: accepted then.
        allow_insecure_http: true,
      }),
      7,
    );
    await user.type(screen.getByTestId('field-password'), 'typed');
    await user.click(screen.getByTestId('dialog-test'));
    await waitFor(() => expect(api.integrationCheckDraft).toHaveBeenCalledTimes(2));
    expect(api.integrationCheckDraft).toHaveBeenLastCalledWith(expect.objectContaining({ password: 'typed' }), 7);
  });
});
