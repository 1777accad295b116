"""The live progress line: its phase, count, rate and time left; redrawn in place with a
carriage return; erased with an escape code, or with spaces when escapes are off; erased
before a log record; listings that overlap add up on one line."""

from __future__ import annotations

import logging

import pytest

from reconciler.core.output import LogHandler
from reconciler.render.progress import ListingShown, LiveLine, Tally
from support.clock import FakeClock


def test_a_tally_names_its_phase_count_rate_and_time_left(
    capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    line = LiveLine(columns=120)
    tally = Tally(line, "applying", 305, clock.monotonic)
    assert tally.text(clock.monotonic()) == "applying [....................] 0/305"
    for _ in range(53):
        tally.advance()
    # No rate from the first burst: it would promise a time it cannot keep.
    assert tally.text(clock.monotonic()) == "applying [###.................] 53/305"
    clock.advance(4.0)
    assert tally.text(clock.monotonic()) == (
        "applying [###.................] 53/305  13.2/s  ETA 0:19"
    )
    clock.advance(3600.0)
    assert tally.text(clock.monotonic()).endswith(" 0.9/min  ETA 4:45:36")
    assert capsys.readouterr().err.endswith("\r" + "applying [###.................] 53/305\x1b[K")


def test_each_draw_starts_with_a_carriage_return_and_erases_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with LiveLine(columns=20) as line:
        line.draw("listing views 1/2")
        line.draw("a much longer line than the terminal is wide")
    err = capsys.readouterr().err
    assert err == "\rlisting views 1/2\x1b[K\ra much longer line \x1b[K\r\x1b[K"


def test_without_escapes_spaces_erase_and_no_escape_is_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with LiveLine(escapes=False, columns=80) as line:
        line.draw("listing views 10/20")
        line.draw("short")
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert err == "\rlisting views 10/20\rshort" + " " * 14 + "\r" + " " * 5 + "\r"


def test_nothing_drawn_nothing_erased(capsys: pytest.CaptureFixture[str]) -> None:
    with LiveLine(columns=80) as line:
        line.clear()
    assert capsys.readouterr().err == ""


def test_a_log_record_erases_the_line_first(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("reconciler")
    logger.handlers[:] = [LogHandler()]  # the conftest restores the logger afterwards
    with LiveLine(columns=80) as line:
        line.draw("listing views 1/2")
        logger.warning("ignoring 2 listed snapshots")
    logger.warning("after the line")
    err = capsys.readouterr().err
    assert err == ("\rlisting views 1/2\x1b[K\r\x1b[Kignoring 2 listed snapshots\nafter the line\n")


def test_listings_that_overlap_add_up_and_the_line_goes_when_all_are_done(
    capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    shown = ListingShown(LiveLine(columns=80), clock.monotonic)
    shown.started(2)
    shown.started(0)  # an environment with nothing to list draws nothing
    shown.started(1)
    for _ in range(2):
        clock.advance(1.0)
        shown.listed()
    clock.advance(1.0)
    shown.listed()
    shown.started(4)  # a later listing (a re-plan) counts from zero
    assert capsys.readouterr().err == (
        "\rlisting views [....................] 0/2\x1b[K"
        "\rlisting views [....................] 0/3\x1b[K"
        "\rlisting views [######..............] 1/3  1.0/s  ETA 0:02\x1b[K"
        "\rlisting views [#############.......] 2/3  1.0/s  ETA 0:01\x1b[K"
        "\r\x1b[K"
        "\rlisting views [....................] 0/4\x1b[K"
    )


def test_listing_redraws_at_most_ten_times_a_second(
    capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    shown = ListingShown(LiveLine(columns=80), clock.monotonic)
    shown.started(100)
    for _ in range(50):
        shown.listed()  # all at one instant: no redraw but the first
    clock.advance(0.1)
    shown.listed()
    draws = capsys.readouterr().err.count("\r")
    assert draws == 2
