import type { Component } from 'svelte';
import type { IconName } from '$lib/components/icons';
import IntegrationsPage from '$lib/integrations/IntegrationsPage.svelte';
import ProfilesPage from '$lib/profiles/ProfilesPage.svelte';
import SearchPage from '$lib/kb/SearchPage.svelte';
import KnowledgeGapsPage from '$lib/kb/KnowledgeGapsPage.svelte';
import KnowledgeBasePage from '$lib/kb/KnowledgeBasePage.svelte';
import ChatPage from '$lib/chat/ChatPage.svelte';
import ChatSettingsPage from '$lib/chat/ChatSettingsPage.svelte';

export interface NavItem {
  /** Route id, used in the URL hash: #/<id>. */
  id: string;
  label: string;
  icon: IconName;
  testid: string;
  component: Component;
}

export interface NavSection {
  label: string;
  items: NavItem[];
}

/**
 * Sidebar navigation. Add later pages (Knowledge Base, Chat) as new sections or items
 * here; the sidebar and router pick them up. Only list pages that exist.
 */
export const NAV: NavSection[] = [
  {
    label: 'Support',
    items: [{ id: 'chat', label: 'Chat', icon: 'chat', testid: 'nav-chat', component: ChatPage }],
  },
  {
    label: 'Knowledge',
    items: [
      { id: 'kb/search', label: 'Search', icon: 'search', testid: 'nav-kb-search', component: SearchPage },
      { id: 'kb/gaps', label: 'Knowledge gaps', icon: 'alert', testid: 'nav-kb-gaps', component: KnowledgeGapsPage },
    ],
  },
  {
    label: 'Settings',
    items: [
      { id: 'settings/integrations', label: 'Integrations', icon: 'plug', testid: 'nav-integrations', component: IntegrationsPage },
      { id: 'settings/knowledge-base', label: 'Knowledge Base', icon: 'database', testid: 'nav-knowledge-base', component: KnowledgeBasePage },
      { id: 'settings/chat', label: 'Chat', icon: 'chat', testid: 'nav-chat-settings', component: ChatSettingsPage },
      { id: 'settings/profiles', label: 'Profiles', icon: 'users', testid: 'nav-profiles', component: ProfilesPage },
    ],
  },
];

export const NAV_ITEMS: NavItem[] = NAV.flatMap((s) => s.items);
export const DEFAULT_ROUTE = 'settings/integrations';

/** "#/settings/profiles" → nav item (unknown → default). */
export function routeFromHash(hash: string): NavItem {
  const id = hash.replace(/^#\/?/, '');
  return NAV_ITEMS.find((i) => i.id === id) ?? NAV_ITEMS.find((i) => i.id === DEFAULT_ROUTE) ?? NAV_ITEMS[0];
}
