import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatSession } from '$lib/ipc/types';
import { answerableId, applyEvent, aroundQuote, confidenceLabel, controlLabel, mergeMessages } from './session';
import { makeChatSession, makeStateEvent } from '../../test/fixtures';

const session = (): ChatSession => makeChatSession();

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

describe('the control indicator', () => {
  it('says who is in control, with the instance\'s wait time and failure reason', () => {
    const base = makeChatSession();
    expect(controlLabel(base)).toBe('Bot: answers come from your knowledge base');
    expect(controlLabel({ ...base, state: 'waiting', wait_time: '8 Seconds' })).toBe('Waiting for a live agent · estimated wait 8 Seconds');
    const beth = { name: 'Beth Anglin', avatar: null };
    expect(controlLabel({ ...base, state: 'connected', agent: beth })).toBe('Beth Anglin connected');
    expect(controlLabel({ ...base, state: 'connected', agent: beth, take_control: true })).toBe('Beth Anglin has taken control');
    expect(controlLabel({ ...base, state: 'fail', reason: 'No agents are available to chat' })).toBe('Handoff failed: No agents are available to chat');
    expect(controlLabel({ ...base, state: 'completed' })).toBe('Conversation ended: the bot answers again');
  });

  it('takes the whole indicator state from a state event', () => {
    const s = applyEvent(makeChatSession(), makeStateEvent({ state: 'connected', take_control: true, details: { client_session_id: 'sb-1', now_session_id: 'n1', client_variables: { botId: 'A85PWLERF' } } }));
    expect(s.take_control).toBe(true);
    expect(s.details.client_variables).toEqual({ botId: 'A85PWLERF' });
  });
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
    let s = applyEvent(session(), makeStateEvent({ state: 'waiting', notice: null, agent: null }));
    expect(s.waiting_since).not.toBeNull();
    s = applyEvent(s, makeStateEvent({ state: 'connected', notice: null, agent: { name: 'Beth', avatar: null } }));
    s = applyEvent(s, makeStateEvent({ state: 'completed', notice: 'Agent ended the chat', agent: null }));
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

  it('splits an answer around the resolution it quotes', () => {
    expect(aroundQuote('This looks like INC1. What fixed it there: Rebooted. If that fails: INC2.', 'Rebooted.')).toEqual({
      before: 'This looks like INC1. What fixed it there:',
      after: 'If that fails: INC2.',
    });
    expect(aroundQuote('No quote here.', null)).toEqual({ before: 'No quote here.', after: '' });
    expect(aroundQuote('Other words.', 'Rebooted.')).toEqual({ before: 'Other words.', after: '' });
  });

  it('labels confidence', () => {
    expect([0.9, 0.5, 0.1].map(confidenceLabel)).toEqual(['High', 'Medium', 'Low']);
  });
});
