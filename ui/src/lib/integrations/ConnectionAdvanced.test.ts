import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import IntegrationDialog from './IntegrationDialog.svelte';
import * as api from '$lib/ipc/api';
import type { Integration } from '$lib/ipc/types';
import { loginAs, makeIntegration } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

// The "Advanced connection" section of the add/edit dialog: request budget and CA certificates.

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUA\n-----END CERTIFICATE-----\n';
const pemFile = (text: string, name = 'corp-ca.pem') => new File([text], name, { type: 'application/x-pem-file' });

type User = ReturnType<typeof userEvent.setup>;

function setupAdd() {
  render(IntegrationDialog, { props: { secretStoreLabel: 'OS keyring', onclose: vi.fn(), onsaved: vi.fn() } });
  vi.mocked(api.integrationAdd).mockResolvedValue(makeIntegration());
  return { user: userEvent.setup() };
}

function setupEdit(over: Partial<Integration> = {}) {
  const integration = makeIntegration(over);
  render(IntegrationDialog, { props: { integration, secretStoreLabel: 'OS keyring', onclose: vi.fn(), onsaved: vi.fn() } });
  vi.mocked(api.integrationEdit).mockResolvedValue(integration);
  return { integration, user: userEvent.setup() };
}

async function fillAdd(user: User) {
  await user.type(screen.getByTestId('field-name'), 'Prod');
  await user.type(screen.getByTestId('field-url'), 'https://acme.service-now.com');
  await user.type(screen.getByTestId('field-username'), 'svc');
  await user.type(screen.getByTestId('field-password'), 'pw');
}

const lastAdd = () => vi.mocked(api.integrationAdd).mock.calls.at(-1)?.[0];
const lastPatch = () => vi.mocked(api.integrationEdit).mock.calls.at(-1)?.[1];

beforeEach(() => {
  loginAs('admin');
});

