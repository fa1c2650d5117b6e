import { describe, expect, it } from 'vitest';
import { agentFrom, toPart, webUrl } from './body';

describe('toPart: every body element of the VA Bot Integration API reference', () => {
  it('renders text, html, links and images', () => {
    expect(toPart({ uiType: 'OutputText', group: 'DefaultText', value: 'Hello' })).toEqual({ kind: 'text', text: 'Hello' });
    expect(toPart({ uiType: 'OutputHtml', value: '<b>x</b>', height: '120' })).toEqual({ kind: 'html', html: '<b>x</b>', height: 120 });
    expect(toPart({ uiType: 'OutputLink', header: 'KB', label: 'Reset guide', type: 'link', value: { action: 'https://x.example/kb1' } })).toEqual({
      kind: 'link',
      header: 'KB',
      label: 'Reset guide',
      url: 'https://x.example/kb1',
    });
    // value as a JSON string, as some instances send it
    expect(toPart({ uiType: 'OutputLink', value: '{"action":"https://x.example/a"}' })).toMatchObject({ kind: 'link', url: 'https://x.example/a' });
    expect(toPart({ uiType: 'OutputLink', label: 'Bad', value: { action: 'javascript:alert(1)' } })).toEqual({ kind: 'text', text: 'Bad' });
    expect(toPart({ uiType: 'OutputImage', value: 'https://x.example/i.png' })).toMatchObject({ kind: 'image', url: 'https://x.example/i.png' });
    expect(toPart({ uiType: 'OutputImage', value: 'file:///etc/passwd' }).kind).toBe('unknown');
  });

  it('renders cards and grouped parts', () => {
    const card = toPart({ uiType: 'OutputCard', templateName: 'Card', data: '{"title":"INC0010001","subtitle":"VPN","fields":[{"label":"State","value":"Resolved"}],"priority":2}' });
    expect(card).toEqual({ kind: 'card', title: 'INC0010001', subtitle: 'VPN', fields: [['State', 'Resolved'], ['priority', '2']], url: null });
    expect(toPart({ uiType: 'GroupedPartsOutputControl', header: 'Articles', values: [{ label: 'One', action: 'https://a.example' }, { label: 'Two' }] })).toEqual({
      kind: 'grouped',
      header: 'Articles',
      items: [
        { label: 'One', description: null, url: 'https://a.example' },
        { label: 'Two', description: null, url: null },
      ],
    });
  });

  it('turns pickers, topic pickers and booleans into choices', () => {
    const picker = toPart({
      uiType: 'Picker',
      promptMsg: 'Pick one',
      required: 'true',
      multiSelect: false,
      style: 'carousel',
      options: [
        { label: 'A', value: 'a', enabled: true, attachment: 'https://x.example/a.png' },
        { label: 'B', value: 'b', enabled: 'false' },
      ],
    });
    expect(picker).toMatchObject({ kind: 'choice', control: 'Picker', prompt: 'Pick one', required: true, carousel: true });
    expect(picker.kind === 'choice' && picker.options.map((o) => [o.value, o.enabled, o.image])).toEqual([
      ['a', true, 'https://x.example/a.png'],
      ['b', false, null],
    ]);
    expect(toPart({ uiType: 'TopicPickerControl', label: 'Topics', options: [{ label: 'Password reset', value: 'pw' }] })).toMatchObject({
      kind: 'choice',
      control: 'TopicPickerControl',
      prompt: 'Topics',
    });
    const boolean = toPart({ uiType: 'Boolean', label: 'Did that work?' });
    expect(boolean.kind === 'choice' && boolean.options.map((o) => o.label)).toEqual(['Yes', 'No']);
  });

  it('turns dates, inputs and uploads into controls; SECURE input is a password field', () => {
    expect(toPart({ uiType: 'Date', label: 'When?' })).toEqual({ kind: 'date', control: 'Date', label: 'When?', required: false });
    expect(toPart({ uiType: 'DateTime', label: 'x' })).toMatchObject({ control: 'DateTime' });
    expect(toPart({ uiType: 'Time', label: 'x' })).toMatchObject({ control: 'Time' });
    expect(toPart({ uiType: 'InputText', label: 'Employee id', maskType: 'NONE' })).toMatchObject({ kind: 'input', secure: false });
    expect(toPart({ uiType: 'InputText', label: 'PIN', maskType: 'secure' })).toMatchObject({ kind: 'input', secure: true });
    expect(toPart({ uiType: 'FileUpload', label: 'Screenshot', maxCount: '2', maxSize: 5 })).toEqual({ kind: 'upload', label: 'Screenshot', maxCount: 2, maxSizeMb: 5 });
  });

  it('handles action messages: typing, spinner with wait time, system text', () => {
    expect(toPart({ uiType: 'ActionMsg', actionType: 'StartTypingIndicator' })).toEqual({ kind: 'typing', on: true });
    expect(toPart({ uiType: 'ActionMsg', actionType: 'EndTypingIndicator' })).toEqual({ kind: 'typing', on: false });
    expect(toPart({ uiType: 'ActionMsg', actionType: 'StartSpinner', spinnerType: 'wait_time', message: 'Routing you to a live agent...', waitTime: '8 Seconds' })).toEqual({
      kind: 'spinner',
      message: 'Routing you to a live agent...',
      waitTime: '8 Seconds',
    });
    expect(toPart({ uiType: 'ActionMsg', actionType: 'System', message: 'Agent left' })).toEqual({ kind: 'text', text: 'Agent left' });
  });

  it('gives unknown or malformed elements a safe readable fallback', () => {
    expect(toPart({ uiType: 'Carousel3D', value: 'spin' })).toEqual({ kind: 'unknown', uiType: 'Carousel3D', summary: 'spin' });
    expect(toPart({ uiType: 'Carousel3D', message: 'only a message' })).toEqual({ kind: 'unknown', uiType: 'Carousel3D', summary: 'only a message' });
    expect(toPart({ uiType: 'OutputText', message: 'message only' })).toEqual({ kind: 'text', text: 'message only' });
    expect(toPart(null)).toEqual({ kind: 'unknown', uiType: 'object', summary: '' });
    expect(toPart('just text')).toEqual({ kind: 'unknown', uiType: 'string', summary: 'just text' });
    expect(toPart({ uiType: 'OutputCard', data: '{not json' })).toEqual({ kind: 'card', title: null, subtitle: null, fields: [], url: null });
    expect(toPart({ uiType: 'Picker', options: 'nope' })).toMatchObject({ kind: 'choice', options: [] });
  });
});

describe('agentFrom and webUrl', () => {
  it('reads agentInfo from any element', () => {
    expect(agentFrom([{ uiType: 'OutputText', value: 'Hi', agentInfo: { agentName: 'Beth Anglin', agentAvatar: 'https://i.example/b.png', sentFromAgent: true } }])).toEqual({
      name: 'Beth Anglin',
      avatar: 'https://i.example/b.png',
    });
    expect(agentFrom([{ uiType: 'OutputText' }])).toBeNull();
  });

  it('accepts only http(s) URLs', () => {
    expect(webUrl('https://a.example/x')).toBe('https://a.example/x');
    expect(webUrl('data:text/html,x')).toBeNull();
    expect(webUrl('https://a b')).toBeNull();
    expect(webUrl(42)).toBeNull();
  });
});
