import { describe, expect, it } from 'vitest';
import { fixtures } from '../../test/vaFixtures';
import { toPart, type Part } from './body';

const responses = fixtures('.response.json');

/** The text a part puts on screen, for parts that show text. */
function shown(p: Part): string {
  switch (p.kind) {
    case 'text':
      return p.text;
    case 'spinner':
      return p.message;
    case 'choice':
      return p.prompt;
    case 'input':
    case 'date':
    case 'upload':
      return p.label;
    case 'unknown':
      return p.summary;
    default:
      return 'n/a';
  }
}

describe('the documents’ payloads render with their text', () => {
  it('has every response example of both documents', () => {
    // 13 worked examples of the VA reference + 3 special cases of the LiveChat spec.
    expect(responses.length).toBe(16);
  });

  for (const [name, payload] of responses) {
    it(`${name}: no element renders blank`, () => {
      const body = payload.body as Record<string, unknown>[];
      expect(body.length).toBeGreaterThan(0);
      for (const el of body) {
        const part = toPart(el);
        const expected = (el.value ?? el.message ?? el.label ?? el.promptMsg) as string | undefined;
        if (part.kind === 'typing') continue;
        expect(shown(part), `${String(el.uiType)} in ${name}`).not.toBe('');
        if (typeof expected === 'string' && part.kind === 'text') expect(part.text).toBe(expected);
      }
    });
  }

  it('shows the LiveChat spec’s message-only texts', () => {
    const byName = Object.fromEntries(responses);
    expect(toPart((byName['livechat_error_handling.response.json'].body as unknown[])[0])).toEqual({
      kind: 'text',
      text: "We're sorry, but all agents are currently busy. Please try again later.",
    });
    expect(toPart((byName['livechat_agent_taking_control.response.json'].body as unknown[])[0])).toEqual({
      kind: 'text',
      text: 'Agent has taken control of the conversation',
    });
    expect(toPart((byName['livechat_session_completion.response.json'].body as unknown[])[0])).toEqual({
      kind: 'text',
      text: 'The conversation has ended',
    });
  });

  it('keeps the reference’s enabled:false options (the app owns the picker’s state)', () => {
    const byName = Object.fromEntries(responses);
    const picker = toPart((byName['va_02_agent_utterance.response.json'].body as unknown[])[0]);
    expect(picker.kind === 'choice' && picker.options.map((o) => [o.label, o.value])).toEqual([
      ['Live Agent Support.', 'Live Agent Support.'],
      ['Virtual Agent Capabilities.', 'Virtual Agent Capabilities.'],
      ['I want something else', '-1'],
    ]);
  });
});