describe('IntegrationDialog: advanced connection', () => {
  it('is collapsed by default and explains both inputs', async () => {
    const { user } = setupAdd();
    const toggle = screen.getByTestId('advanced-toggle');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(toggle).toHaveTextContent('Advanced connection (optional)');
    expect(screen.queryByTestId('field-request_budget')).not.toBeInTheDocument();
    await user.click(toggle);
    const budget = screen.getByLabelText('Request budget (requests per hour)');
    expect(budget).toHaveAttribute('type', 'number');
    expect(budget).toHaveValue(null);
    expect(budget).toHaveAccessibleDescription(/a sync then waits instead of failing/);
    const file = screen.getByLabelText('CA certificates');
    expect(file).toHaveAttribute('type', 'file');
    expect(file).toHaveAttribute('accept', '.pem,.crt,.cer');
    expect(file).toHaveAccessibleDescription(/TLS-inspecting proxy/);
    expect(file).toHaveAccessibleDescription(/trust store is used as well/);
    expect(screen.queryByTestId('ca-status')).not.toBeInTheDocument();
  });

  it('add: sends the budget and the certificates read from the file', async () => {
    const { user } = setupAdd();
    await fillAdd(user);
    await user.click(screen.getByTestId('advanced-toggle'));
    await user.type(screen.getByTestId('field-request_budget'), '500');
    await user.upload(screen.getByTestId('field-ca_certificates'), pemFile(CERT + CERT));
    expect(await screen.findByTestId('ca-status')).toHaveTextContent('2 certificates loaded from corp-ca.pem');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastAdd()).toMatchObject({ request_budget: 500, ca_certificates: (CERT + CERT).trim() });
  });

  it('refuses a file that is not PEM at once, and until it is removed', async () => {
    const { user } = setupAdd();
    await fillAdd(user);
    await user.click(screen.getByTestId('advanced-toggle'));
    await user.upload(screen.getByTestId('field-ca_certificates'), pemFile('\u0030\u0082binary DER', 'corp-ca.cer'));
    const error = await screen.findByTestId('error-ca_certificates');
    expect(error).toHaveTextContent('This is not a PEM certificate file');
    expect(screen.getByTestId('field-ca_certificates')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('ca-status')).toHaveTextContent(/^corp-ca\.cer\s*Remove$/);
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationAdd).not.toHaveBeenCalled();
    expect(screen.getByTestId('error-ca_certificates')).toBeInTheDocument();

    await user.click(screen.getByTestId('ca-remove'));
    expect(screen.queryByTestId('error-ca_certificates')).not.toBeInTheDocument();
    expect(screen.queryByTestId('ca-status')).not.toBeInTheDocument();
    expect(screen.getByTestId('field-ca_certificates')).toHaveFocus();
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastAdd()).toMatchObject({ ca_certificates: null });
  });

  it('refuses a file larger than 1 MB', async () => {
    const { user } = setupAdd();
    await fillAdd(user);
    await user.click(screen.getByTestId('advanced-toggle'));
    await user.upload(screen.getByTestId('field-ca_certificates'), pemFile(CERT + '#'.repeat(1024 * 1024), 'bundle.pem'));
    expect(await screen.findByTestId('error-ca_certificates')).toHaveTextContent('This file is larger than 1 MB');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationAdd).not.toHaveBeenCalled();
  });

  it('checks the budget bounds, opening the section to show the error', async () => {
    const { user } = setupAdd();
    await fillAdd(user);
    await user.click(screen.getByTestId('advanced-toggle'));
    await user.type(screen.getByTestId('field-request_budget'), '5');
    await user.click(screen.getByTestId('advanced-toggle'));
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationAdd).not.toHaveBeenCalled();
    expect(screen.getByTestId('advanced-toggle')).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByTestId('error-request_budget')).toHaveTextContent('from 10 to 1,000,000 requests per hour');
    await waitFor(() => expect(screen.getByTestId('field-request_budget')).toHaveFocus());
    await user.type(screen.getByTestId('field-request_budget'), '00');
    expect(screen.queryByTestId('error-request_budget')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastAdd()).toMatchObject({ request_budget: 500 });
  });

  it("shows the core's refusal of the certificates under the file input", async () => {
    const { user } = setupAdd();
    vi.mocked(api.integrationAdd).mockRejectedValueOnce({
      code: 'validation',
      message: 'Invalid',
      fields: { ca_certificates: 'A certificate in this file is damaged: export the CA certificate again as PEM.' },
    });
    await fillAdd(user);
    await user.click(screen.getByTestId('advanced-toggle'));
    await user.upload(screen.getByTestId('field-ca_certificates'), pemFile(CERT));
    await screen.findByTestId('ca-status');
    await user.click(screen.getByTestId('advanced-toggle'));
    await user.click(screen.getByTestId('dialog-save'));
    expect(await screen.findByTestId('error-ca_certificates')).toHaveTextContent('is damaged');
    expect(screen.queryByTestId('dialog-error')).not.toBeInTheDocument();
  });

  it('edit: opens with the stored values and leaves them out of the patch when untouched', async () => {
    const { user } = setupEdit({ request_budget: 500, ca_certificates: CERT.trim() });
    expect(screen.getByTestId('advanced-toggle')).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByTestId('field-request_budget')).toHaveValue(500);
    expect(screen.getByTestId('ca-status')).toHaveTextContent('Custom CA certificates set (1 certificate)');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).not.toHaveProperty('request_budget');
    expect(lastPatch()).not.toHaveProperty('ca_certificates');
  });

  it('edit: sends 0 and "" to remove them, the new values to replace them', async () => {
    const { user } = setupEdit({ request_budget: 500, ca_certificates: CERT.trim() });
    await user.clear(screen.getByTestId('field-request_budget'));
    await user.click(screen.getByTestId('ca-remove'));
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({ request_budget: 0, ca_certificates: '' });

    await user.type(screen.getByTestId('field-request_budget'), '800');
    await user.upload(screen.getByTestId('field-ca_certificates'), pemFile(CERT + CERT, 'proxy.crt'));
    expect(await screen.findByTestId('ca-status')).toHaveTextContent('2 certificates loaded from proxy.crt');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).toMatchObject({ request_budget: 800, ca_certificates: (CERT + CERT).trim() });

    // The stored file picked again is no change.
    await user.upload(screen.getByTestId('field-ca_certificates'), pemFile(CERT, 'proxy.crt'));
    expect(await screen.findByTestId('ca-status')).toHaveTextContent('1 certificate loaded from proxy.crt');
    await user.click(screen.getByTestId('dialog-save'));
    expect(lastPatch()).not.toHaveProperty('ca_certificates');
  });

  it('edit: an integration without them starts collapsed', () => {
    setupEdit();
    expect(screen.getByTestId('advanced-toggle')).toHaveAttribute('aria-expanded', 'false');
  });
});
