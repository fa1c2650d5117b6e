import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import IntegrationsPage from './IntegrationsPage.svelte';
import * as api from '$lib/ipc/api';
import { loginAs, makeIntegration, makeReport } from '../../test/fixtures';
import { syncs } from '$lib/state/syncs.svelte';

vi.mock('$lib/ipc/api');

beforeEach(() => {
  loginAs('admin');
  syncs.reset();
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

  it('reloads the list after a sync without unmounting the card, so the result stays', async () => {
    const user = userEvent.setup();
    vi.mocked(api.integrationsList).mockResolvedValueOnce([makeIntegration()]);
    vi.mocked(api.integrationSync).mockResolvedValue(makeReport());
    render(IntegrationsPage);
    await user.click(await screen.findByTestId('card-header'));
    vi.mocked(api.integrationsList).mockResolvedValueOnce([
      makeIntegration({
        status: 'success',
        last_sync: '2025-03-04T05:06:07Z',
        last_summary: { added: 120, updated: 30, deleted: 4, skipped: 0, total: 1234, version: 7 },
      }),
    ]);
    await user.click(screen.getByTestId('card-sync'));
    expect(await screen.findByTestId('card-incidents')).toHaveTextContent('1,234 incidents');
    expect(api.integrationsList).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('card-status')).toHaveAttribute('data-status', 'success');
    expect(screen.getByTestId('sync-result')).toHaveTextContent('Synced: 120 added, 30 updated, 4 deleted');
    // Still expanded: the card was updated in place, not re-created.
    expect(screen.getByTestId('card-details')).toBeInTheDocument();
  });

  it('keeps the cards when the reload after a sync fails', async () => {
    const user = userEvent.setup();
    vi.mocked(api.integrationsList).mockResolvedValueOnce([makeIntegration()]);
    vi.mocked(api.integrationSync).mockResolvedValue(makeReport());
    render(IntegrationsPage);
    await user.click(await screen.findByTestId('card-header'));
    vi.mocked(api.integrationsList).mockRejectedValueOnce({ code: 'storage', message: 'Database is locked' });
    await user.click(screen.getByTestId('card-sync'));
    expect(await screen.findByTestId('refresh-error')).toHaveTextContent('Could not reload integrations: Database is locked');
    expect(screen.getByTestId('sync-result')).toBeInTheDocument();
  });
});
