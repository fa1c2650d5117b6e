import { describe, expect, it } from 'vitest';
import { formatCount, formatDuration, formatEta, formatRate, formatSchedule, formatWait, plural } from './format';

describe('sync formatting', () => {
  it('groups thousands and pluralizes', () => {
    expect(formatCount(1234)).toBe('1,234');
    expect(plural(1, 'incident')).toBe('1 incident');
    expect(plural(1234, 'incident')).toBe('1,234 incidents');
  });

  it('formats the rate', () => {
    expect(formatRate(48.4)).toBe('48/s');
    expect(formatRate(2.46)).toBe('2.5/s');
    expect(formatRate(0.4)).toBe('0.4/s');
    expect(formatRate(1500)).toBe('1,500/s');
    expect(formatRate(0)).toBeNull();
    expect(formatRate(Number.NaN)).toBeNull();
  });

  it('formats a wait with the seconds left', () => {
    expect(formatWait('waiting for rate limit (12 s)', 12)).toBe('Waiting for rate limit (12 s)');
    expect(formatWait('waiting for rate limit (12 s)', 9)).toBe('Waiting for rate limit (9 s)');
    expect(formatWait('waiting for rate limit: request budget of the hour spent (600 s)', 75)).toBe(
      'Waiting for rate limit: request budget of the hour spent (1 min 15 s)',
    );
    expect(formatWait('waiting for rate limit (3 s)', -1)).toBe('Waiting for rate limit (0 s)');
    expect(formatWait('waiting', 5)).toBe('Waiting');
  });

  it('formats the ETA', () => {
    expect(formatEta(null)).toBeNull();
    expect(formatEta(-1)).toBeNull();
    expect(formatEta(4)).toBe('a few seconds left');
    expect(formatEta(45)).toBe('less than a minute left');
    expect(formatEta(90)).toBe('about 2 min left');
    expect(formatEta(120)).toBe('about 2 min left');
    expect(formatEta(3600)).toBe('about 1 h left');
    expect(formatEta(5000)).toBe('about 1 h 23 min left');
  });

  it('formats durations and schedules', () => {
    expect(formatDuration(12.4)).toBe('12 s');
    expect(formatDuration(75)).toBe('1 min 15 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(3700)).toBe('1 h 1 min');
    expect(formatSchedule(null)).toBe('Off (manual only)');
    expect(formatSchedule(30)).toBe('Every 30 minutes');
    expect(formatSchedule(60)).toBe('Every hour');
    expect(formatSchedule(180)).toBe('Every 3 hours');
    expect(formatSchedule(1440)).toBe('Every day');
    expect(formatSchedule(15)).toBe('Every 15 minutes');
    expect(formatSchedule(360)).toBe('Every 6 hours');
    expect(formatSchedule(0)).toBe('Off (manual only)');
    expect(formatSchedule(undefined)).toBe('Off (manual only)');
  });
});
