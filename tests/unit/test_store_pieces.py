"""The store's pure pieces: chunk codec, calendar buckets, filters, ids."""

from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from selfdata.errors import CryptoError, MalformedQuery
from selfdata.ids import is_valid_id, new_id, new_ids
from selfdata.store.buckets import boundaries
from selfdata.store.codec import decode_chunk, encode_chunk
from selfdata.store.query import Filter, decode_cursor


@given(
    st.lists(st.integers(-(2**40), 2**40), unique=True, min_size=1, max_size=300).map(sorted),
    st.integers(1, 4),
    st.data(),
)
def test_chunk_codec_round_trips(ts: list[int], ncols: int, data: st.DataObject) -> None:
    values = data.draw(
        hnp.arrays(np.float64, (len(ts), ncols), elements=st.floats(allow_infinity=False))
    )
    t2, v2 = decode_chunk(encode_chunk(np.array(ts, dtype=np.int64), values))
    assert t2.tolist() == ts
    np.testing.assert_array_equal(v2, values)


def test_chunk_codec_compresses_regular_readings() -> None:
    ts = np.arange(0, 31 * 86400, 1800, dtype=np.int64)
    values = np.round(np.random.default_rng(0).uniform(100, 900, ts.shape[0]))
    assert len(encode_chunk(ts, values.reshape(-1, 1))) < ts.shape[0] * 16 / 3
    with pytest.raises(CryptoError):
        decode_chunk(b"garbage")


def test_day_boundaries_are_local_midnights() -> None:
    paris = ZoneInfo("Europe/Paris")
    start = int(datetime(2025, 3, 29, 12, tzinfo=paris).timestamp())
    end = int(datetime(2025, 4, 1, tzinfo=paris).timestamp())
    edges = boundaries("day", start, end, "Europe/Paris")
    assert [datetime.fromtimestamp(int(e), paris).isoformat() for e in edges] == [
        "2025-03-29T00:00:00+01:00",
        "2025-03-30T00:00:00+01:00",
        "2025-03-31T00:00:00+02:00",
    ]
    assert np.diff(edges).tolist() == [86400, 82800]
    months = boundaries(
        "month", start, int(datetime(2025, 6, 1, tzinfo=paris).timestamp()), "Europe/Paris"
    )
    assert len(months) == 3
    years = boundaries(
        "year", start, int(datetime(2027, 1, 1, tzinfo=paris).timestamp()), "Europe/Paris"
    )
    assert len(years) == 2


def test_hour_boundaries_in_a_half_hour_zone() -> None:
    start = int(datetime(2025, 1, 1, tzinfo=ZoneInfo("Asia/Kolkata")).timestamp())
    edges = boundaries("hour", start, start + 3 * 3600, "Asia/Kolkata")
    assert all(datetime.fromtimestamp(int(e), ZoneInfo("Asia/Kolkata")).minute == 0 for e in edges)


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("amount<-10", {"amount": "-42.50"}, True),
        ("amount<-10", {"amount": "-2.50"}, False),
        ("amount>=-42.5", {"amount": "-42.50"}, True),
        ("category=groceries", {"category": "groceries"}, True),
        ("category!=groceries", {"category": "leisure"}, True),
        ("category!=groceries", {}, True),
        ("category=groceries", {}, False),
        ("label~carrefour", {"label": "CB CARREFOUR LYON"}, True),
        ("counterparty?", {"counterparty": None}, False),
        ("address.locality=Lyon", {"address": {"locality": "Lyon"}}, True),
        ("booked_on>=2024-03-01", {"booked_on": "2024-03-28"}, True),
        ("all_day=true", {"all_day": True}, True),
        ("emails~example.org", {"emails": [{"value": "a@example.org"}]}, True),
    ],
)
def test_filters(text: str, data: dict[str, object], expected: bool) -> None:
    assert Filter.parse(text).matches(data) is expected


def test_ids_sort_by_time_and_have_one_shape() -> None:
    early, late = new_id(1_000), new_id(2_000)
    assert early < late and is_valid_id(early) and not is_valid_id(early.lower() + "!")
    batch = new_ids(1000, 5_000)
    assert len(set(batch)) == 1000 and all(is_valid_id(i) for i in batch)


@given(st.text(max_size=40))
def test_cursor_decoding_never_crashes(text: str) -> None:
    with contextlib.suppress(MalformedQuery):
        decode_cursor(text)
