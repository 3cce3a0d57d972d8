"""`sdbridge schedule`: a foreground service that runs the configured jobs (APScheduler 3).

Each job is a `run` (pull -> check -> reports -> history). One run at a time
(`max_instances=1`, and the store's own lock), missed runs coalesce into one, and a run
missed by less than the grace time still starts. SIGTERM or SIGINT stops the service after
the run in progress has finished: runs are never cut in half by a stop.

Cron expressions are read as crontab reads them, on the wall clock of the schedule's time
zone (see `sdbridge.cron`): a nightly job at an hour that the autumn DST change repeats
(02:00 in Europe/Oslo) fires once, not twice.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from sdbridge.config import Config, ScheduleJob
from sdbridge.cron import cron_trigger
from sdbridge.errors import ConfigError, SdbridgeError

log = logging.getLogger("sdbridge.schedule")
EXECUTOR = ThreadPoolExecutor(max_workers=1)
"""One worker: runs never overlap, and stopping waits for the one in progress."""


def trigger_for(job: ScheduleJob, timezone: tzinfo) -> Any:
    if job.cron is not None:
        return cron_trigger(job.cron, timezone)
    return IntervalTrigger(seconds=job.interval_seconds, timezone=timezone)


def run_job(config: Config, job: ScheduleJob, trigger: str | None = None) -> None:
    """One scheduled run (recorded as `schedule:<job>`, or as `trigger`: `run-now:<job>` for
    the run `--run-now` starts); a user error (bad file, source down) is logged, not raised,
    so the service keeps going and tries again at the next fire time."""
    from sdbridge.runner import run_once

    try:
        run_once(config, trigger=trigger or f"schedule:{job.name}", full=job.full)
    except SdbridgeError as exc:
        log.error(json.dumps({"event": "run", "job": job.name, "status": "failed", "error": str(exc)}))


def build_scheduler(config: Config) -> BlockingScheduler:
    if not config.schedule.jobs:
        raise ConfigError(
            "no schedule in the config",
            hint='add e.g.  schedule: {cron: "0 2 * * *", timezone: "Europe/Oslo"}',
        )
    zone = ZoneInfo(config.schedule.timezone)
    scheduler = BlockingScheduler(timezone=zone, executors={"default": EXECUTOR})
    for job in config.schedule.jobs:
        scheduler.add_job(
            run_job,
            trigger=trigger_for(job, zone),
            args=(config, job),
            id=job.name,
            name=job.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=config.schedule.misfire_grace_seconds,
        )

    def on_error(event: JobExecutionEvent) -> None:
        log.error(json.dumps({"event": "run", "job": event.job_id, "status": "failed", "error": repr(event.exception)}))

    def on_done(event: JobExecutionEvent) -> None:
        job = scheduler.get_job(event.job_id)
        if job is not None:
            log.info(json.dumps({"event": "scheduled", "job": job.name, "next": _next_fire(job)}))

    scheduler.add_listener(on_error, EVENT_JOB_ERROR)
    scheduler.add_listener(on_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    return scheduler


def serve(config: Config, *, run_now: bool = False) -> None:
    """Block until SIGTERM/SIGINT; then let the run in progress finish and return."""
    scheduler = build_scheduler(config)

    def stop(signum: int, _frame: Any) -> None:
        log.info(json.dumps({"event": "stopping", "signal": signal.Signals(signum).name}))
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if run_now:
        first = config.schedule.jobs[0]
        scheduler.add_job(
            run_job,
            args=(config, first, f"run-now:{first.name}"),
            id=f"{first.name}-now",
            name="run-now",
            max_instances=1,
        )
    for job in scheduler.get_jobs():
        log.info(json.dumps({"event": "scheduled", "job": job.name, "next": _next_fire(job)}))
    scheduler.start()  # returns once stop() has shut the scheduler down
    EXECUTOR.shutdown(wait=True)  # the run in progress finishes before the process exits
    log.info(json.dumps({"event": "stopped"}))


def _next_fire(job: Any) -> str | None:
    """When the job fires next: its scheduled time once the scheduler runs, else what its
    trigger says from now (a job added before `start()` has no run time yet)."""
    when = getattr(job, "next_run_time", None)
    if when is None:
        when = job.trigger.get_next_fire_time(None, datetime.now(getattr(job.trigger, "timezone", UTC)))
    return when.isoformat() if when else None


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("sdbridge")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
