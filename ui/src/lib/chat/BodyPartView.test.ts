import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import BodyPartView from './BodyPartView.svelte';
import * as api from '$lib/ipc/api';
import { pendingLink } from '$lib/links/links.svelte';
import { toPart } from './body';
import { fixtures } from '../../test/vaFixtures';

vi.mock('$lib/ipc/api');

const PNG = { content_type: 'image/png', data_base64: 'iVBORw0KGgo=' };

beforeEach(() => {
  pendingLink.url = null;
});

describe('remote content in agent messages', () => {
  it('a link inside HTML neither navigates nor opens: it asks first', async () => {
    const user = userEvent.setup();
    const part = toPart({ uiType: 'OutputHtml', value: '<p>See <a href="https://evil.example/x?t=1">this</a></p>' });
    render(BodyPartView, { part });
    await user.click(screen.getByText('this'));
    expect(pendingLink.url).toBe('https://evil.example/x?t=1');
    expect(api.openExternal).not.toHaveBeenCalled();
  });

  it('an OutputLink asks first too', async () => {
    const user = userEvent.setup();
    render(BodyPartView, { part: toPart({ uiType: 'OutputLink', label: 'KB article', value: { action: 'https://kb.example/1' } }) });
    await user.click(screen.getByText('KB article'));
    expect(pendingLink.url).toBe('https://kb.example/1');
    expect(api.openExternal).not.toHaveBeenCalled();
  });

  it('an HTML image is not fetched by the window; the core loads it on request', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatImage).mockResolvedValue(PNG);
    const part = toPart({ uiType: 'OutputHtml', value: '<p>Look <img src="https://img.example/pixel.png" alt="chart"></p>' });
    const { container } = render(BodyPartView, { part });
    expect(container.querySelector('img[src^="https:"]')).toBeNull();
    await user.click(screen.getByTestId('html-image-load'));
    expect(api.chatImage).toHaveBeenCalledWith('https://img.example/pixel.png');
    const img = container.querySelector('img') as HTMLImageElement;
    expect(img.getAttribute('src')).toBe(`data:image/png;base64,${PNG.data_base64}`);
    expect(img.alt).toBe('chart');
  });

  it('an OutputImage offers "Load image" and "Open in browser" instead of loading', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatImage).mockRejectedValueOnce({ code: 'validation', message: 'This is not a PNG, JPEG, GIF or WebP image; it is not shown.' });
    const { container } = render(BodyPartView, { part: toPart({ uiType: 'OutputImage', value: 'https://img.example/a.svg', label: 'Diagram' }) });
    expect(container.querySelector('img')).toBeNull();
    expect(screen.getByTestId('agent-image')).toHaveTextContent('img.example');
    await user.click(screen.getByTestId('agent-image-load'));
    expect(await screen.findByRole('alert')).toHaveTextContent('not a PNG');
    await user.click(screen.getByTestId('agent-image-open'));
    expect(pendingLink.url).toBe('https://img.example/a.svg');

    vi.mocked(api.chatImage).mockResolvedValueOnce(PNG);
    await user.click(screen.getByTestId('agent-image-load'));
    expect((await screen.findByTestId('agent-image-loaded')).getAttribute('src')).toMatch(/^data:image\/png;base64,/);
  });
});

const byName = Object.fromEntries(fixtures('.response.json'));
// The VA reference's "agent" utterance example: a Picker whose three options are all
// `"enabled": false`, as an instance sends them in bot-to-bot.
const picker = toPart((byName['va_02_agent_utterance.response.json'].body as unknown[])[0]);

describe('BodyPartView: the picker control is the app’s to manage', () => {
  it('lets the user pick an enabled:false option of the latest prompt and sends its value', async () => {
    const onreply = vi.fn();
    render(BodyPartView, { part: picker, onreply });
    const first = screen.getByRole('button', { name: 'Live Agent Support.' });
    expect(first).toBeEnabled();
    await userEvent.click(screen.getByRole('button', { name: 'I want something else' }));
    expect(onreply).toHaveBeenCalledWith({ value: '-1', label: 'I want something else', typed: false });
    // Answered: read-only from now on.
    expect(first).toBeDisabled();
  });

  it('is read-only once a newer prompt arrived (answered)', () => {
    render(BodyPartView, { part: picker, onreply: vi.fn(), answered: true });
    for (const b of screen.getAllByTestId('choice-option')) expect(b).toBeDisabled();
  });

  it('shows an unsupported element’s text with a note, never nothing', () => {
    render(BodyPartView, { part: toPart({ uiType: 'Carousel3D', message: 'Spin to choose' }) });
    expect(screen.getByTestId('part-unknown')).toHaveTextContent('Spin to choose');
    expect(screen.getByTestId('part-unknown')).toHaveTextContent('Unsupported element (Carousel3D)');
  });
});
