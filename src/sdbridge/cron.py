"""Crontab expressions as crontab users mean them, on APScheduler 3's cron trigger.

- Day of week counts from Sunday = 0 (7 is Sunday too), with ranges, lists and steps read as
  crontab reads them (`*/2` = Sun, Tue, Thu, Sat). croniter parses the field; the days go
  to APScheduler by name, because APScheduler counts from Monday = 0.
- Times are read on the wall clock of the schedule's zone, and an hour the autumn DST change
  repeats fires once (`WallClockCronTrigger`, written here: APScheduler fires it twice).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from apscheduler.triggers.cron import CronTrigger
from croniter import croniter
from croniter.croniter import CroniterError


class WallClockCronTrigger(CronTrigger):
    """A CronTrigger that fires once per wall-clock time: when the clocks go back, the
    repeated hour does not fire a second time."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        candidate = super().get_next_fire_time(previous_fire_time, now)
        if candidate is not None and previous_fire_time is not None:
            zone = self.timezone
            if candidate.astimezone(zone).replace(tzinfo=None) == previous_fire_time.astimezone(zone).replace(
                tzinfo=None
            ):
                candidate = super().get_next_fire_time(candidate, candidate)
        return candidate


DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def crontab_day_of_week(expression: str) -> str:
    """The days a crontab day-of-week field means (Sunday = 0 or 7; ranges, lists and steps
    as crontab reads them: `*/2` is Sun, Tue, Thu, Sat), spelled as APScheduler's day names
    (APScheduler counts from Monday = 0, so numbers would be read a day off). croniter parses
    the field."""
    try:
        days = croniter.expand(f"0 0 * * {expression}")[0][4]
    except CroniterError as exc:
        raise ValueError(f"day of week {expression!r}: {exc}") from None
    if days == ["*"]:
        return "*"
    return ",".join(DAY_NAMES[int(day) % 7] for day in days)


def cron_trigger(expression: str, timezone: tzinfo) -> WallClockCronTrigger:
    """The trigger of a five-field crontab expression on the wall clock of `timezone`.
    Raises ValueError for an expression that is not one."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron needs five fields (minute hour day month day-of-week), got {expression!r}")
    minute, hour, day, month, day_of_week = fields
    return WallClockCronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_day_of_week(day_of_week),
        timezone=timezone,
    )
