"""The poller runs every 30 minutes from 08:00 to 20:00 inclusive, Monday to Friday."""

from datetime import datetime, timedelta

from croniter import croniter

from ingestion.tasks import SCHEDULES


def fires(moment: datetime) -> bool:
    return any(croniter.match(spec.cron, moment) for spec in SCHEDULES)


def test_schedule_covers_every_half_hour_from_8_to_20_on_weekdays_only():
    expected, actual = [], []
    moment = datetime(2026, 11, 23)  # a Monday
    while moment < datetime(2026, 11, 30):
        if fires(moment):
            actual.append(moment)
        if (
            moment.weekday() < 5
            and moment.minute in (0, 30)
            and (8, 0) <= (moment.hour, moment.minute) <= (20, 0)
        ):
            expected.append(moment)
        moment += timedelta(minutes=1)
    assert actual == expected
    assert len(actual) == 5 * 25
    assert {spec.func for spec in SCHEDULES} == {"ingestion.tasks.poll_ftp"}
