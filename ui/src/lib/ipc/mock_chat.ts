// DEV-ONLY fake of the chat commands: a bot that "answers" from canned incidents and a simulated
// live agent that joins after a short wait, so the chat page can be tried in a browser.
import type { AgentInfo, ChatEvent, ChatMessage, ChatMode, ChatReply, ChatSession, ChatSettings, ChatSettingsPatch, HandoffState } from './types';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => new Date().toISOString();

/** Settings > Chat as a fresh install has them: simulated mode, the webhook secret set. */
export function defaultChatSettings(): ChatSettings {
  return {
    mode: 'simulated',
    instance_url: null,
    auth: 'oauth2',
    client_id: null,
    username: null,
    bot_id: null,
    email: null,
    enterprise_id: null,
    webhook_port: 0,
    tunnel: false,
    public_hosts: [],
    wait_timeout_s: 180,
    attachment_days: 30,
    secrets: { client_secret: false, password: false, va_token: false, webhook_secret: true },
    from_env: [],
    env_vars: {},
  };
}

export function chatHandlers(emit: (e: ChatEvent) => void) {
  let session: ChatSession | null = null;
  let nextId = 1;
  const agent: AgentInfo = { name: 'Beth Anglin', avatar: null };

  const fresh = (mode: ChatMode = 'simulated'): ChatSession => {
    const id = `mock-${Date.now()}`;
    return {
      id,
      mode,
      state: 'active',
      started_at: now(),
      updated_at: now(),
      agent: null,
      waiting_since: null,
      notice: null,
      take_control: false,
      wait_time: null,
      reason: null,
      details: { client_session_id: `sb-${id}`, now_session_id: null, client_variables: null },
      messages: [],
    };
  };

  const message = (from: ChatMessage['from'], over: Partial<ChatMessage> = {}): ChatMessage => {
    const s = session as ChatSession;
    const m: ChatMessage = {
      id: nextId++,
      session_id: s.id,
      seq: s.messages.length + 1,
      at: now(),
      from,
      text: null,
      answer: null,
      body: [],
      agent: null,
      live_agent: false,
      feedback: null,
      attachment: null,
      ...over,
    };
    s.messages.push(m);
    return m;
  };

  const setState = (state: HandoffState, notice: string | null = null) => {
    const s = session as ChatSession;
    s.state = state;
    s.notice = notice;
    s.agent = state === 'connected' ? agent : s.agent;
    s.waiting_since = state === 'waiting' ? now() : null;
    s.wait_time = state === 'waiting' ? '8 Seconds' : null;
    s.reason = state === 'fail' ? notice : null;
    emit({
      type: 'state',
      session_id: s.id,
      state,
      notice,
      agent: s.agent,
      take_control: s.take_control,
      wait_time: s.wait_time,
      reason: s.reason,
      details: s.details,
    });
  };

  const agentSays = async (body: unknown[]) => {
    const s = session as ChatSession;
    emit({ type: 'typing', session_id: s.id, on: true });
    await sleep(900);
    emit({ type: 'typing', session_id: s.id, on: false });
    emit({ type: 'message', session_id: s.id, message: message('agent', { body, agent, live_agent: true }) });
  };

  const escalate = async () => {
    const s = session as ChatSession;
    setState('waiting');
    emit({
      type: 'message',
      session_id: s.id,
      message: message('agent', {
        body: [{ uiType: 'ActionMsg', actionType: 'StartSpinner', spinnerType: 'wait_time', message: 'Routing you to a live agent...', waitTime: '8 Seconds' }],
      }),
    });
    await sleep(2500);
    if (s.state !== 'waiting') return;
    setState('connected');
    await agentSays([
      { uiType: 'OutputText', value: 'Hi, this is Beth. I can see your conversation with the bot. Is the VPN client on version 5.2?', agentInfo: { agentName: 'Beth Anglin', sentFromAgent: true } },
      { uiType: 'Boolean', label: 'Are you on VPN client 5.2?' },
    ]);
  };

  // The Virtual Agent's own conversation (START_CONVERSATION, SWITCH), beside the local bot.
  const vaSays = async (body: unknown[]) => {
    const s = session as ChatSession;
    await sleep(400);
    emit({ type: 'message', session_id: s.id, message: message('agent', { body }) });
  };

  const vaAction = (line: string): ChatMessage[] => {
    const s = current();
    if (s.state === 'waiting') throw { code: 'chat_refused', message: 'You are waiting for a live agent: cancel the wait before using the Virtual Agent.' };
    if (s.state === 'connected') throw { code: 'chat_refused', message: 'You are chatting with a live agent: end that chat before using the Virtual Agent.' };
    if (s.state !== 'active') setState('active', s.notice);
    return [message('user', { text: line })];
  };

  const topicPicker = {
    uiType: 'TopicPickerControl',
    promptMsg: 'Please enter your request or make a selection of what I can help with.',
    label: 'Show me everything',
    options: [
      { label: 'Report an IT issue', value: '2bb7bd7670de6010f877c7f188266fc7', enabled: true },
      { label: 'Reset my password', value: '3cc8ce8781ef7121a988d8f299377ad8', enabled: true },
      { label: 'Live Agent Support.', value: 'ce2ee85053130010cf8cddeeff7b12bf', enabled: true },
    ],
  };

  const botAnswer = (text: string): ChatMessage => {
    const known = /vpn|network|disconnect/i.test(text);
    return message('bot', {
      text: known ? 'This looks like INC0010001 ("VPN disconnects every few minutes"). What fixed it there: Updated the VPN client to 5.2 and disabled IPv6 on the adapter; the connection has been stable since.' : "I couldn't find this in past incidents. Talk to a human?",
      answer: known
        ? {
            text: 'This looks like INC0010001 ("VPN disconnects every few minutes"). What fixed it there: Updated the VPN client to 5.2 and disabled IPv6 on the adapter; the connection has been stable since.',
            resolution: 'Updated the VPN client to 5.2 and disabled IPv6 on the adapter; the connection has been stable since.',
            citations: [
              { number: 'INC0010001', short_description: 'VPN disconnects every few minutes', link: 'https://acme.service-now.com/incident.do?sys_id=1', score: 0.033 },
            ],
            confidence: 0.82,
            low_confidence: false,
            declined: false,
          }
        : { text: "I couldn't find this in past incidents. Talk to a human?", resolution: null, citations: [], confidence: 0.12, low_confidence: true, declined: true },
    });
  };

  const current = () => session ?? (session = fresh());
  let settings: ChatSettings = defaultChatSettings();

  return {
    chat_settings: () => settings,
    chat_settings_save: (a: Record<string, unknown>) => {
      const p = a.patch as ChatSettingsPatch;
      const { client_secret, password, va_token, webhook_secret, ...plain } = p;
      if (webhook_secret && webhook_secret.length < 16) {
        const msg = 'The webhook secret needs at least 16 characters (a generated one is 32 or more random characters).';
        throw { code: 'validation', message: msg, fields: { webhook_secret: msg } };
      }
      const texts = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, v === '' ? null : v]));
      settings = {
        ...settings,
        ...texts,
        secrets: {
          client_secret: settings.secrets.client_secret || !!client_secret,
          password: settings.secrets.password || !!password,
          va_token: settings.secrets.va_token || !!va_token,
          webhook_secret: settings.secrets.webhook_secret || !!webhook_secret,
        },
      };
      return settings;
    },
    chat_session: () => current(),
    chat_new: (a: Record<string, unknown>) => (session = fresh((a.mode as ChatMode | null) ?? 'simulated')),
    chat_send: (a: Record<string, unknown>) => {
      const s = current();
      const text = String(a.text ?? '').trim();
      if (!text) throw { code: 'validation', message: 'Type a message first.' };
      const user = message('user', { text });
      if (s.state === 'connected') {
        void agentSays([{ uiType: 'OutputText', value: `Thanks — noted: “${text}”.`, agentInfo: { agentName: 'Beth Anglin' } }]);
        return [user];
      }
      if (/^(agent|human)$/i.test(text)) {
        void escalate();
        return [user];
      }
      return [user, botAnswer(text)];
    },
    chat_reply: (a: Record<string, unknown>) => {
      const reply = a.reply as ChatReply;
      const user = message('user', { text: reply.secure ? '••••••' : reply.label });
      if (current().state === 'connected') void agentSays([{ uiType: 'OutputText', value: 'Got it, thank you.' }]);
      else if (/^live agent/i.test(reply.label)) void escalate();
      else if (current().state === 'active') void vaSays([{ uiType: 'OutputText', value: `You chose “${reply.label}”. This demo topic ends here.` }]);
      return [user];
    },
    chat_start: () => {
      const out = vaAction('Started a Virtual Agent conversation');
      void vaSays([{ uiType: 'OutputText', value: "Hi, I'm your Virtual Agent. Let me know how I can help you today." }, topicPicker]);
      return out;
    },
    chat_switch: (a: Record<string, unknown>) => {
      const intent = String(a.intent ?? '').trim();
      if (!intent) throw { code: 'validation', message: 'Enter the topic to switch to.', fields: { intent: 'Enter the topic to switch to.' } };
      const out = vaAction(`Switched topic to ${intent}`);
      void vaSays([{ uiType: 'InputText', label: `${intent} input:`, required: true, maskType: 'NONE' }]);
      return out;
    },
    chat_attach: (a: Record<string, unknown>) => [
      message('user', { attachment: { file_name: String(a.fileName), content_type: String(a.contentType), size: String(a.dataBase64).length } }),
    ],
    chat_escalate: () => {
      void escalate();
      return current();
    },
    chat_cancel: () => {
      setState('cancelled', 'You cancelled the request for an agent. The bot is answering again.');
      return current();
    },
    chat_end: () => {
      setState('completed', 'You ended the conversation with Beth Anglin.');
      return current();
    },
    chat_keep_waiting: () => current(),
    // The mock has no network: any image is a 1×1 transparent PNG.
    chat_image: () => ({
      content_type: 'image/png',
      data_base64: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
    }),
    chat_feedback: (a: Record<string, unknown>) => {
      const m = current().messages.find((x) => x.id === a.messageId);
      if (m) m.feedback = a.helpful ? 'helpful' : 'not_helpful';
      return null;
    },
  };
}
