// Shared setup of the IntegrationCard tests (the test file mocks `$lib/ipc/api`).
import { vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import userEvent from '@testing-library/user-event';
import IntegrationCard from '$lib/integrations/IntegrationCard.svelte';
import * as api from '$lib/ipc/api';
import type { Integration, SyncProgress, SyncReport } from '$lib/ipc/types';
import { syncs } from '$lib/state/syncs.svelte';
import { loginAs, makeIntegration, makeProgress, makeReport } from './fixtures';

/** For `beforeEach`: signed in as an admin, no sync in flight or remembered. */
export function resetCardState() {
  loginAs('admin');
  syncs.reset();
}

/** Renders one card for `makeIntegration(over)`, with spy callbacks and a user-event session. */
export function renderCard(over: Partial<Integration> = {}) {
  const integration = makeIntegration(over);
  const onupdated = vi.fn();
  const onremoved = vi.fn();
  const onsynced = vi.fn();
  const utils = render(IntegrationCard, { props: { integration, onupdated, onremoved, onsynced } });
  const card = screen.getByTestId('integration-card');
  return { ...utils, integration, card, onupdated, onremoved, onsynced, user: userEvent.setup() };
}

/** Makes integrationSync hang until `finish`, handing out its progress callback. */
export function controlSync() {
  let onProgress: ((p: SyncProgress) => void) | undefined;
  let resolve: ((r: SyncReport) => void) | undefined;
  vi.mocked(api.integrationSync).mockImplementation((_id, _full, cb) => {
    onProgress = cb;
    return new Promise<SyncReport>((r) => (resolve = r));
  });
  return {
    async progress(over: Partial<SyncProgress> = {}) {
      onProgress?.(makeProgress(over));
      await tick();
    },
    async finish(over: Partial<SyncReport> = {}) {
      resolve?.(makeReport(over));
      await screen.findByTestId('sync-result');
    },
  };
}

/** Expands the card if needed, then clicks Sync Now (or the button with `testid`). */
export async function startSync(user: ReturnType<typeof userEvent.setup>, testid = 'card-sync') {
  if (!screen.queryByTestId('card-details')) await user.click(screen.getByTestId('card-header'));
  await user.click(screen.getByTestId(testid));
}
