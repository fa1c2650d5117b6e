import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import ChatPage from './ChatPage.svelte';
import * as api from '$lib/ipc/api';
import type { ChatEvent, ChatMessage, ChatSession } from '$lib/ipc/types';
import { loginAs, makeChatSession, makeStateEvent } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

let emit: (e: ChatEvent) => void = () => {};

const session = (over: Partial<ChatSession> = {}): ChatSession => makeChatSession(over);

const msg = (id: number, over: Partial<ChatMessage> = {}): ChatMessage => ({
  id,
  session_id: 's1',
  seq: id,
  at: '2026-11-22T08:00:00Z',
  from: 'user',
  text: null,
  answer: null,
  body: [],
  agent: null,
  live_agent: false,
  feedback: null,
  attachment: null,
  ...over,
});

const answer = msg(2, {
  from: 'bot',
  text: 'The closest past incidents were solved like this:',
  answer: {
    text: 'The closest past incidents were solved like this:',
    resolution: 'Reinstalled the VPN client.',
    citations: [{ number: 'INC0010001', short_description: 'VPN drops', link: 'https://x.example/1', score: 0.03 }],
    confidence: 0.8,
    low_confidence: false,
    declined: false,
  },
});

beforeEach(() => {
  loginAs('viewer');
  vi.mocked(api.chatSession).mockResolvedValue(session());
  vi.mocked(api.onChatEvent).mockImplementation((h) => {
    emit = h;
    return () => {};
  });
});

