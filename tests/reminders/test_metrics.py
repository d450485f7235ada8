"""Channel figures on a small hand-made history, through the database as the listener records it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.reminders.metrics import ChannelDayFigures, DayWindow, channel_day_figures, day_figures
from bot.reminders.record import mark_deleted, record_message
from bot.store.db import Database
from bot.store.models import AuthorKind, ChannelMessage, Critique

CUSTOMER, TEAM, BOT = AuthorKind.customer, AuthorKind.team, AuthorKind.bot
TEAM_ID, CHANNEL = "T1", "C-support"
DAY = DayWindow.of(date(2026, 11, 23), ZoneInfo("UTC"))
FOUR_HOURS = timedelta(hours=4)
AS_OF = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def at(clock: str, day: int = 23) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(2026, 11, day, hours, minutes, tzinfo=UTC)


def ts(moment: datetime) -> str:
    return f"{int(moment.timestamp())}.000000"


# (posted, thread root posted or None for a root, user, kind, deleted); each line says why.
HISTORY = [
    (at("23:30", 22), None, "U0", CUSTOMER, False),  # opened the day before: not this day's
    (at("08:00", 23), at("23:30", 22), "A1", TEAM, False),
    (at("08:10"), None, "U8", CUSTOMER, True),  # deleted root: not a thread
    # A: bot auto-reply and a deleted reply are no response; first response after 20 min.
    (at("09:00"), None, "U1", CUSTOMER, False),
    (at("09:05"), at("09:00"), "B1", BOT, False),
    (at("09:10"), at("09:00"), "A1", TEAM, True),
    (at("09:20"), at("09:00"), "A2", TEAM, False),
    (at("09:50"), at("09:00"), "U1", CUSTOMER, False),  # after the response: not coming back
    # B: a follow-up after 5 min is not coming back, a deleted one neither; answered in 60 min.
    (at("10:00"), None, "U2", CUSTOMER, False),
    (at("10:05"), at("10:00"), "U2", CUSTOMER, False),
    (at("10:40"), at("10:00"), "U2", CUSTOMER, True),
    (at("11:00"), at("10:00"), "A1", TEAM, False),
    # C: the customer comes back after an hour; answered after 5 h (unanswered after 4 h).
    (at("12:00"), None, "U3", CUSTOMER, False),
    (at("13:00"), at("12:00"), "U3", CUSTOMER, False),
    (at("17:00"), at("12:00"), "A2", TEAM, False),
    # A team announcement and a bot post are not customer threads.
    (at("14:00"), None, "A1", TEAM, False),
    (at("14:30"), at("14:00"), "U6", CUSTOMER, False),
    (at("15:00"), None, "B1", BOT, False),
    # D: never answered; its customer opens E two hours later (coming back by a new thread).
    (at("20:00"), None, "U4", CUSTOMER, False),
    (at("22:00"), None, "U4", CUSTOMER, False),
    # F: answered after midnight, 90 min: still this day's thread.
    (at("23:00"), None, "U5", CUSTOMER, False),
    (at("00:30", 24), at("23:00"), "A1", TEAM, False),
    # L: 2 h 10 min old at AS_OF, not answered yet: too early to call it unanswered.
    (at("23:50"), None, "U7", CUSTOMER, False),
    (at("01:00", 24), None, "U9", CUSTOMER, False),  # the next day's
]

EXPECTED = ChannelDayFigures(
    channel_id=CHANNEL,
    day=date(2026, 11, 23),
    threads_opened=7,  # A B C D E F L
    median_first_response=timedelta(minutes=75),  # of 20, 60, 90, 300 min
    p90_first_response=timedelta(minutes=300),  # nearest rank: the 4th of 4
    unanswered=3,  # C (after 5 h), D, E
    repeat_customers=2,  # C (same thread), D (new thread E)
    critiques=2,
)


def _record_history(db: Database) -> None:
    assert len({posted for posted, *_ in HISTORY}) == len(HISTORY), "a ts is unique per channel"
    with db.session() as session:
        for posted, root, user, kind, _deleted in HISTORY:
            record_message(
                session,
                team_id=TEAM_ID,
                channel_id=CHANNEL,
                ts=ts(posted),
                thread_ts=None if root is None else ts(root),
                user_id=user,
                author_kind=kind,
            )
        for posted, *_, deleted in HISTORY:
            if deleted:
                mark_deleted(
                    session,
                    team_id=TEAM_ID,
                    channel_id=CHANNEL,
                    ts=ts(posted),
                    deleted_at=posted + timedelta(minutes=1),
                )
        for minute, message in ((1, at("09:20")), (2, at("11:00"))):
            session.add(_critique(at(f"18:0{minute}"), ts(message)))
        session.add(_critique(at("18:00", 24), ts(at("17:00"))))  # the next day's


def _critique(created: datetime, message_ts: str) -> Critique:
    return Critique(
        team_id=TEAM_ID,
        channel_id=CHANNEL,
        message_ts=message_ts,
        engine="offline",
        apologize=1,
        sympathize=1,
        responsibility=1,
        act=1,
        overall=3,
        created_at=created,
    )


def test_figures_of_a_hand_made_day(database: Database) -> None:
    _record_history(database)
    with database.session() as session:
        figures = channel_day_figures(
            session, TEAM_ID, CHANNEL, DAY, as_of=AS_OF, unanswered_after=FOUR_HOURS
        )
    assert figures == EXPECTED


def test_an_edit_does_not_move_a_response(database: Database) -> None:
    _record_history(database)
    with database.session() as session:
        record_message(
            session,
            team_id=TEAM_ID,
            channel_id=CHANNEL,
            ts=ts(at("09:20")),
            thread_ts=ts(at("09:00")),
            user_id="A2",
            author_kind=TEAM,
            edited_at=at("12:00"),
        )
        figures = channel_day_figures(
            session, TEAM_ID, CHANNEL, DAY, as_of=AS_OF, unanswered_after=FOUR_HOURS
        )
    assert figures == EXPECTED


def test_recording_is_idempotent_and_keeps_the_first_deletion(database: Database) -> None:
    values = dict(
        team_id=TEAM_ID,
        channel_id=CHANNEL,
        ts="1700000000.000100",
        thread_ts=None,
        user_id="U1",
        author_kind=CUSTOMER,
    )
    with database.session() as session:
        assert record_message(session, **values)
        assert not record_message(session, **values)
        assert record_message(session, **values, edited_at=at("10:00")) is False
        assert mark_deleted(
            session,
            team_id=TEAM_ID,
            channel_id=CHANNEL,
            ts="1700000000.000100",
            deleted_at=at("11:00"),
        )
        mark_deleted(
            session,
            team_id=TEAM_ID,
            channel_id=CHANNEL,
            ts="1700000000.000100",
            deleted_at=at("12:00"),
        )
        assert not mark_deleted(
            session, team_id=TEAM_ID, channel_id=CHANNEL, ts="1.000000", deleted_at=at("12:00")
        )
    with database.session() as session:
        (row,) = session.query(ChannelMessage).all()
    assert row.thread_ts == row.ts == "1700000000.000100"
    assert row.posted_at == datetime(2023, 11, 14, 22, 13, 20, 100, tzinfo=UTC)
    assert (row.edited_at, row.deleted_at) == (at("10:00"), at("11:00"))


def test_no_customer_threads_means_no_times() -> None:
    figures = day_figures(CHANNEL, DAY, [], as_of=AS_OF, unanswered_after=FOUR_HOURS)
    assert figures == ChannelDayFigures(CHANNEL, DAY.day, 0, None, None, 0, 0, 0)
    assert not figures.has_activity


def test_a_day_in_a_zone_with_daylight_saving_time_has_23_hours() -> None:
    window = DayWindow.of(date(2026, 3, 29), ZoneInfo("Europe/Berlin"))
    assert window.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert window.end - window.start == timedelta(hours=23)
