// Remote addresses (links in agent messages, navigations the window refused) are opened in the
// system browser only after the user has seen the full address and confirmed it.

/** The address waiting for the user's decision (shown by ExternalLinkDialog in App.svelte). */
class PendingLink {
  url = $state<string | null>(null);
}

export const pendingLink = new PendingLink();

/** Asks the user whether to open `url` in the system browser. Only http(s) is ever offered. */
export function askToOpen(url: string): void {
  if (/^https?:\/\//i.test(url.trim())) pendingLink.url = url.trim();
}

/** The host of `url`, shown in bold so a look-alike address stands out; '' if none. */
export function hostOf(url: string): string {
  try {
    // A one-off parse, not state: nothing needs to react to it.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    return new URL(url).host;
  } catch {
    return '';
  }
}
