// Durations as the Temporal TypeScript SDK takes them: a number of
// milliseconds, or a string such as '1 minute', '30s', '1.5 hours', '100ms'
// (the `ms` package's format, which @temporalio/workflow uses).

/** A duration: a number of milliseconds, or a string such as '1 minute'. */
export type Duration = string | number;

const UNITS: Record<string, number> = {
  ms: 1, msec: 1, msecs: 1, millisecond: 1, milliseconds: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  y: 31_557_600_000, yr: 31_557_600_000, yrs: 31_557_600_000, year: 31_557_600_000, years: 31_557_600_000,
};

/** Milliseconds of `duration` (a number of ms or an `ms`-style string). */
export function msToNumber(duration: Duration): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) throw new TypeError(`invalid duration ${duration}`);
    return duration;
  }
  const match = /^(\d*\.?\d+) *([a-z]*)$/i.exec(String(duration).trim());
  const unit = match && UNITS[(match[2] || 'ms').toLowerCase()];
  if (!unit) throw new TypeError(`invalid duration ${JSON.stringify(duration)}`);
  return Math.round(parseFloat(match[1]) * unit);
}

/** `msToNumber` for an optional duration, as a WIT u64 (BigInt) or undefined. */
export function optionalMs(duration: Duration | undefined | null): bigint | undefined {
  return duration === undefined || duration === null ? undefined : BigInt(msToNumber(duration));
}
