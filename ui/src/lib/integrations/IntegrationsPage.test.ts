import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import IntegrationsPage from './IntegrationsPage.svelte';
import * as api from '$lib/ipc/api';
import { loginAs, makeIntegration } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

beforeEach(() => {
  loginAs('admin');
});

describe('IntegrationsPage', () => {
  it('shows the empty state that says what to do', async () => {
    vi.mocked(api.integrationsList).mockResolvedValue([]);
    render(IntegrationsPage);
    const empty = await screen.findByTestId('empty-state');
    expect(empty).toHaveTextContent('No integrations yet. Add one to start syncing incidents from ServiceNow or Jira.');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Integrations');
    expect(screen.getByTestId('add-integration')).toHaveTextContent('Add integration');
  });

  it('renders one card per integration', async () => {
    vi.mocked(api.integrationsList).mockResolvedValue([
      makeIntegration({ id: 1, name: 'SN Prod' }),
      makeIntegration({ id: 2, name: 'Jira Cloud', kind: 'jira', auth: 'token', status: 'error' }),
    ]);
    render(IntegrationsPage);
    const cards = await screen.findAllByTestId('integration-card');
    expect(cards.map((c) => c.dataset.name)).toEqual(['SN Prod', 'Jira Cloud']);
    expect(within(cards[1]).getByTestId('card-status')).toHaveAttribute('data-status', 'error');
    expect(screen.queryByTestId('empty-state')).not.toBeInTheDocument();
  });

  it('adds an integration through the dialog and shows its card', async () => {
    const user = userEvent.setup();
    vi.mocked(api.integrationsList).mockResolvedValue([]);
    vi.mocked(api.integrationAdd).mockResolvedValue(makeIntegration({ id: 9, name: 'New SN' }));
    render(IntegrationsPage);
    await screen.findByTestId('empty-state');
    await user.click(screen.getByTestId('add-integration'));
    await user.type(screen.getByTestId('field-name'), 'New SN');
    await user.type(screen.getByTestId('field-url'), 'https://new.service-now.com');
    await user.type(screen.getByTestId('field-username'), 'svc');
    await user.type(screen.getByTestId('field-password'), 'pw');
    await user.click(screen.getByTestId('dialog-save'));
    const card = await screen.findByTestId('integration-card');
    expect(card).toHaveAttribute('data-name', 'New SN');
    expect(screen.queryByTestId('integration-dialog')).not.toBeInTheDocument();
    expect(screen.getByTestId('add-integration')).toHaveFocus();
  });

  it('shows a page-level banner when loading fails', async () => {
    vi.mocked(api.integrationsList).mockRejectedValue({ code: 'storage', message: 'Database is locked' });
    render(IntegrationsPage);
    expect(await screen.findByTestId('banner-error')).toHaveTextContent('Could not load integrations: Database is locked');
  });

  it('viewer sees no Add button and a read-only note', async () => {
    loginAs('viewer', 'Val');
    vi.mocked(api.integrationsList).mockResolvedValue([makeIntegration()]);
    render(IntegrationsPage);
    await screen.findByTestId('integration-card');
    expect(screen.queryByTestId('add-integration')).not.toBeInTheDocument();
    expect(screen.getByText(/Your profile \(Viewer\) can view integrations but not add, edit or delete them\./)).toBeInTheDocument();
    expect(screen.getByTestId('card-enabled')).toBeDisabled();
  });

  it('operator sees no Add button either', async () => {
    loginAs('operator');
    vi.mocked(api.integrationsList).mockResolvedValue([]);
    render(IntegrationsPage);
    await screen.findByTestId('empty-state');
    expect(screen.queryByTestId('add-integration')).not.toBeInTheDocument();
  });
});
