"""Scheduling helpers: a crontab line, or a systemd service + timer pair, that run `monitor run` at 07:30 Seoul
time on weekdays. The run itself exits at once (exit 0) on a KRX holiday, so the schedule needs no holiday list.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
CRON_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # cron's own order: 0 = Sunday


@dataclass(frozen=True)
class Job:
    executable: Path  # the `monitor` console script of the install
    config: Path
    workdir: Path
    log: Path
    hour: int = 7
    minute: int = 30

    def command(self) -> str:
        return " ".join(
            shlex.quote(str(p)) for p in (self.executable, "run", "--config", self.config, "--log-format", "json")
        )


def cron(job: Job, local_tz: ZoneInfo) -> str:
    """A crontab entry in the machine's own time zone (cron has no portable time-zone setting), with the
    Seoul time it stands for. Korea has no daylight saving; if the machine's zone has, the line says so."""
    monday = _next_monday(job)
    slots = [(monday + timedelta(days=d)).astimezone(local_tz) for d in range(5)]
    hour, minute = slots[0].hour, slots[0].minute
    days = ",".join(sorted({CRON_DAYS[(t.weekday() + 1) % 7] for t in slots}, key=CRON_DAYS.index))
    offsets = {monday.astimezone(local_tz).utcoffset(), (monday + timedelta(days=182)).astimezone(local_tz).utcoffset()}
    dst_note = (
        "# This zone observes daylight saving: re-run `monitor schedule --cron` when the clocks change.\n"
        if len(offsets) > 1
        else ""
    )
    return (
        f"# Korea macro & market monitor: {job.hour:02d}:{job.minute:02d} Asia/Seoul on weekdays "
        f"(= {hour:02d}:{minute:02d} {local_tz.key} on {days}); holidays exit at once.\n"
        f"{dst_note}"
        f"{minute} {hour} * * {days} cd {shlex.quote(str(job.workdir))} && {job.command()} "
        f">> {shlex.quote(str(job.log))} 2>&1\n"
    )


def systemd(job: Job, name: str = "kr-monitor") -> tuple[str, str]:
    """(service unit, timer unit). Persistent=true runs a missed morning as soon as the machine is up."""
    service = f"""[Unit]
Description=Korea macro & market monitor: the daily run
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={job.workdir}
# Keys and the SMTP password: KEY=value lines in a file only you can read (chmod 600).
EnvironmentFile=-{job.workdir / ".env"}
ExecStart={job.command()}
# Exit 1 = done with errors (a source failed, mail not sent): the unit shows as failed in `systemctl --failed`.
TimeoutStartSec=1h
"""
    timer = f"""[Unit]
Description=Run the Korea macro & market monitor before KRX opens

[Timer]
OnCalendar=Mon..Fri *-*-* {job.hour:02d}:{job.minute:02d}:00 Asia/Seoul
Persistent=true
Unit={name}.service

[Install]
WantedBy=timers.target
"""
    return service, timer


def _next_monday(job: Job) -> datetime:
    now = datetime.now(SEOUL)
    monday = (now + timedelta(days=(7 - now.weekday()) % 7 or 7)).replace(
        hour=job.hour, minute=job.minute, second=0, microsecond=0
    )
    return monday
