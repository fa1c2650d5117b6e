import { beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/svelte';
import { renderCard, resetCardState } from '../../test/integrationCard';

vi.mock('$lib/ipc/api');

// The connection settings in the expanded card: auth details, request budget, CA certificates.

beforeEach(resetCardState);

describe('IntegrationCard: connection settings', () => {
  it('client credentials: shows the client ID and secret, and no username or password', async () => {
    const { user, card } = renderCard({
      auth: 'oauth2_client_credentials',
      username: null,
      client_id: 'app-42',
      secrets: { password: false, token: false, client_secret: true },
    });
    expect(card).toHaveTextContent('OAuth 2.0 client credentials');
    await user.click(screen.getByTestId('card-header'));
    const details = screen.getByTestId('card-details');
    expect(details).toHaveTextContent('app-42');
    expect(details.querySelector('[data-secret="client_secret"]')).toHaveTextContent(/^••••••••$/);
    expect(details.querySelector('[data-secret="password"]')).toBeNull();
    expect(within(details).queryByText('Username')).not.toBeInTheDocument();
  });

  it('shows the request budget and custom CA certificates when set, and no rows otherwise', async () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const { user, unmount } = renderCard({ request_budget: 1500, ca_certificates: `${cert}\n${cert}` });
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-budget')).toHaveTextContent(/^1,500 per hour$/);
    expect(screen.getByTestId('card-ca')).toHaveTextContent('Custom CA certificates (2 certificates, besides the OS trust store)');
    unmount();
    const second = renderCard();
    await second.user.click(screen.getByTestId('card-header'));
    expect(screen.queryByTestId('card-budget')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-ca')).not.toBeInTheDocument();
  });

  it('shows the username of the other auth types', async () => {
    const { user } = renderCard({ auth: 'oauth2', client_id: 'cid', secrets: { password: true, token: false, client_secret: true } });
    await user.click(screen.getByTestId('card-header'));
    const details = screen.getByTestId('card-details');
    expect(within(details).getByText('Username')).toBeInTheDocument();
    expect(details).toHaveTextContent('svc_bot');
    expect(details.querySelector('[data-secret="password"]')).toHaveTextContent(/^••••••••$/);
  });
});
