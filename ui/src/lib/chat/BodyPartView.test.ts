import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import BodyPartView from './BodyPartView.svelte';
import { toPart } from './body';
import { fixtures } from '../../test/vaFixtures';

const byName = Object.fromEntries(fixtures('.response.json'));
// The VA reference's "agent" utterance example: a Picker whose three options are all
// `"enabled": false`, as an instance sends them in bot-to-bot.
const picker = toPart((byName['va_02_agent_utterance.response.json'].body as unknown[])[0]);

describe('BodyPartView: the picker control is the app’s to manage', () => {
  it('lets the user pick an enabled:false option of the latest prompt and sends its value', async () => {
    const onreply = vi.fn();
    render(BodyPartView, { part: picker, onreply });
    const first = screen.getByRole('button', { name: 'Live Agent Support.' });
    expect(first).toBeEnabled();
    await userEvent.click(screen.getByRole('button', { name: 'I want something else' }));
    expect(onreply).toHaveBeenCalledWith({ value: '-1', label: 'I want something else', typed: false });
    // Answered: read-only from now on.
    expect(first).toBeDisabled();
  });

  it('is read-only once a newer prompt arrived (answered)', () => {
    render(BodyPartView, { part: picker, onreply: vi.fn(), answered: true });
    for (const b of screen.getAllByTestId('choice-option')) expect(b).toBeDisabled();
  });

  it('shows an unsupported element’s text with a note, never nothing', () => {
    render(BodyPartView, { part: toPart({ uiType: 'Carousel3D', message: 'Spin to choose' }) });
    expect(screen.getByTestId('part-unknown')).toHaveTextContent('Spin to choose');
    expect(screen.getByTestId('part-unknown')).toHaveTextContent('Unsupported element (Carousel3D)');
  });
});
