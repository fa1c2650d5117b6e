import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import SearchPage from './SearchPage.svelte';
import * as api from '$lib/ipc/api';
import type { KbStats, SearchHit } from '$lib/ipc/types';
import { loginAs } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

const stats = (incidents: number): KbStats => ({ incidents, vectors: incidents, versions: 1, by_integration: [], duplicates: 0, orphans: 0 });

const hit = (over: Partial<SearchHit> = {}): SearchHit => ({
  incident_id: 1,
  number: 'INC0010001',
  short_description: 'VPN disconnects every few minutes',
  integration: 'Demo ServiceNow',
  integration_id: 1,
  priority: '2 - High',
  category: 'Network',
  state: 'Resolved',
  opened_at: '2026-10-01T08:00:00Z',
  resolved_at: '2026-10-02T08:00:00Z',
  link: 'https://acme.service-now.com/incident.do?sys_id=1',
  close_code: 'Solved (Permanently)',
  score: 0.0328,
  bm25_rank: 1,
  vector_rank: 2,
  similarity: 0.71,
  relevance: 0.82,
  snippet_source: 'resolution',
  snippet: [
    { text: 'Updated the ', hit: false },
    { text: 'VPN', hit: true },
    { text: ' client and disabled IPv6.', hit: false },
  ],
  ...over,
});

beforeEach(() => {
  loginAs('viewer');
  vi.mocked(api.kbStats).mockResolvedValue(stats(500));
  vi.mocked(api.kbFacets).mockResolvedValue({
    integrations: [{ id: 1, name: 'Demo ServiceNow' }],
    priorities: ['1 - Critical', '2 - High'],
    categories: ['Network'],
    states: ['Resolved'],
  });
});

describe('SearchPage', () => {
  it('says to sync first when the knowledge base is empty', async () => {
    vi.mocked(api.kbStats).mockResolvedValue(stats(0));
    render(SearchPage);
    const empty = await screen.findByTestId('kb-empty');
    expect(empty).toHaveTextContent('The knowledge base is empty.');
    expect(within(empty).getByRole('link', { name: 'Go to Integrations' })).toHaveAttribute('href', '#/settings/integrations');
  });

  it('searches and shows number, title, highlighted resolution, score and ranks', async () => {
    const user = userEvent.setup();
    vi.mocked(api.kbSearch).mockResolvedValue({ hits: [hit(), hit({ incident_id: 2, number: 'INC0010002', bm25_rank: null, relevance: 0.4, state: 'In Progress', close_code: null, snippet_source: 'description' })], took_ms: 12.2, method: 'hybrid' });
    render(SearchPage);
    await user.type(await screen.findByTestId('kb-query'), 'my vpn keeps dropping');
    await user.click(screen.getByTestId('kb-search'));
    const hits = await screen.findAllByTestId('kb-hit');
    expect(hits.map((h) => h.dataset.number)).toEqual(['INC0010001', 'INC0010002']);
    expect(api.kbSearch).toHaveBeenCalledWith({ query: 'my vpn keeps dropping', k: 10, method: 'hybrid', filters: {} });
    const first = hits[0];
    expect(within(first).getByTestId('kb-hit-title')).toHaveTextContent('VPN disconnects every few minutes');
    expect(within(first).getByTestId('kb-hit-snippet').querySelector('mark')).toHaveTextContent('VPN');
    // A relevance a person can read, never the raw fusion score.
    expect(within(first).getByTestId('kb-hit-score')).toHaveTextContent('Strong match · 82%');
    expect(first).not.toHaveTextContent('0.033');
    expect(within(first).getByTestId('kb-hit-snippet')).toHaveTextContent('Solved (Permanently):');
    expect(within(first).getByRole('link', { name: 'INC0010001' })).toHaveAttribute('href', 'https://acme.service-now.com/incident.do?sys_id=1');
    expect(hits[1]).toHaveTextContent('no keyword match');
    expect(within(hits[1]).getByTestId('kb-hit-score')).toHaveTextContent('Possible match · 40%');
    // An open incident's description is never labelled as its resolution.
    expect(within(hits[1]).getByTestId('kb-hit-snippet')).toHaveTextContent('Description (not resolved yet):');
    expect(within(hits[1]).getByTestId('kb-hit-snippet')).not.toHaveTextContent('Resolution');
    expect(screen.getByTestId('kb-results-summary')).toHaveTextContent('2 best matches for “my vpn keeps dropping” in 500 incidents');
  });

  it('opens the source record through the core, not the webview', async () => {
    const user = userEvent.setup();
    vi.mocked(api.kbSearch).mockResolvedValue({ hits: [hit()], took_ms: 3, method: 'hybrid' });
    vi.mocked(api.openExternal).mockResolvedValue(null);
    render(SearchPage);
    await user.type(await screen.findByTestId('kb-query'), 'vpn');
    await user.click(screen.getByTestId('kb-search'));
    await user.click(await screen.findByRole('link', { name: 'INC0010001' }));
    expect(api.openExternal).toHaveBeenCalledWith('https://acme.service-now.com/incident.do?sys_id=1');
  });

  it('sends only the filters that are set and re-runs the search when one changes', async () => {
    const user = userEvent.setup();
    vi.mocked(api.kbSearch).mockResolvedValue({ hits: [], took_ms: 3, method: 'hybrid' });
    render(SearchPage);
    await user.type(await screen.findByTestId('kb-query'), 'printer');
    await user.click(screen.getByTestId('kb-search'));
    await screen.findByTestId('kb-no-results');
    await user.selectOptions(screen.getByTestId('filter-priority'), '1 - Critical');
    await vi.waitFor(() =>
      expect(api.kbSearch).toHaveBeenLastCalledWith({ query: 'printer', k: 10, method: 'hybrid', filters: { priority: '1 - Critical' } }),
    );
    expect(screen.getByTestId('kb-results-summary')).toHaveTextContent('No incidents match “printer” with these filters.');
    await user.click(screen.getByTestId('filter-clear'));
    await vi.waitFor(() => expect(api.kbSearch).toHaveBeenLastCalledWith(expect.objectContaining({ filters: {} })));
  });

  it('asks for words before searching, next to the box', async () => {
    const user = userEvent.setup();
    render(SearchPage);
    await user.click(await screen.findByTestId('kb-search'));
    expect(screen.getByTestId('error-query')).toHaveTextContent('Describe the problem or paste an error message.');
    expect(api.kbSearch).not.toHaveBeenCalled();
  });

  it('shows field errors from the core next to the date filter', async () => {
    const user = userEvent.setup();
    vi.mocked(api.kbSearch).mockRejectedValue({ code: 'validation', message: 'Invalid dates.', fields: { to: 'The end date is before the start date.' } });
    render(SearchPage);
    await user.type(await screen.findByTestId('kb-query'), 'vpn');
    await user.click(screen.getByTestId('kb-search'));
    expect(await screen.findByTestId('error-to')).toHaveTextContent('The end date is before the start date.');
  });

  it('shows a search failure such as a missing model as a notice', async () => {
    const user = userEvent.setup();
    vi.mocked(api.kbSearch).mockRejectedValue({ code: 'model_missing', message: 'The embedding model is missing. Run scripts/fetch-model.sh.' });
    render(SearchPage);
    await user.type(await screen.findByTestId('kb-query'), 'vpn');
    await user.click(screen.getByTestId('kb-search'));
    expect(await screen.findByTestId('kb-search-error')).toHaveTextContent('The embedding model is missing.');
  });
});
