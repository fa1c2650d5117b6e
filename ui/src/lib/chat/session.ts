import type { ChatEvent, ChatMessage, ChatSession, HandoffState } from '$lib/ipc/types';

/** Merges messages into a session: a message already there (same id) is replaced, never duplicated,
 *  and the list stays in conversation order (seq), whatever order events arrived in. */
export function mergeMessages(session: ChatSession, incoming: ChatMessage[]): ChatSession {
  const byId = new Map(session.messages.map((m) => [m.id, m]));
  for (const m of incoming) if (m.session_id === session.id) byId.set(m.id, m);
  const messages = [...byId.values()].sort((a, b) => a.seq - b.seq || a.id - b.id);
  return { ...session, messages };
}

/** Applies one chat event to the session it belongs to; events of other sessions are ignored. */
export function applyEvent(session: ChatSession, e: ChatEvent): ChatSession {
  if (e.session_id !== session.id) return session;
  switch (e.type) {
    case 'message':
      return mergeMessages(session, [e.message]);
    case 'state':
      return {
        ...session,
        state: e.state,
        notice: e.notice,
        agent: e.agent ?? session.agent,
        waiting_since: e.state === 'waiting' ? (session.waiting_since ?? new Date().toISOString()) : null,
        take_control: e.take_control,
        wait_time: e.wait_time,
        reason: e.reason,
        details: e.details,
      };
    default:
      return session;
  }
}

export const STATE_LABEL: Record<HandoffState, string> = {
  active: 'Bot',
  waiting: 'Waiting for an agent',
  connected: 'Live agent',
  completed: 'Conversation ended',
  fail: 'Handoff failed',
  cancelled: 'Handoff cancelled',
};

/** The control indicator's words: who has the conversation now, as the instance said. */
export function controlLabel(s: ChatSession): string {
  const agent = s.agent?.name ?? 'An agent';
  switch (s.state) {
    case 'waiting':
      return s.wait_time ? `Waiting for a live agent · estimated wait ${s.wait_time}` : 'Waiting for a live agent…';
    case 'connected':
      return s.take_control ? `${agent} has taken control` : `${agent} connected`;
    case 'completed':
      return 'Conversation ended: the bot answers again';
    case 'fail':
      return s.reason ? `Handoff failed: ${s.reason}` : 'Handoff failed';
    case 'cancelled':
      return 'Handoff cancelled: the bot answers again';
    default:
      return 'Bot: answers come from your knowledge base';
  }
}

/** True while typed text goes to a live agent (or the handoff) rather than the bot. */
export const withAgent = (s: HandoffState) => s === 'waiting' || s === 'connected';

/** The message whose controls can still be answered: the latest agent or Virtual Agent message.
 *  During a handoff that is always it; with the bot only while no state notice followed it (a
 *  notice means the handoff it belonged to ended), so the Virtual Agent's topic picker after
 *  "Start conversation" stays clickable and an old agent's question does not come back. */
export function answerableId(session: ChatSession): number | null {
  const live = withAgent(session.state);
  for (let i = session.messages.length - 1; i >= 0; i--) {
    const m = session.messages[i];
    if (m.from === 'agent') return m.id;
    if (m.from === 'system' && !live) return null;
  }
  return null;
}

/** Confidence as words, so a number is never the only signal (the core's bands: unsure under
 * 0.7, declined under 0.3). */
export function confidenceLabel(c: number): 'High' | 'Medium' | 'Low' {
  return c >= 0.7 ? 'High' : c >= 0.3 ? 'Medium' : 'Low';
}

/** `text` split around the first occurrence of `quote` (the quote itself left out); the whole
 * text comes first when there is no quote or it is not in the text. */
export function aroundQuote(text: string, quote: string | null): { before: string; after: string } {
  const at = quote ? text.indexOf(quote) : -1;
  if (!quote || at < 0) return { before: text, after: '' };
  return { before: text.slice(0, at).trimEnd(), after: text.slice(at + quote.length).trim() };
}
