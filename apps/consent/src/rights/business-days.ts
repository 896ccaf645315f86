import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Deadlines of rights requests (CCP-2, ACC-5, HIP-8), in America/Los_Angeles: a deadline is the
 * end of a local day. Business days skip Saturdays, Sundays and the California state holidays of
 * the configured calendar; a count that would run past the calendar's last year is refused
 * rather than guessed.
 */
export class BusinessCalendar {
  private readonly holidays: Set<string>;
  private readonly years: Set<number>;
  private readonly dayOf: Intl.DateTimeFormat;

  constructor(
    readonly timeZone: string,
    holidays: string[],
    years: number[],
  ) {
    this.holidays = new Set(holidays);
    this.years = new Set(years);
    this.dayOf = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
  }

  static load(path: string): BusinessCalendar {
    const doc = parse(readFileSync(path, 'utf8')) as {
      timeZone?: unknown;
      years?: unknown;
      holidays?: unknown;
    };
    const years = Array.isArray(doc.years) ? doc.years.filter(Number.isInteger) : [];
    const holidays = Array.isArray(doc.holidays)
      ? (doc.holidays as { date?: unknown }[]).map((h) => String(h.date))
      : [];
    if (typeof doc.timeZone !== 'string' || !years.length || holidays.some((d) => !DATE.test(d))) {
      throw new Error(`${path}: a calendar needs timeZone, years and holidays[{date: YYYY-MM-DD}]`);
    }
    return new BusinessCalendar(doc.timeZone, holidays, years as number[]);
  }

  /** The local date (YYYY-MM-DD) of a moment. */
  localDate(at: Date): string {
    return this.dayOf.format(at);
  }

  /** True for a weekday that is not a holiday. */
  isBusinessDay(date: string): boolean {
    this.covered(date);
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    return weekday !== 0 && weekday !== 6 && !this.holidays.has(date);
  }

  /** The end of the n-th business day after the day `from` falls on (that day not counted). */
  addBusinessDays(from: Date, n: number): Date {
    let date = this.localDate(from);
    for (let counted = 0; counted < n;) {
      date = nextDate(date);
      if (this.isBusinessDay(date)) counted++;
    }
    return this.endOfDay(date);
  }

  /** The end of the local day n calendar days after the day `from` falls on. */
  addCalendarDays(from: Date, n: number): Date {
    let date = this.localDate(from);
    for (let i = 0; i < n; i++) date = nextDate(date);
    this.covered(date);
    return this.endOfDay(date);
  }

  /** The last millisecond of a local date. */
  endOfDay(date: string): Date {
    const next = nextDate(date);
    const [y, m, d] = next.split('-').map(Number);
    // Local midnight is 7 or 8 hours after UTC midnight in Los Angeles; in general, search the
    // day's possible offsets (-14 h … +14 h) for the first moment of the next local date.
    for (let h = -14; h <= 14; h++) {
      const t = Date.UTC(y, m - 1, d, 0) - h * 3_600_000;
      if (this.localDate(new Date(t)) === next && this.localDate(new Date(t - 1)) === date) {
        return new Date(t - 1);
      }
    }
    throw new Error(`no end of day found for ${date} in ${this.timeZone}`);
  }

  /** The last year the calendar lists (the service warns when it comes near). */
  get lastYear(): number {
    return Math.max(...this.years);
  }

  private covered(date: string): void {
    if (!this.years.has(Number(date.slice(0, 4)))) {
      throw new CalendarNotCoveredError(date.slice(0, 4));
    }
  }
}

/** A deadline would fall in a year the holiday calendar does not list. */
export class CalendarNotCoveredError extends Error {
  constructor(readonly year: string) {
    super(
      `the holiday calendar does not cover ${year}: an operator must add that year (HOLIDAY_CALENDAR_PATH)`,
    );
  }
}

function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}