describe('ChatPage', () => {
  it('asks the bot and shows a cited answer with confidence and feedback', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatSend).mockResolvedValue([msg(1, { text: 'vpn drops' }), answer]);
    vi.mocked(api.chatFeedback).mockResolvedValue(null);
    render(ChatPage);
    await user.type(await screen.findByTestId('chat-input'), 'vpn drops{Enter}');
    expect(api.chatSend).toHaveBeenCalledWith('s1', 'vpn drops');
    const bot = await screen.findByTestId('bot-answer');
    expect(within(bot).getByTestId('citation')).toHaveTextContent('INC0010001');
    expect(within(bot).getByTestId('bot-resolution')).toHaveTextContent('Reinstalled the VPN client.');
    expect(bot).toHaveAttribute('data-confidence', 'High');
    expect(screen.getByTestId('chat-input')).toHaveValue('');
    await user.click(within(bot).getByTestId('feedback-no'));
    expect(api.chatFeedback).toHaveBeenCalledWith(2, false);
    expect(await screen.findByTestId('feedback-thanks')).toHaveTextContent('noted');
  });

  it('shows a declined answer apart, with nothing cited and the hand-off inside it', async () => {
    const user = userEvent.setup();
    const declined = msg(2, {
      from: 'bot',
      text: "I couldn't find this in past incidents. Talk to a human?",
      answer: { text: "I couldn't find this in past incidents. Talk to a human?", resolution: null, citations: [], confidence: 0.08, low_confidence: true, declined: true },
    });
    vi.mocked(api.chatSend).mockResolvedValue([msg(1, { text: 'what is on the canteen menu today' }), declined]);
    vi.mocked(api.chatEscalate).mockResolvedValue(session({ state: 'waiting' }));
    render(ChatPage);
    await user.type(await screen.findByTestId('chat-input'), 'what is on the canteen menu today{Enter}');
    const box = await screen.findByTestId('bot-declined');
    expect(box).toHaveTextContent('No matching past incident');
    expect(box).toHaveTextContent("I couldn't find this in past incidents. Talk to a human?");
    expect(screen.queryByTestId('bot-answer')).not.toBeInTheDocument();
    expect(within(box).queryByTestId('citation')).not.toBeInTheDocument();
    await user.click(within(box).getByTestId('declined-escalate'));
    expect(api.chatEscalate).toHaveBeenCalledWith('s1');
  });

  it('keeps the draft and shows the error when sending fails', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatSend).mockRejectedValue({ code: 'model_missing', message: 'The embedding model is missing.' });
    render(ChatPage);
    await user.type(await screen.findByTestId('chat-input'), 'hello');
    await user.click(screen.getByTestId('chat-send'));
    expect(await screen.findByTestId('chat-error')).toHaveTextContent('The embedding model is missing.');
    expect(screen.getByTestId('chat-input')).toHaveValue('hello');
  });

  it('escalates, waits with a spinner, connects, and renders agent controls that answer with typed=false', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatEscalate).mockResolvedValue(session({ state: 'waiting' }));
    vi.mocked(api.chatReply).mockResolvedValue([msg(5, { text: 'Yes' })]);
    render(ChatPage);
    await user.click(await screen.findByTestId('chat-escalate'));
    expect(screen.getByTestId('chat-state')).toHaveAttribute('data-state', 'waiting');
    expect(screen.getByTestId('chat-cancel')).toBeInTheDocument();
    emit({ type: 'message', session_id: 's1', message: msg(3, { from: 'agent', body: [{ uiType: 'ActionMsg', actionType: 'StartSpinner', message: 'Routing you…', waitTime: '8 Seconds' }] }) });
    const spinner = await screen.findByTestId('part-spinner');
    expect(spinner).toHaveTextContent('estimated wait 8 Seconds');
    expect(spinner.querySelector('.spinner')).not.toBeNull();
    // The instance's Virtual Agent, not a person, routes the chat.
    expect(spinner.closest('[data-testid="chat-message"]')).toHaveTextContent('Virtual Agent');
    emit(makeStateEvent({ state: 'connected', notice: null, agent: { name: 'Beth Anglin', avatar: null } }));
    emit({ type: 'typing', session_id: 's1', on: true });
    expect(await screen.findByTestId('chat-typing')).toHaveTextContent('Beth Anglin is typing');
    emit({
      type: 'message',
      session_id: 's1',
      message: msg(4, { from: 'agent', agent: { name: 'Beth Anglin', avatar: null }, body: [{ uiType: 'Boolean', label: 'Did a restart help?' }] }),
    });
    expect(await screen.findByTestId('chat-agent')).toHaveTextContent('Beth Anglin');
    expect(screen.queryByTestId('chat-typing')).not.toBeInTheDocument();
    // Routing is over: the old spinner message stays as text and stops spinning.
    expect(screen.getByTestId('part-spinner').querySelector('.spinner')).toBeNull();
    const options = await screen.findAllByTestId('choice-option');
    await user.click(options[0]);
    expect(api.chatReply).toHaveBeenCalledWith('s1', { value: 'true', label: 'Yes', typed: false });
    expect(options[1]).toBeDisabled();
  });

  it('shows a secure input as a password field', async () => {
    vi.mocked(api.chatSession).mockResolvedValue(
      session({ state: 'connected', agent: { name: 'Beth', avatar: null }, messages: [msg(1, { from: 'agent', body: [{ uiType: 'InputText', label: 'PIN', maskType: 'SECURE' }] })] }),
    );
    render(ChatPage);
    expect(await screen.findByTestId('secure-input')).toHaveAttribute('type', 'password');
  });

  it('ends a connected chat and shows the notice; offers to keep waiting after a timeout', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatSession).mockResolvedValue(session({ state: 'connected', agent: { name: 'Beth', avatar: null } }));
    vi.mocked(api.chatEnd).mockResolvedValue(session({ state: 'completed', notice: 'You ended the conversation with Beth.' }));
    render(ChatPage);
    await user.click(await screen.findByTestId('chat-end'));
    expect(api.chatEnd).toHaveBeenCalledWith('s1');
    expect(await screen.findByTestId('chat-notice')).toHaveTextContent('You ended the conversation with Beth.');
    expect(screen.getByTestId('chat-state')).toHaveAttribute('data-state', 'completed');
    emit({ type: 'wait_timeout', session_id: 's1', waited_s: 180 });
    expect(await screen.findByTestId('chat-wait-timeout')).toHaveTextContent('No agent has joined after 3 min.');
  });

  it('puts out-of-order and duplicate agent messages in order once', async () => {
    render(ChatPage);
    await screen.findByTestId('chat-log');
    for (const id of [3, 2, 3]) emit({ type: 'message', session_id: 's1', message: msg(id, { from: 'agent', body: [{ uiType: 'OutputText', value: `m${id}` }] }) });
    await vi.waitFor(() => expect(screen.getAllByTestId('chat-message').map((m) => m.textContent?.match(/m\d/)?.[0])).toEqual(['m2', 'm3']));
  });

  it('starts a Virtual Agent conversation: the topic picker answers with typed=false while the bot has the chat', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatStart).mockResolvedValue([msg(1, { text: 'Started a Virtual Agent conversation' })]);
    vi.mocked(api.chatReply).mockResolvedValue([msg(3, { text: 'Reset my password' })]);
    render(ChatPage);
    await user.click(await screen.findByTestId('chat-va-start'));
    expect(api.chatStart).toHaveBeenCalledWith('s1');
    expect(await screen.findByText('Started a Virtual Agent conversation')).toBeInTheDocument();
    emit({
      type: 'message',
      session_id: 's1',
      message: msg(2, {
        from: 'agent',
        body: [
          { uiType: 'OutputText', value: "Hi, I'm your Virtual Agent." },
          { uiType: 'TopicPickerControl', promptMsg: 'What can I help with?', options: [{ label: 'Reset my password', value: '3cc8', enabled: true }] },
        ],
      }),
    });
    const option = await screen.findByRole('button', { name: 'Reset my password' });
    expect(screen.getByTestId('chat-state')).toHaveAttribute('data-state', 'active');
    await user.click(option);
    expect(api.chatReply).toHaveBeenCalledWith('s1', { value: '3cc8', label: 'Reset my password', typed: false });
  });

  it('switches topic from a small form and shows its field error next to it', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatSwitch)
      .mockRejectedValueOnce({ code: 'validation', message: 'Enter the topic to switch to.', fields: { intent: 'Enter the topic to switch to.' } })
      .mockResolvedValueOnce([msg(1, { text: 'Switched topic to Reset my password' })]);
    render(ChatPage);
    await user.click(await screen.findByTestId('chat-va-switch'));
    const input = screen.getByTestId('chat-topic');
    await user.click(screen.getByTestId('chat-topic-submit'));
    expect(await screen.findByTestId('chat-va-error')).toHaveTextContent('Enter the topic to switch to.');
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByTestId('chat-error')).not.toBeInTheDocument();
    await user.type(input, 'Reset my password{Enter}');
    expect(api.chatSwitch).toHaveBeenLastCalledWith('s1', 'Reset my password');
    expect(await screen.findByText('Switched topic to Reset my password')).toBeInTheDocument();
    expect(screen.queryByTestId('chat-topic')).not.toBeInTheDocument();
    expect(screen.queryByTestId('chat-va-error')).not.toBeInTheDocument();
  });

  it('offers no Virtual Agent controls during a handoff, and an ended agent chat leaves old controls read-only', async () => {
    vi.mocked(api.chatSession).mockResolvedValue(
      session({
        state: 'completed',
        messages: [
          msg(1, { from: 'agent', body: [{ uiType: 'Boolean', label: 'Did a restart help?' }] }),
          msg(2, { from: 'system', text: 'The conversation with the agent has ended.' }),
        ],
      }),
    );
    render(ChatPage);
    await screen.findByTestId('chat-va');
    for (const b of await screen.findAllByTestId('choice-option')) expect(b).toBeDisabled();
    emit(makeStateEvent({ state: 'connected', notice: null, agent: { name: 'Beth', avatar: null } }));
    await vi.waitFor(() => expect(screen.queryByTestId('chat-va')).not.toBeInTheDocument());
  });

  it('refuses a file over the FileUpload element\'s maxSize before reading it', async () => {
    const user = userEvent.setup();
    vi.mocked(api.chatSession).mockResolvedValue(
      session({ state: 'connected', messages: [msg(1, { from: 'agent', live_agent: true, body: [{ uiType: 'FileUpload', label: 'Screenshot', maxSize: 1, maxCount: 1 }] })] }),
    );
    render(ChatPage);
    const input = await screen.findByLabelText('Screenshot');
    const big = new File([new Uint8Array(2 * 1024 * 1024)], 'big.png', { type: 'image/png' });
    const read = vi.spyOn(big, 'arrayBuffer');
    await user.upload(input, big);
    expect(await screen.findByTestId('chat-error')).toHaveTextContent('big.png is larger than 1 MB');
    expect(read).not.toHaveBeenCalled();
    expect(api.chatAttach).not.toHaveBeenCalled();
  });

  it('renders unknown elements with a readable fallback', async () => {
    vi.mocked(api.chatSession).mockResolvedValue(session({ messages: [msg(1, { from: 'agent', body: [{ uiType: 'Hologram', value: 'beam me up' }] })] }));
    render(ChatPage);
    const unknown = await screen.findByTestId('part-unknown');
    expect(unknown).toHaveTextContent('beam me up');
    expect(unknown).toHaveTextContent('Unsupported element (Hologram)');
  });
});
