import { findUp } from '@dsg/contracts';
import { BusinessCalendar } from './business-days';

describe('BusinessCalendar (CCP-2: business days in America/Los_Angeles)', () => {
  const calendar = BusinessCalendar.load(findUp('apps/consent/policy/ca-state-holidays.yaml'));

  it('skips a weekend and the Thanksgiving holidays when counting 10 business days', () => {
    // Received Wednesday 25 Nov 2026, 10:00 in Los Angeles. Thu 26 and Fri 27 are state
    // holidays, 28-29 a weekend: the tenth business day is Friday 11 December.
    const due = calendar.addBusinessDays(new Date('2026-11-25T18:00:00Z'), 10);
    expect(calendar.localDate(due)).toBe('2026-12-11');
    // The end of that day in Los Angeles (PST, UTC-8).
    expect(due.toISOString()).toBe('2026-12-12T07:59:59.999Z');
  });

  it('dates a request by its local day: late evening in Los Angeles is still that day', () => {
    // 23:30 on Friday 4 Dec 2026 in Los Angeles is Saturday in UTC.
    const received = new Date('2026-12-05T07:30:00Z');
    expect(calendar.localDate(received)).toBe('2026-12-04');
    expect(calendar.localDate(calendar.addBusinessDays(received, 1))).toBe('2026-12-07');
  });

  it('counts calendar days across a change of daylight saving time', () => {
    // 45 days from 20 Oct 2026 (PDT) is 4 Dec 2026 (PST): the end of that local day.
    const due = calendar.addCalendarDays(new Date('2026-10-20T17:00:00Z'), 45);
    expect(due.toISOString()).toBe('2026-12-05T07:59:59.999Z');
    const summer = calendar.endOfDay('2026-07-01');
    expect(summer.toISOString()).toBe('2026-07-02T06:59:59.999Z');
  });

  it('observes a Sunday holiday on the Monday and refuses years it does not cover', () => {
    expect(calendar.isBusinessDay('2027-07-05')).toBe(false);
    expect(calendar.isBusinessDay('2027-07-06')).toBe(true);
    expect(() => calendar.addCalendarDays(new Date('2030-12-20T12:00:00Z'), 30)).toThrow(
      /does not cover 2031/,
    );
  });
});
