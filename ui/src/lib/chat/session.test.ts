import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatSession } from '$lib/ipc/types';
import { answerableId, applyEvent, confidenceLabel, mergeMessages } from './session';

const session = (): ChatSession => ({
  id: 's1',
  mode: 'simulated',
  state: 'active',
  started_at: '2026-11-22T08:00:00Z',
  updated_at: '2026-11-22T08:00:00Z',
  agent: null,
  waiting_since: null,
  notice: null,
  messages: [],
});

const msg = (id: number, seq: number, session_id = 's1'): ChatMessage => ({
  id,
  session_id,
  seq,
  at: '2026-11-22T08:00:00Z',
  from: 'agent',
  text: `m${seq}`,
  answer: null,
  body: [],
  agent: null,
  live_agent: false,
  feedback: null,
  attachment: null,
});

describe('chat session state', () => {
  it('keeps messages in order and drops duplicates, whatever order they arrive in', () => {
    let s = session();
    for (const m of [msg(3, 3), msg(1, 1), msg(3, 3), msg(2, 2)]) s = applyEvent(s, { type: 'message', session_id: 's1', message: m });
    expect(s.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('ignores events of other sessions', () => {
    const s = applyEvent(session(), { type: 'message', session_id: 's2', message: msg(1, 1, 's2') });
    expect(s.messages).toEqual([]);
    expect(mergeMessages(session(), [msg(1, 1, 's2')]).messages).toEqual([]);
  });

  it('follows state changes and keeps the agent once known', () => {
    let s = applyEvent(session(), { type: 'state', session_id: 's1', state: 'waiting', notice: null, agent: null });
    expect(s.waiting_since).not.toBeNull();
    s = applyEvent(s, { type: 'state', session_id: 's1', state: 'connected', notice: null, agent: { name: 'Beth', avatar: null } });
    s = applyEvent(s, { type: 'state', session_id: 's1', state: 'completed', notice: 'Agent ended the chat', agent: null });
    expect(s).toMatchObject({ state: 'completed', notice: 'Agent ended the chat', agent: { name: 'Beth' }, waiting_since: null });
  });

  it('knows which message can still be answered', () => {
    const system = { ...msg(9, 9), from: 'system' as const };
    const user = { ...msg(8, 8), from: 'user' as const };
    // With the bot: the Virtual Agent's latest message, unless a state notice followed it.
    expect(answerableId({ ...session(), messages: [msg(1, 1), msg(2, 2), user] })).toBe(2);
    expect(answerableId({ ...session(), messages: [msg(1, 1), system, user] })).toBeNull();
    expect(answerableId(session())).toBeNull();
    // During a handoff notices ("Beth joined") do not end the agent's question.
    expect(answerableId({ ...session(), state: 'connected', messages: [msg(1, 1), system] })).toBe(1);
  });

  it('labels confidence', () => {
    expect([0.9, 0.5, 0.1].map(confidenceLabel)).toEqual(['High', 'Medium', 'Low']);
  });
});
