import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import BodyPartView from './BodyPartView.svelte';
import * as api from '$lib/ipc/api';
import { pendingLink } from '$lib/links/links.svelte';
import { toPart } from './body';

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
