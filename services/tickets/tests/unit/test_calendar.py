"""Working-time calendar: holidays, make-up workdays (调休) and naive-UTC conversions."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.tickets.domain.calendar import DEFAULT_CALENDAR_PATH, WorkCalendar, load_default_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(y, m, d, hh=0, mm=0):
    """Naive UTC for a Shanghai wall-clock time (UTC+8), so tests read in local time."""
    return datetime(y, m, d, hh, mm) - timedelta(hours=8)


@pytest.fixture(scope="module")
def cal():
    return load_default_calendar()


# ---- the configured holiday schedule -----------------------------------------------------------------------------

def test_default_calendar_file_is_the_repository_config():
    assert DEFAULT_CALENDAR_PATH.name == "calendar.yaml"
    assert DEFAULT_CALENDAR_PATH.parent.name == "config"
    assert DEFAULT_CALENDAR_PATH.exists()


@pytest.mark.parametrize("day", ["2025-01-01", "2025-01-28", "2025-02-04", "2025-04-04", "2025-05-05",
                                 "2025-06-02", "2025-10-01", "2025-10-08",
                                 "2026-01-02", "2026-02-16", "2026-02-23", "2026-04-06", "2026-05-05",
                                 "2026-06-19", "2026-09-25", "2026-10-07"])
def test_holidays_are_not_workdays(cal, day):
    assert not cal.is_workday(date.fromisoformat(day))


@pytest.mark.parametrize("day", ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
                                 "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
                                 "2026-10-10"])
def test_makeup_weekend_days_are_workdays(cal, day):
    d = date.fromisoformat(day)
    assert d.weekday() >= 5
    assert cal.is_workday(d)


def test_holiday_counts_per_year(cal):
    by_year = {2025: 0, 2026: 0}
    for d in cal.holidays:
        by_year[d.year] += 1
    assert by_year == {2025: 28, 2026: 33}
    assert len(cal.makeup_workdays) == 11


def test_all_makeup_workdays_fall_on_weekends(cal):
    assert all(d.weekday() >= 5 for d in cal.makeup_workdays)


def test_ordinary_weekdays_and_weekends(cal):
    assert cal.is_workday(date(2025, 3, 10))       # Monday
    assert not cal.is_workday(date(2025, 3, 8))    # Saturday
    assert not cal.is_workday(date(2025, 3, 9))    # Sunday
    assert cal.is_workday(date(2027, 3, 5))        # an unconfigured year is plain Monday–Friday


# ---- add_working_hours -------------------------------------------------------------------------------------------

def test_friday_afternoon_plus_two_hours_lands_monday_morning(cal):
    # Friday 2025-03-07 16:30 local: one hour left that day, the second on Monday.
    assert cal.add_working_hours(utc(2025, 3, 7, 16, 30), 2) == utc(2025, 3, 10, 9, 30)


def test_deadline_skips_the_spring_festival(cal):
    # Monday 2025-01-27 is the last workday before 春节 (Jan 28 – Feb 4); Feb 5 is the next one.
    assert cal.add_working_hours(utc(2025, 1, 27, 16, 30), 2) == utc(2025, 2, 5, 9, 30)
    assert cal.add_working_hours(utc(2025, 1, 27, 8, 30), 24) == utc(2025, 2, 6, 14, 30)


def test_deadline_skips_national_day(cal):
    # 2025-09-30 (Tue) then 国庆+中秋 Oct 1–8; Oct 9 (Thu) is next.
    assert cal.add_working_hours(utc(2025, 9, 30, 17, 0), 1) == utc(2025, 10, 9, 9, 0)
    # 2026: Oct 1–7 off; Oct 8 (Thu) is a normal workday.
    assert cal.add_working_hours(utc(2026, 9, 30, 17, 0), 1) == utc(2026, 10, 8, 9, 0)


def test_makeup_saturday_counts_as_working_time(cal):
    # Friday 2025-10-10 17:00 + 1h: Saturday Oct 11 is 调休上班.
    assert cal.add_working_hours(utc(2025, 10, 10, 17, 0), 1) == utc(2025, 10, 11, 9, 0)
    # Friday 2026-02-13 17:00 + 1h → make-up Saturday Feb 14; + 10h more skips 春节 to Tuesday Feb 24.
    assert cal.add_working_hours(utc(2026, 2, 13, 17, 0), 1) == utc(2026, 2, 14, 9, 0)
    assert cal.add_working_hours(utc(2026, 2, 13, 17, 0), 10) == utc(2026, 2, 24, 9, 0)


def test_makeup_sunday_counts_when_reported_on_it(cal):
    # Sunday 2025-09-28 10:00 is working time.
    assert cal.is_working_time(utc(2025, 9, 28, 10, 0))
    assert cal.add_working_hours(utc(2025, 9, 28, 10, 0), 2) == utc(2025, 9, 28, 12, 0)


def test_start_outside_working_time_counts_from_next_period(cal):
    assert cal.add_working_hours(utc(2025, 3, 10, 7, 0), 1) == utc(2025, 3, 10, 9, 30)     # before opening
    assert cal.add_working_hours(utc(2025, 3, 10, 20, 0), 1) == utc(2025, 3, 11, 9, 30)    # evening
    assert cal.add_working_hours(utc(2025, 3, 8, 11, 0), 1) == utc(2025, 3, 10, 9, 30)     # Saturday
    assert cal.add_working_hours(utc(2025, 3, 10, 17, 30), 1) == utc(2025, 3, 11, 9, 30)   # at closing


def test_zero_hours_moves_to_next_working_instant(cal):
    assert cal.add_working_hours(utc(2025, 3, 10, 10, 15), 0) == utc(2025, 3, 10, 10, 15)
    assert cal.add_working_hours(utc(2025, 3, 8, 11, 0), 0) == utc(2025, 3, 10, 8, 30)
    assert cal.add_working_hours(utc(2025, 3, 10, 17, 30), 0) == utc(2025, 3, 11, 8, 30)


def test_fractional_hours(cal):
    assert cal.add_working_hours(utc(2025, 3, 10, 9, 0), 0.5) == utc(2025, 3, 10, 9, 30)
    assert cal.add_working_hours(utc(2025, 3, 10, 17, 0), 1.25) == utc(2025, 3, 11, 9, 15)


def test_hours_ending_at_closing_time_give_closing_time(cal):
    assert cal.add_working_hours(utc(2025, 3, 10, 8, 30), 9) == utc(2025, 3, 10, 17, 30)


def test_multi_day_deadline(cal):
    # 80 working hours from Monday 08:30: 8 full days (72h) to Wed of next week 17:30, then 8h into Thursday.
    assert cal.add_working_hours(utc(2025, 3, 10, 8, 30), 80) == utc(2025, 3, 20, 16, 30)


def test_negative_hours_are_refused(cal):
    with pytest.raises(ValueError):
        cal.add_working_hours(utc(2025, 3, 10, 9), -1)


def test_result_is_naive_utc(cal):
    result = cal.add_working_hours(datetime(2025, 3, 10, 1, 0), 1)   # 09:00 local
    assert result.tzinfo is None
    assert result == datetime(2025, 3, 10, 2, 0)


# ---- timezone conversion -----------------------------------------------------------------------------------------

def test_utc_date_differs_from_local_date(cal):
    # Sunday 23:00 UTC is Monday 07:00 in Shanghai: the local Monday's working period applies.
    sunday_night_utc = datetime(2025, 3, 9, 23, 0)
    assert cal.to_local(sunday_night_utc) == datetime(2025, 3, 10, 7, 0)
    assert cal.add_working_hours(sunday_night_utc, 0) == datetime(2025, 3, 10, 0, 30)


def test_working_time_boundaries_in_utc(cal):
    assert not cal.is_working_time(datetime(2025, 3, 10, 0, 29))    # 08:29 local
    assert cal.is_working_time(datetime(2025, 3, 10, 0, 30))        # 08:30 local
    assert cal.is_working_time(datetime(2025, 3, 10, 9, 29))        # 17:29 local
    assert not cal.is_working_time(datetime(2025, 3, 10, 9, 30))    # 17:30 local: end excluded


def test_aware_datetimes_are_accepted_and_results_are_naive_utc(cal):
    aware_local = datetime(2025, 3, 7, 16, 30, tzinfo=SHANGHAI)
    assert cal.add_working_hours(aware_local, 2) == datetime(2025, 3, 10, 1, 30)
    aware_utc = datetime(2025, 3, 7, 8, 30, tzinfo=timezone.utc)
    assert cal.add_working_hours(aware_utc, 2) == datetime(2025, 3, 10, 1, 30)


def test_other_timezone_with_daylight_saving():
    berlin = WorkCalendar([], [], timezone="Europe/Berlin")
    # Winter UTC+1, summer UTC+2.
    assert berlin.add_working_hours(datetime(2025, 1, 6, 0, 0), 0) == datetime(2025, 1, 6, 7, 30)
    assert berlin.add_working_hours(datetime(2025, 7, 7, 0, 0), 0) == datetime(2025, 7, 7, 6, 30)
    # Friday 2025-03-28 before the switch to Monday after it: 2 hours from 16:30 local.
    assert berlin.add_working_hours(datetime(2025, 3, 28, 15, 30), 2) == datetime(2025, 3, 31, 7, 30)


# ---- add_working_days --------------------------------------------------------------------------------------------

def test_working_days_keep_time_of_day(cal):
    assert cal.add_working_days(utc(2025, 3, 7, 10, 0), 1) == utc(2025, 3, 10, 10, 0)     # Fri → Mon
    assert cal.add_working_days(utc(2025, 3, 10, 10, 0), 3) == utc(2025, 3, 13, 10, 0)


def test_working_days_skip_holidays_and_count_makeup_days(cal):
    assert cal.add_working_days(utc(2025, 1, 27, 10, 0), 1) == utc(2025, 2, 5, 10, 0)
    assert cal.add_working_days(utc(2025, 2, 7, 10, 0), 1) == utc(2025, 2, 8, 10, 0)      # make-up Saturday
    assert cal.add_working_days(utc(2026, 2, 13, 10, 0), 2) == utc(2026, 2, 24, 10, 0)


def test_working_days_from_outside_working_time_end_at_closing(cal):
    assert cal.add_working_days(utc(2025, 3, 8, 11, 0), 1) == utc(2025, 3, 10, 17, 30)    # Saturday
    assert cal.add_working_days(utc(2025, 3, 7, 20, 0), 1) == utc(2025, 3, 10, 17, 30)    # Friday evening
    assert cal.add_working_days(utc(2025, 3, 11, 7, 0), 1) == utc(2025, 3, 11, 17, 30)    # before opening
    assert cal.add_working_days(utc(2025, 3, 11, 7, 0), 2) == utc(2025, 3, 12, 17, 30)


def test_zero_and_negative_working_days(cal):
    assert cal.add_working_days(utc(2025, 3, 10, 10, 0), 0) == utc(2025, 3, 10, 10, 0)
    assert cal.add_working_days(utc(2025, 3, 8, 10, 0), 0) == utc(2025, 3, 10, 8, 30)
    with pytest.raises(ValueError):
        cal.add_working_days(utc(2025, 3, 10, 10, 0), -1)


@pytest.mark.parametrize("start", [utc(2025, 3, 7, 10, 0), utc(2025, 3, 8, 11, 0), utc(2025, 1, 27, 12, 0),
                                   utc(2025, 9, 30, 20, 0), utc(2026, 2, 13, 8, 30), utc(2025, 3, 11, 7, 0)])
@pytest.mark.parametrize("days", [1, 2, 5])
def test_working_days_are_whole_days_of_working_time(cal, start, days):
    end = cal.add_working_days(start, days)
    assert cal.working_hours_between(start, end) == pytest.approx(days * cal.workday_hours)


# ---- working_hours_between ---------------------------------------------------------------------------------------

def test_hours_between_simple_cases(cal):
    assert cal.working_hours_between(utc(2025, 3, 10, 9, 0), utc(2025, 3, 10, 11, 30)) == 2.5
    assert cal.working_hours_between(utc(2025, 3, 7, 16, 30), utc(2025, 3, 10, 9, 30)) == 2.0
    assert cal.working_hours_between(utc(2025, 3, 10, 0, 0), utc(2025, 3, 17, 0, 0)) == 45.0


def test_hours_between_over_spring_festival(cal):
    # Jan 26 (make-up Sunday) and Jan 27 then nothing until Feb 5.
    assert cal.working_hours_between(utc(2025, 1, 25, 0, 0), utc(2025, 2, 5, 0, 0)) == 18.0


def test_hours_between_empty_or_reversed(cal):
    assert cal.working_hours_between(utc(2025, 3, 10, 9), utc(2025, 3, 10, 9)) == 0.0
    assert cal.working_hours_between(utc(2025, 3, 10, 12), utc(2025, 3, 10, 9)) == 0.0
    assert cal.working_hours_between(utc(2025, 3, 8, 9), utc(2025, 3, 9, 18)) == 0.0       # weekend


@pytest.mark.parametrize("hours", [0.25, 1, 2, 7.5, 9, 24, 80])
@pytest.mark.parametrize("start", [utc(2025, 1, 27, 16, 30), utc(2025, 9, 26, 12, 0), utc(2026, 2, 13, 17, 10),
                                   utc(2025, 3, 8, 3, 0), utc(2026, 9, 30, 17, 29)])
def test_hours_between_inverts_add_working_hours(cal, start, hours):
    assert cal.working_hours_between(start, cal.add_working_hours(start, hours)) == pytest.approx(hours)


# ---- construction ------------------------------------------------------------------------------------------------

def test_from_settings_accepts_int_and_str_years_and_dates():
    section = {"timezone": "Asia/Shanghai", "work_start": "09:00", "work_end": "18:00",
               "years": {2030: {"holidays": ["2030-01-01"], "makeup_workdays": []},
                         "2031": {"holidays": [date(2031, 1, 1)], "makeup_workdays": ["2031-01-04"]}}}
    cal = WorkCalendar.from_settings(section)
    assert cal.work_start == time(9, 0) and cal.work_end == time(18, 0)
    assert not cal.is_workday(date(2030, 1, 1)) and not cal.is_workday(date(2031, 1, 1))
    assert cal.is_workday(date(2031, 1, 4))           # a Saturday made a workday
    assert cal.workday_hours == 9.0


def test_from_settings_defaults():
    cal = WorkCalendar.from_settings({})
    assert (cal.work_start, cal.work_end, cal.timezone) == (time(8, 30), time(17, 30), "Asia/Shanghai")
    assert cal.holidays == frozenset() and cal.makeup_workdays == frozenset()


def test_from_settings_rejects_a_date_under_the_wrong_year():
    with pytest.raises(ValueError, match="under year 2026"):
        WorkCalendar.from_settings({"years": {2026: {"holidays": ["2025-10-01"]}}})


def test_a_day_cannot_be_holiday_and_makeup_workday():
    with pytest.raises(ValueError):
        WorkCalendar([date(2025, 10, 1)], [date(2025, 10, 1)])


def test_unquoted_yaml_time_is_refused():
    with pytest.raises(ValueError, match="quoted"):
        WorkCalendar.from_settings({"work_start": 510})


def test_working_hours_must_be_a_nonempty_interval():
    with pytest.raises(ValueError):
        WorkCalendar([], [], work_start=time(17, 30), work_end=time(8, 30))


def test_load_calendar_from_another_file(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text('calendar:\n  work_start: "08:00"\n  work_end: "12:00"\n'
                    '  years:\n    2030:\n      holidays: [2030-01-01]\n', encoding="utf-8")
    cal = load_default_calendar(path)
    assert cal.workday_hours == 4.0
    assert not cal.is_workday(date(2030, 1, 1))
