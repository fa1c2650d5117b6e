import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import SyncProgressPanel from './SyncProgressPanel.svelte';
import type { SyncWait } from '$lib/ipc/types';
import { makeProgress } from '../../test/fixtures';

const rateLimit = (seconds: number): SyncWait => ({
  reason: 'rate_limit',
  seconds,
  label: `waiting for rate limit (${seconds} s)`,
});

describe('SyncProgressPanel: waiting', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows the wait as the phase, counts its seconds down and keeps the bar where it was', async () => {
    const fetching = makeProgress({ phase: 'fetching', batch: 3, total_batches: 12 });
    const { rerender } = render(SyncProgressPanel, { props: { progress: fetching } });
    const bar = screen.getByTestId('sync-progress');
    expect(bar).toHaveAttribute('aria-valuenow', '3');
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Fetching incidents…');

    // The core sends the wait once, with the counts of the event before it.
    await rerender({ progress: { ...fetching, phase: 'waiting', wait: rateLimit(12) } });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Waiting for rate limit (12 s)');
    expect(bar).toHaveAttribute('data-phase', 'waiting');
    expect(bar).toHaveAttribute('aria-valuenow', '3');
    expect(bar).toHaveAttribute('aria-valuetext', 'Waiting for rate limit (12 s), Batch 3 of 12');

    await vi.advanceTimersByTimeAsync(3000);
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Waiting for rate limit (9 s)');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Waiting for rate limit (0 s)');
    expect(vi.getTimerCount()).toBe(0);

    // A new wait starts from the core's value again; the next event ends the wait and its timer.
    const budget: SyncWait = { reason: 'request_budget', seconds: 90, label: 'waiting for rate limit: request budget of the hour spent (90 s)' };
    await rerender({ progress: { ...fetching, phase: 'waiting', wait: budget } });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Waiting for rate limit: request budget of the hour spent (1 min 30 s)');
    await vi.advanceTimersByTimeAsync(1000);
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('(1 min 29 s)');
    await rerender({ progress: { ...fetching, batch: 4 } });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Fetching incidents…');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops counting when it is removed, and says Cancelling… over a wait', async () => {
    const waiting = makeProgress({ phase: 'waiting', wait: rateLimit(30) });
    const { rerender, unmount } = render(SyncProgressPanel, { props: { progress: waiting, compact: true } });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Waiting for rate limit (30 s)');
    await rerender({ progress: waiting, cancelling: true });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Cancelling…');
    expect(vi.getTimerCount()).toBe(1);
    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('says Waiting… for a waiting event without its wait', () => {
    render(SyncProgressPanel, { props: { progress: makeProgress({ phase: 'waiting', wait: null }) } });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Waiting…');
  });
});
