import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import ExternalLinkDialog from './ExternalLinkDialog.svelte';
import * as api from '$lib/ipc/api';
import { askToOpen, pendingLink } from './links.svelte';

vi.mock('$lib/ipc/api');

beforeEach(() => {
  pendingLink.url = null;
});

describe('ExternalLinkDialog', () => {
  it('shows the whole address and its host, and opens it only on confirmation', async () => {
    const user = userEvent.setup();
    vi.mocked(api.openExternal).mockResolvedValue(null);
    const url = 'https://login.micros0ft.example/reset?next=1';
    askToOpen(url);
    render(ExternalLinkDialog, { url: pendingLink.url as string });
    expect(screen.getByTestId('external-link-url')).toHaveTextContent(url);
    expect(screen.getByTestId('external-link-host')).toHaveTextContent('login.micros0ft.example');
    expect(api.openExternal).not.toHaveBeenCalled();
    await user.click(screen.getByTestId('external-link-open'));
    expect(api.openExternal).toHaveBeenCalledWith(url);
    expect(pendingLink.url).toBeNull();
  });

  it('cancel opens nothing', async () => {
    const user = userEvent.setup();
    askToOpen('https://kb.example/1');
    render(ExternalLinkDialog, { url: 'https://kb.example/1' });
    await user.click(screen.getByTestId('external-link-cancel'));
    expect(api.openExternal).not.toHaveBeenCalled();
    expect(pendingLink.url).toBeNull();
  });

  it('only web addresses are ever offered', () => {
    askToOpen('javascript:alert(1)');
    askToOpen('file:///etc/passwd');
    expect(pendingLink.url).toBeNull();
  });
});
