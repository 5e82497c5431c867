from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import given
from hypothesis import strategies as st

from rppgblocks.data.splits import (
    VIPL_HR_FOLDS,
    read_vipl_fold_files,
    subject_exclusive_split,
    vipl_hr_fold_split,
)

# ---------------------------------------------------------------------------------------------- random split


class TestSubjectExclusiveSplit:
    @given(
        ids=st.sets(st.integers(1, 500), min_size=2, max_size=60),
        fraction=st.floats(0.01, 0.99),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_partition(self, ids: set[int], fraction: float, seed: int) -> None:
        train, test = subject_exclusive_split(ids, test_fraction=fraction, seed=seed)
        assert train
        assert test
        assert set(train).isdisjoint(test)
        assert set(train) | set(test) == ids
        assert list(train) == sorted(train)
        assert list(test) == sorted(test)
        assert len(test) == min(
            max(math.floor(fraction * len(ids) + 0.5), 1), len(ids) - 1
        )  # nearest, kept in [1, n-1]
        assert subject_exclusive_split(list(ids), test_fraction=fraction, seed=seed) == (train, test)

    @given(ids=st.sets(st.integers(1, 200), min_size=2, max_size=40), data=st.data())
    def test_n_test(self, ids: set[int], data: st.DataObject) -> None:
        n_test = data.draw(st.integers(1, len(ids) - 1))
        train, test = subject_exclusive_split(ids, n_test=n_test, test_fraction=0.9)  # n_test wins
        assert len(test) == n_test
        assert len(train) == len(ids) - n_test

    def test_input_order_and_duplicates_do_not_matter(self) -> None:
        ids = [5, 3, 9, 1, 7, 2, 8]
        reference = subject_exclusive_split(ids, seed=3)
        assert subject_exclusive_split(sorted(ids), seed=3) == reference
        assert subject_exclusive_split(ids + ids[:3], seed=3) == reference
        assert subject_exclusive_split(np.array(ids), seed=3) == reference

    def test_seed_changes_the_split(self) -> None:
        splits = {subject_exclusive_split(range(1, 41), seed=s)[1] for s in range(10)}
        assert len(splits) > 5

    def test_generator_seed(self) -> None:
        a = subject_exclusive_split(range(20), seed=np.random.default_rng(4))
        b = subject_exclusive_split(range(20), seed=np.random.default_rng(4))
        assert a == b
        rng = np.random.default_rng(4)
        first = subject_exclusive_split(range(20), seed=rng)
        assert first == a
        assert len({subject_exclusive_split(range(20), seed=rng) for _ in range(5)}) > 1  # the generator advances

    def test_two_subjects(self) -> None:
        train, test = subject_exclusive_split([4, 8], test_fraction=0.01)
        assert len(train) == 1
        assert len(test) == 1

    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "match"),
        [
            (([1],), {}, ValueError, "at least 2 distinct"),
            (([3, 3, 3],), {}, ValueError, "at least 2 distinct"),
            (([1, 2, "3"],), {}, ValueError, "integer subject ids"),
            (([1, 2, 3.0],), {}, ValueError, "integer subject ids"),
            (("123",), {}, ValueError, "integer subject ids"),
            (([1, 2, 3],), {"test_fraction": 0.0}, ValueError, "test_fraction"),
            (([1, 2, 3],), {"test_fraction": 1.0}, ValueError, "test_fraction"),
            (([1, 2, 3],), {"n_test": 3}, ValueError, "n_test"),
            (([1, 2, 3],), {"n_test": 0}, ValueError, "n_test"),
            (([1, 2, 3],), {"seed": "0"}, TypeError, "seed"),
        ],
    )
    def test_errors(
        self, args: tuple[object, ...], kwargs: dict[str, object], error: type[Exception], match: str
    ) -> None:
        with pytest.raises(error, match=match):
            subject_exclusive_split(*args, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- VIPL-HR folds


class TestViplFolds:
    def test_folds_partition_1_to_107(self) -> None:
        assert len(VIPL_HR_FOLDS) == 5
        assert [len(f) for f in VIPL_HR_FOLDS] == [21, 21, 21, 22, 22]
        flat = [s for fold in VIPL_HR_FOLDS for s in fold]
        assert sorted(flat) == list(range(1, 108))  # disjoint and complete
        assert all(list(f) == sorted(f) for f in VIPL_HR_FOLDS)
        # datasets.md: p100-p107 are spread over the folds (not all in fold 1, the p100 -> 10 bug)
        assert {k for k, fold in enumerate(VIPL_HR_FOLDS, start=1) for s in fold if s >= 100} == {1, 2, 3, 5}
        assert 10 in VIPL_HR_FOLDS[0]  # PhysFormer's fold-1 test list contains p10

    @pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
    def test_fold_split(self, k: int) -> None:
        train, test = vipl_hr_fold_split(k)
        assert test == VIPL_HR_FOLDS[k - 1]
        assert set(train).isdisjoint(test)
        assert sorted(train + test) == list(range(1, 108))
        assert list(train) == sorted(train)

    def test_fold_split_custom_folds(self) -> None:
        assert vipl_hr_fold_split(2, folds=[[3, 1], [2, 2], [5, 4]]) == ((1, 3, 4, 5), (2,))

    @pytest.mark.parametrize(
        ("k", "folds", "match"),
        [
            (0, VIPL_HR_FOLDS, "k: expected a fold number in 1 ... 5"),
            (6, VIPL_HR_FOLDS, "k: expected"),
            (True, VIPL_HR_FOLDS, "k: expected"),
            (1, [[1, 2]], "at least 2 folds"),
            (1, [[1, 2], []], "fold 2 is empty"),
            (1, [[1, 2], [2, 3]], "subject 2 is in fold 1 and fold 2"),
        ],
    )
    def test_fold_split_errors(self, k: int, folds: list[list[int]], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            vipl_hr_fold_split(k, folds=folds)


def write_fold_files(folder: Path, folds: tuple[tuple[int, ...], ...], *, dtype: type = np.uint8) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, fold in enumerate(folds, start=1):
        # As in the official files: a 1 x N row vector named fold{i}, in random order.
        ids = np.random.default_rng(i).permutation(np.array(fold, dtype=dtype))
        scipy.io.savemat(folder / f"fold{i}.mat", {f"fold{i}": ids[None, :]})


class TestReadFoldFiles:
    @pytest.mark.parametrize("dtype", [np.uint8, np.float64, np.int32])
    def test_reads_the_official_layout(self, tmp_path: Path, dtype: type) -> None:
        write_fold_files(tmp_path / "VIPL-HR" / "fold", VIPL_HR_FOLDS, dtype=dtype)
        assert read_vipl_fold_files(tmp_path / "VIPL-HR") == VIPL_HR_FOLDS
        assert read_vipl_fold_files(tmp_path / "VIPL-HR" / "fold") == VIPL_HR_FOLDS
        train, test = vipl_hr_fold_split(3, folds=read_vipl_fold_files(tmp_path / "VIPL-HR"))
        assert (train, test) == vipl_hr_fold_split(3)

    def test_other_fold_count(self, tmp_path: Path) -> None:
        write_fold_files(tmp_path / "fold", ((1, 2), (3,), (5, 4)))
        assert read_vipl_fold_files(tmp_path, n_folds=3) == ((1, 2), (3,), (4, 5))

    def test_missing_file(self, tmp_path: Path) -> None:
        write_fold_files(tmp_path / "fold", VIPL_HR_FOLDS[:4])
        with pytest.raises(FileNotFoundError, match=r"fold5\.mat"):
            read_vipl_fold_files(tmp_path)

    def test_wrong_variable(self, tmp_path: Path) -> None:
        write_fold_files(tmp_path / "fold", VIPL_HR_FOLDS)
        scipy.io.savemat(tmp_path / "fold" / "fold2.mat", {"subjects": np.array([[1, 2]])})
        with pytest.raises(ValueError, match=r"fold2\.mat: expected a variable 'fold2', found \['subjects'\]"):
            read_vipl_fold_files(tmp_path)

    @pytest.mark.parametrize(
        ("value", "match"),
        [
            (np.array([[1.5, 2.0]]), "positive integer subject ids"),
            (np.array([[0, 2]]), "positive integer subject ids"),
            (np.zeros((1, 0)), "non-empty array"),
            (np.array(["p1"]), "non-empty array of subject ids"),
        ],
    )
    def test_bad_contents(self, tmp_path: Path, value: np.ndarray, match: str) -> None:
        write_fold_files(tmp_path / "fold", VIPL_HR_FOLDS)
        scipy.io.savemat(tmp_path / "fold" / "fold4.mat", {"fold4": value})
        with pytest.raises(ValueError, match=match):
            read_vipl_fold_files(tmp_path)

    def test_overlapping_folds(self, tmp_path: Path) -> None:
        write_fold_files(tmp_path / "fold", ((1, 2), (2, 3)))
        with pytest.raises(ValueError, match="subject 2 is in fold 1 and fold 2"):
            read_vipl_fold_files(tmp_path, n_folds=2)

    def test_not_a_mat_file(self, tmp_path: Path) -> None:
        write_fold_files(tmp_path / "fold", VIPL_HR_FOLDS)
        (tmp_path / "fold" / "fold1.mat").write_text("not matlab")
        with pytest.raises(ValueError, match=r"fold1\.mat: cannot read"):
            read_vipl_fold_files(tmp_path)

    def test_bad_n_folds(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="n_folds"):
            read_vipl_fold_files(tmp_path, n_folds=1)
