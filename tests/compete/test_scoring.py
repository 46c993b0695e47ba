"""The pure competition rules, against independent references where one exists."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from scipy.stats import binomtest

from tuneproof.compete import scoring

IDS = ["a", "b", "c", "d"]


def test_a_valid_file_parses_with_bom_crlf_and_blank_lines() -> None:
    data = "\ufeffid,label\r\na,1\r\nb,0\r\n\r\nc,1\r\nd,0\r\n".encode()
    parsed = scoring.parse_submission(data, IDS, ["0", "1"])
    assert parsed.labels == {"a": "1", "b": "0", "c": "1", "d": "0"}


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"id,label\na,1\nb,0\nc,1\n", 0, "1 test ids have no row"),
        (b"id,label\na,1\nb,0\nc,1\nd,0\na,1\n", 6, "repeats line 2"),
        (b"id,label\na,1\nb,0\nc,1\nd,0\nz,1\n", 6, "not in test.csv"),
        (b"id,label\na,2\nb,0\nc,1\nd,0\n", 2, "label '2' is not one of 0, 1"),
        (b"id,label\na,1\nb,0\nc\xe9,1\n", 4, "not UTF-8"),
        (b"", 0, "empty"),
        (b"id,label\n", 0, "4 test ids have no row"),
        (b"id,pred\na,1\n", 1, "header must be `id,label`"),
        (b"id,label\na,1,extra\n", 2, "expected 2 columns"),
    ],
)
def test_malformed_files_name_their_line(data: bytes, line: int, words: str) -> None:
    with pytest.raises(scoring.SubmissionError) as err:
        scoring.parse_submission(data, IDS, ["0", "1"])
    assert any(e.line == line and words in e.message for e in err.value.errors), err.value.errors


def test_size_cap() -> None:
    with pytest.raises(scoring.SubmissionError, match="limit"):
        scoring.parse_submission(b"x" * 101, IDS, ["0", "1"], max_bytes=100)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (271, 300), (1, 1)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = scoring.wilson(k, n)
    assert lo == pytest.approx(ref.low, abs=1e-9) and hi == pytest.approx(ref.high, abs=1e-9)


T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)


def entry(i: int, team: str, public: float, private: float, minutes: int, selected: bool = False):
    return scoring.Entry(i, team, T0 + timedelta(minutes=minutes), public, private, selected)


def test_ties_rank_the_earlier_submission_first() -> None:
    rows = scoring.rank(
        [entry(1, "late", 0.8, 0.8, 5), entry(2, "early", 0.8, 0.8, 1)], "public", 2
    )
    assert [r.team for r in rows] == ["early", "late"] and [r.rank for r in rows] == [1, 2]


def test_private_uses_finals_default_two_best_public() -> None:
    # the team's best private score is on a submission outside its two best public ones
    subs = [
        entry(1, "t", 0.90, 0.70, 1),
        entry(2, "t", 0.85, 0.72, 2),
        entry(3, "t", 0.60, 0.95, 3),
    ]
    (row,) = scoring.rank(subs, "private", 2)
    assert row.entry.submission_id == 2 and row.value == 0.72
    chosen = [*subs[:2], entry(3, "t", 0.60, 0.95, 3, selected=True)]
    (row,) = scoring.rank(chosen, "private", 2)
    assert row.entry.submission_id == 3  # an explicit selection wins


def test_ladder_hides_a_one_row_probe_and_releases_a_real_gain() -> None:
    answers = {str(i): "1" for i in range(300)}
    best = {str(i): ("1" if i < 240 else "0") for i in range(300)}  # 0.80
    probe = {**best, "250": "1"}  # one more right: within the noise
    real = {str(i): ("1" if i < 285 else "0") for i in range(300)}  # 0.95
    assert not scoring.ladder_release(probe, best, answers)
    assert scoring.ladder_release(real, best, answers)
    assert scoring.ladder_release(probe, None, answers)  # a first submission is always shown


def test_quota_resets_at_utc_midnight() -> None:
    late = datetime(2026, 12, 1, 23, 59, 30, tzinfo=timezone.utc)
    assert scoring.next_utc_midnight(late) == datetime(2026, 12, 2, tzinfo=timezone.utc)
    other_tz = late.astimezone(timezone(timedelta(hours=5)))
    assert scoring.day_start(other_tz) == datetime(2026, 12, 1, tzinfo=timezone.utc)
