// The images of an agent's HTML message (held back by `holdRemoteImages`) become "Load image"
// buttons; a click has the core fetch the image, which then replaces the button.
import { chatImage } from '$lib/ipc/api';
import { toAppError } from '$lib/ipc/errors';
import { hostOf } from '$lib/links/links.svelte';

export function remoteImages(node: HTMLElement): void {
  for (const img of Array.from(node.querySelectorAll<HTMLImageElement>('img[data-remote-src]'))) {
    const url = img.dataset.remoteSrc ?? '';
    const alt = img.getAttribute('alt') ?? '';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'btn btn--small';
    button.dataset.testid = 'html-image-load';
    button.textContent = `Load image${hostOf(url) ? ` from ${hostOf(url)}` : ''}`;
    button.addEventListener('click', async (e) => {
      e.preventDefault();
      e.stopPropagation();
      button.disabled = true;
      button.textContent = 'Loading…';
      try {
        const image = await chatImage(url);
        const shown = document.createElement('img');
        shown.src = `data:${image.content_type};base64,${image.data_base64}`;
        shown.alt = alt;
        button.replaceWith(shown);
      } catch (err) {
        button.disabled = false;
        button.textContent = `Image not loaded: ${toAppError(err).message}`;
      }
    });
    img.replaceWith(button);
  }
}
