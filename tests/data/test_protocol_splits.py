"""rPPG-Toolbox's fraction ranges and the published UBFC-rPPG and PURE protocols (datasets.md §2.5, §3.4, §4.7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.data.splits import PURE_PROTOCOLS, UBFC_RPPG_PROTOCOLS, fraction_split
from rppgblocks.data.synthetic import PURE_TASKS, UBFC_RPPG_SUBJECTS


@given(ids=st.sets(st.integers(0, 500), min_size=1, max_size=60), cut=st.floats(0.0, 1.0))
def test_adjacent_ranges_partition_the_sorted_ids(ids: set[int], cut: float) -> None:
    head, tail = fraction_split(ids, 0.0, cut), fraction_split(list(ids)[::-1], cut, 1.0)
    assert head + tail == tuple(sorted(ids))
    n = len(ids)
    assert len(head) == int(cut * n)  # the toolbox's int(begin * n) ... int(end * n) positions


def test_the_toolbox_pure_split_and_the_protocol_tables() -> None:
    assert fraction_split(range(1, 11), 0.0, 0.8) == PURE_PROTOCOLS["toolbox_train_val"][0]
    assert fraction_split(range(1, 11), 0.8, 1.0) == PURE_PROTOCOLS["toolbox_train_val"][1]
    assert fraction_split(range(1, 11), 0.0, 0.6) == PURE_PROTOCOLS["intra_60_40"][0]
    assert len(PURE_TASKS) == 6
    assert fraction_split(UBFC_RPPG_SUBJECTS, 0.0, 0.8) == UBFC_RPPG_PROTOCOLS["toolbox_train_val"][0]
    assert UBFC_RPPG_PROTOCOLS["first30_last12"][1] == tuple(range(38, 50))
    for table, everyone in ((PURE_PROTOCOLS, set(range(1, 11))), (UBFC_RPPG_PROTOCOLS, set(UBFC_RPPG_SUBJECTS))):
        for name, (train, test) in table.items():
            assert set(train).isdisjoint(test), name
            assert set(train) | set(test) == everyone, name


@pytest.mark.parametrize(("begin", "end"), [(-0.1, 0.5), (0.5, 0.4), (0.0, 1.5), (float("nan"), 1.0)])
def test_bad_ranges(begin: float, end: float) -> None:
    with pytest.raises(ValueError, match="begin, end: expected 0 <= begin <= end <= 1"):
        fraction_split(range(5), begin, end)


def test_bad_ids() -> None:
    with pytest.raises(ValueError, match="ids: expected integer ids"):
        fraction_split([1, 2.5], 0.0, 1.0)  # type: ignore[list-item]
