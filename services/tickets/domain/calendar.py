"""Working-time calendar (工作日历): Chinese public holidays and make-up workdays (调休).

Ticket deadlines are promised in working hours ("claim within 2 working hours, solve within 3 working days"), so a
report filed on the eve of the Spring Festival must not fall overdue while every office is closed, and a make-up
Saturday (调休上班) must count as a normal workday.

Every datetime in and out of this module is **naive UTC**, as the service stores it. Working time itself is defined
in local time (default Asia/Shanghai), so conversions happen here and nowhere else. Aware datetimes are accepted and
converted to UTC first, but results are always naive UTC.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo

# Guards the day-by-day scans: a calendar with no workday in ten years is a configuration error, not a long wait.
_MAX_SCAN_DAYS = 3660

DEFAULT_CALENDAR_PATH = Path(__file__).resolve().parents[3] / "config" / "calendar.yaml"


class WorkCalendar:
    """Which days are workdays and which hours of them are working time.

    A day is a workday if it is Monday–Friday and not a holiday, or if it is a make-up workday (调休上班日, usually a
    weekend day). Working time on a workday is the half-open interval [work_start, work_end) in local time.
    """

    def __init__(self, holidays: Iterable[date] = (), makeup_workdays: Iterable[date] = (),
                 work_start: time = time(8, 30), work_end: time = time(17, 30),
                 timezone: str = "Asia/Shanghai"):
        self.holidays = frozenset(holidays)
        self.makeup_workdays = frozenset(makeup_workdays)
        both = self.holidays & self.makeup_workdays
        if both:
            raise ValueError(f"dates are both holidays and make-up workdays: {sorted(d.isoformat() for d in both)}")
        if not work_start < work_end:
            raise ValueError("work_start must be earlier than work_end")
        self.work_start = work_start
        self.work_end = work_end
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)

    def __repr__(self):
        return (f"WorkCalendar(timezone={self.timezone!r}, work={self.work_start:%H:%M}-{self.work_end:%H:%M}, "
                f"holidays={len(self.holidays)}, makeup_workdays={len(self.makeup_workdays)})")

    # ---- construction from configuration -------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, section: Mapping) -> WorkCalendar:
        """Build from a settings section such as the `calendar:` key of config/calendar.yaml.

        `years` maps a year (int or str) to {"holidays": [...], "makeup_workdays": [...]} of ISO date strings (or
        dates, as YAML parses unquoted ISO dates). A date filed under the wrong year is rejected: that is nearly
        always a typo that would otherwise silently shift a deadline.
        """
        section = section or {}
        holidays: set[date] = set()
        makeup: set[date] = set()
        for year_key, year_section in (section.get("years") or {}).items():
            year = int(year_key)
            year_section = year_section or {}
            for target, key in ((holidays, "holidays"), (makeup, "makeup_workdays")):
                for value in year_section.get(key) or ():
                    day = _parse_date(value)
                    if day.year != year:
                        raise ValueError(f"{key} date {day.isoformat()} is listed under year {year}")
                    target.add(day)
        return cls(holidays, makeup,
                   work_start=_parse_time(section.get("work_start", "08:30")),
                   work_end=_parse_time(section.get("work_end", "17:30")),
                   timezone=section.get("timezone") or "Asia/Shanghai")

    # ---- days ----------------------------------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        if d in self.makeup_workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def next_workday(self, d: date) -> date:
        """The first workday strictly after `d`."""
        for _ in range(_MAX_SCAN_DAYS):
            d += timedelta(days=1)
            if self.is_workday(d):
                return d
        raise ValueError("no workday found within ten years; check the calendar configuration")

    @property
    def workday_hours(self) -> float:
        """Length of one working day in hours (9.0 for 08:30–17:30)."""
        return (_seconds(self.work_end) - _seconds(self.work_start)) / 3600

    # ---- conversions ---------------------------------------------------------------------------------------------

    def to_local(self, utc: datetime) -> datetime:
        """Naive UTC (or aware) → naive local wall-clock time."""
        return _as_aware_utc(utc).astimezone(self._zone).replace(tzinfo=None)

    def to_utc(self, local: datetime) -> datetime:
        """Naive local wall-clock time → naive UTC."""
        return local.replace(tzinfo=self._zone).astimezone(dt_timezone.utc).replace(tzinfo=None)

    def _period(self, d: date) -> tuple[datetime, datetime]:
        """The working period of local day `d` as naive UTC instants [start, end)."""
        return (self.to_utc(datetime.combine(d, self.work_start)),
                self.to_utc(datetime.combine(d, self.work_end)))

    def is_working_time(self, instant: datetime) -> bool:
        local = self.to_local(instant)
        return self.is_workday(local.date()) and self.work_start <= local.time() < self.work_end

    # ---- arithmetic ----------------------------------------------------------------------------------------------

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant at which `hours` working hours have elapsed since `start` (naive UTC in and out).

        Counting begins at `start` if it is working time, otherwise at the start of the next working period. When the
        hours run out exactly at the end of a working period the result is that end (e.g. 17:30), not the next
        morning: both are the same point in working time and the end of the day reads better as a deadline.
        With 0 hours the result is `start` moved to the next working instant.
        """
        if hours < 0:
            raise ValueError("hours must not be negative")
        remaining = timedelta(hours=hours)
        current = _as_naive_utc(start)
        day = self.to_local(current).date()
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_workday(day):
                period_start, period_end = self._period(day)
                current = max(current, period_start)
                if current < period_end:
                    available = period_end - current
                    if remaining <= available:
                        return current + remaining
                    remaining -= available
                    current = period_end
            day += timedelta(days=1)
        raise ValueError("deadline lies more than ten years ahead; check the calendar configuration")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """`days` whole working days after `start` (naive UTC in and out).

        Definition: if `start` is working time, the result is the same local time of day on the `days`-th workday
        after start's local date (Friday 10:00 + 1 → Monday 10:00, holidays skipped, make-up days counted).
        If `start` is outside working time it is first clamped to the working-time position it stands at, and the
        result is the end of a working day: a ticket filed on Saturday or at 20:00 on Friday with one working day is
        due Monday at work_end; filed at 07:00 Tuesday it is due Tuesday at work_end. In every case exactly
        `days` × workday_hours working hours lie between start and the result. 0 days returns the next working
        instant, like `add_working_hours(start, 0)`.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        start = _as_naive_utc(start)
        if days == 0 or not self.is_working_time(start):
            # Outside working time the same-time-of-day rule has no time of day to keep; counting whole days of
            # working time lands exactly on a work_end boundary, which add_working_hours reports as work_end.
            return self.add_working_hours(start, days * self.workday_hours)
        local = self.to_local(start)
        day = local.date()
        for _ in range(days):
            day = self.next_workday(day)
        return self.to_utc(datetime.combine(day, local.time()))

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours inside [a, b) (naive UTC); 0 if b <= a."""
        a, b = _as_naive_utc(a), _as_naive_utc(b)
        if b <= a:
            return 0.0
        total = timedelta()
        day = self.to_local(a).date()
        last = self.to_local(b).date()
        while day <= last:
            if self.is_workday(day):
                period_start, period_end = self._period(day)
                overlap = min(b, period_end) - max(a, period_start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds() / 3600


def load_default_calendar(path: Path | str | None = None) -> WorkCalendar:
    """The calendar from config/calendar.yaml (top-level key `calendar:`), or from `path`."""
    import yaml  # imported here so the pure-rule modules stay importable without PyYAML

    with open(path or DEFAULT_CALENDAR_PATH, encoding="utf-8") as fh:
        document = yaml.safe_load(fh) or {}
    return WorkCalendar.from_settings(document.get("calendar") or {})


# ---- helpers -----------------------------------------------------------------------------------------------------

def _as_aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt_timezone.utc)
    return value.astimezone(dt_timezone.utc)


def _as_naive_utc(value: datetime) -> datetime:
    return _as_aware_utc(value).replace(tzinfo=None)


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _parse_time(value) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int):
        # YAML 1.1 reads an unquoted 8:30 as the base-60 integer 510; refuse rather than guess.
        raise ValueError(f"working time {value!r} must be a quoted 'HH:MM' string")
    return time.fromisoformat(str(value).strip())
