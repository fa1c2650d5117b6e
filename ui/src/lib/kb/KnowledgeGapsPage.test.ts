import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '$lib/ipc/api';
import { loginAs } from '../../test/fixtures';
import KnowledgeGapsPage from './KnowledgeGapsPage.svelte';

vi.mock('$lib/ipc/api');

const gaps = [
  { question: 'What is on the canteen menu today?', reason: 'declined' as const, count: 3, last_asked: '2026-12-03T09:12:00Z', examples: ['canteen menu'], cited: [] },
  { question: 'printer says offline', reason: 'unhelpful' as const, count: 1, last_asked: '2026-12-01T11:05:00Z', examples: [], cited: ['INC0010014'] },
];
const stats = { sessions: 9, answered: 14, declined: 5, helpful: 6, unhelpful: 1, handed_off: 2, deflection_rate: 6 / 19 };

beforeEach(() => {
  loginAs('viewer');
  vi.mocked(api.kbGaps).mockResolvedValue(gaps);
  vi.mocked(api.chatStats).mockResolvedValue(stats);
});

describe('KnowledgeGapsPage', () => {
  it('lists what the bot could not answer with why, how often and when, and the chat figures', async () => {
    render(KnowledgeGapsPage);
    const items = await screen.findAllByTestId('gap');
    expect(items).toHaveLength(2);
    expect(within(items[0]).getByTestId('gap-question')).toHaveTextContent('What is on the canteen menu today?');
    expect(items[0]).toHaveTextContent('Bot declined');
    expect(within(items[0]).getByTestId('gap-count')).toHaveTextContent('3×');
    expect(items[0]).toHaveTextContent('Also asked as: “canteen menu”');
    expect(items[1]).toHaveTextContent('Rated unhelpful');
    expect(items[1]).toHaveTextContent('the bot cited INC0010014');
    expect(screen.getByTestId('stat-declined')).toHaveTextContent('5');
    expect(screen.getByTestId('stat-handed-off')).toHaveTextContent('2');
    // Deflection only from explicit "helpful" ratings: 6 of 19 questions.
    expect(screen.getByTestId('stat-deflection')).toHaveTextContent('32%');
  });

  it('says what to do when there are no gaps, and refreshes', async () => {
    const user = userEvent.setup();
    vi.mocked(api.kbGaps).mockResolvedValue([]);
    render(KnowledgeGapsPage);
    expect(await screen.findByTestId('gaps-empty')).toHaveTextContent('No knowledge gaps yet.');
    vi.mocked(api.kbGaps).mockResolvedValue(gaps);
    await user.click(screen.getByTestId('gaps-refresh'));
    expect(await screen.findAllByTestId('gap')).toHaveLength(2);
  });

  it('shows a load error next to a retry', async () => {
    vi.mocked(api.kbGaps).mockRejectedValue({ code: 'internal', message: 'database is locked' });
    render(KnowledgeGapsPage);
    expect(await screen.findByTestId('banner-error')).toHaveTextContent('database is locked');
  });
});
