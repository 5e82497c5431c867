"""Subject-exclusive train/test splits and the published protocols of VIPL-HR, UBFC-rPPG and PURE.

Source: ``datasets.md`` §1.4, §2.5, §3.4 and §4.7 (rPPG-Toolbox's ``BEGIN``/``END`` fraction ranges:
:func:`fraction_split`). Splitting by subject (never by clip) keeps every clip of a person
on one side, so a model is never tested on a face it was trained on. VIPL-HR's 5-fold cross-validation (RhythmNet
protocol) uses the fold files ``fold/fold1.mat`` ... ``fold5.mat`` shipped with the dataset; the same lists, as
hard-coded by public loaders, are :data:`VIPL_HR_FOLDS`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "PURE_PROTOCOLS",
    "UBFC_RPPG_PROTOCOLS",
    "VIPL_HR_FOLDS",
    "fraction_split",
    "read_vipl_fold_files",
    "subject_exclusive_split",
    "vipl_hr_fold_split",
]

#: VIPL-HR's five test folds of subject ids (``datasets.md`` §1.4): a partition of 1 ... 107 (21, 21, 21, 22, 22).
VIPL_HR_FOLDS: tuple[tuple[int, ...], ...] = (
    (7, 10, 12, 21, 25, 35, 43, 49, 50, 57, 58, 59, 62, 64, 65, 74, 81, 90, 100, 101, 105),
    (2, 6, 9, 13, 15, 17, 20, 22, 23, 24, 27, 29, 31, 34, 38, 40, 51, 55, 79, 88, 103),
    (1, 5, 8, 46, 48, 56, 61, 63, 67, 70, 76, 78, 82, 84, 87, 91, 92, 97, 99, 106, 107),
    (3, 4, 11, 14, 16, 18, 19, 30, 32, 33, 36, 39, 42, 52, 54, 60, 69, 80, 86, 89, 93, 96),
    (26, 28, 37, 41, 44, 45, 47, 53, 66, 68, 71, 72, 73, 75, 77, 83, 85, 94, 95, 98, 102, 104),
)

#: The 42 subject numbers of UBFC-rPPG DATASET_2 (``datasets.md`` §2.1).
_UBFC_RPPG_SUBJECTS = (1, 3, 4, 5, *range(8, 19), 20, *range(22, 28), *range(30, 50))

#: Published UBFC-rPPG protocols (``datasets.md`` §2.5): name -> ``(train subjects, test subjects)``.
#: ``"toolbox_train_val"`` is rPPG-Toolbox's cross-dataset training on UBFC-rPPG with subjects in ascending
#: order, train = the fraction range [0, 0.8) and validation = [0.8, 1.0) (:func:`fraction_split`; the toolbox itself
#: does not sort, so its split depends on the file system). ``"first30_last12"`` is the intra-dataset protocol
#: "first 30 train, last 12 test" (test = subjects 38-49).
UBFC_RPPG_PROTOCOLS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "toolbox_train_val": (
        tuple(_UBFC_RPPG_SUBJECTS[: int(0.8 * len(_UBFC_RPPG_SUBJECTS))]),
        tuple(_UBFC_RPPG_SUBJECTS[int(0.8 * len(_UBFC_RPPG_SUBJECTS)) :]),
    ),
    "first30_last12": (tuple(_UBFC_RPPG_SUBJECTS[:30]), tuple(_UBFC_RPPG_SUBJECTS[30:])),
}

#: Published PURE protocols (``datasets.md`` §3.4): name -> ``(train subjects, test subjects)``.
#: ``"toolbox_train_val"`` is rPPG-Toolbox's cross-dataset training on PURE ([0, 0.8) = 1-8 train, [0.8, 1) = 9-10
#: validation); ``"intra_60_40"`` the intra-PURE split of RhythmFormer/RhythmMamba ([0, 0.6) = 1-6 train, 7-10
#: test); ``"contrast_phys"`` Contrast-Phys+'s split (test = 6, 8, 9, 10).
PURE_PROTOCOLS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "toolbox_train_val": (tuple(range(1, 9)), (9, 10)),
    "intra_60_40": (tuple(range(1, 7)), tuple(range(7, 11))),
    "contrast_phys": ((1, 2, 3, 4, 5, 7), (6, 8, 9, 10)),
}


def fraction_split(ids: Iterable[int], begin: float, end: float) -> tuple[int, ...]:
    """rPPG-Toolbox's ``BEGIN``/``END`` selection: the ids at positions ``int(begin * n)`` to ``int(end * n) - 1``.

    Source: ``datasets.md`` §2.5, §3.4 and §4.7. The ids are de-duplicated and sorted in ascending numerical order
    first (rPPG-Toolbox sorts PURE's subjects but not UBFC-rPPG's folders; sorting makes the split reproducible).
    Adjacent ranges such as ``[0, 0.8)`` and ``[0.8, 1)`` partition the ids.

    Args:
        ids: Subject (or video) ids, integers.
        begin: The start of the range, ``0 <= begin <= end``.
        end: The end of the range, ``end <= 1``.

    Returns:
        The selected ids, ascending.

    Raises:
        ValueError: If ``begin`` or ``end`` is out of range or an id is not an integer.

    Examples:
        >>> fraction_split(range(1, 11), 0.0, 0.8), fraction_split(range(1, 11), 0.8, 1.0)
        ((1, 2, 3, 4, 5, 6, 7, 8), (9, 10))
        >>> fraction_split([49, 1, 3], 0.0, 0.5)  # sorted numerically first
        (1,)
    """
    if not (isinstance(begin, (int, float)) and isinstance(end, (int, float)) and 0 <= begin <= end <= 1):
        raise ValueError(f"begin, end: expected 0 <= begin <= end <= 1, got begin={begin!r}, end={end!r}")
    values = list(ids)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, np.integer))]
    if bad:
        raise ValueError(f"ids: expected integer ids, got {bad[:5]}")
    ordered = sorted({int(v) for v in values})
    n = len(ordered)
    return tuple(ordered[int(begin * n) : int(end * n)])


def subject_exclusive_split(
    subject_ids: Iterable[int],
    *,
    test_fraction: float = 0.2,
    n_test: int | None = None,
    seed: int | np.random.Generator = 0,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Split subjects at random into disjoint train and test sets, deterministically for a given seed.

    Source: the subject-exclusive protocol of ``datasets.md`` §1.4 (and §2.5, §3.4 for UBFC-rPPG and PURE).
    Duplicate ids (e.g. one per clip) are merged first, so the result depends only on the set of subjects.

    Args:
        subject_ids: The subject ids (at least two distinct ones).
        test_fraction: The share of subjects to test on, in (0, 1); rounded to the nearest count, kept between 1
            and ``n - 1``. Ignored when ``n_test`` is given.
        n_test: The number of test subjects, ``1 <= n_test < n``.
        seed: The seed of the shuffle, or a :class:`numpy.random.Generator` (which is advanced).

    Returns:
        ``(train_ids, test_ids)``: two disjoint, non-empty, ascending tuples that together hold every subject.

    Raises:
        ValueError: If the ids are not integers, there are fewer than two distinct subjects, or ``test_fraction``
            or ``n_test`` is out of range.
        TypeError: If ``seed`` is neither an integer nor a :class:`numpy.random.Generator`.

    Examples:
        >>> train, test = subject_exclusive_split(range(1, 11), test_fraction=0.3, seed=1)
        >>> len(train), len(test), set(train).isdisjoint(test), sorted(train + test) == list(range(1, 11))
        (7, 3, True, True)
        >>> subject_exclusive_split([4, 4, 9], n_test=1) == subject_exclusive_split([9, 4], n_test=1)
        True
    """
    if isinstance(subject_ids, (str, bytes)):
        raise ValueError(f"subject_ids: expected integer subject ids, got {subject_ids!r}")
    ids: set[int] = set()
    for s in subject_ids:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise ValueError(f"subject_ids: expected integer subject ids, got {s!r}")
        ids.add(int(s))
    subjects = np.array(sorted(ids), dtype=np.int64)
    n = subjects.size
    if n < 2:
        raise ValueError(f"subject_ids: expected at least 2 distinct subjects to split, got {n}: {subjects.tolist()}")
    if n_test is None:
        fraction = test_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise ValueError(f"test_fraction: expected a number in (0, 1), got {test_fraction!r}")
        count = min(max(int(np.floor(fraction * n + 0.5)), 1), n - 1)
    else:
        if isinstance(n_test, bool) or not isinstance(n_test, (int, np.integer)) or not 1 <= n_test < n:
            raise ValueError(f"n_test: expected an integer in [1, {n - 1}] for {n} subjects, got {n_test!r}")
        count = int(n_test)
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        rng = np.random.default_rng(int(seed))
    else:
        raise TypeError(f"seed: expected an int or a numpy.random.Generator, got {type(seed).__name__}")
    order = rng.permutation(n)
    test = np.sort(subjects[order[:count]])
    train = np.sort(subjects[order[count:]])
    return tuple(int(s) for s in train), tuple(int(s) for s in test)


def vipl_hr_fold_split(
    k: int, *, folds: Sequence[Sequence[int]] = VIPL_HR_FOLDS
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The train and test subjects of VIPL-HR fold ``k`` (test on fold ``k``, train on the other four).

    Source: RhythmNet's 5-fold subject-exclusive protocol (``datasets.md`` §1.4); fold ``k`` is the test set, as
    with the forks' ``END = k``.

    Args:
        k: The test fold, 1-based (1 ... ``len(folds)``).
        folds: The fold lists: :data:`VIPL_HR_FOLDS` (default) or those read by :func:`read_vipl_fold_files`.

    Returns:
        ``(train_ids, test_ids)``, ascending tuples.

    Raises:
        ValueError: If ``k`` is out of range, or the folds are fewer than two or share a subject.

    Examples:
        >>> train, test = vipl_hr_fold_split(1)
        >>> len(train), len(test), test[:3], 100 in test
        (86, 21, (7, 10, 12), True)
    """
    checked = _check_folds(folds)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(checked):
        raise ValueError(f"k: expected a fold number in 1 ... {len(checked)}, got {k!r}")
    test = tuple(sorted(set(checked[k - 1])))
    train = tuple(sorted({s for i, fold in enumerate(checked) if i != k - 1 for s in fold}))
    return train, test


def read_vipl_fold_files(root: str | os.PathLike[str], *, n_folds: int = 5) -> tuple[tuple[int, ...], ...]:
    """Read VIPL-HR's official fold files ``fold/fold1.mat`` ... ``fold/fold5.mat``.

    Source: ``datasets.md`` §1.1 and §1.4: each file ``fold{i}.mat`` holds a variable ``fold{i}``, a 1xN array of
    subject ids. Read with :func:`scipy.io.loadmat`.

    Args:
        root: The VIPL-HR folder holding ``fold/``, or the ``fold`` folder itself.
        n_folds: The number of fold files.

    Returns:
        The test subjects of each fold, in file order; each tuple ascending.

    Raises:
        FileNotFoundError: If a fold file is missing.
        ValueError: If a file lacks its ``fold{i}`` variable, holds something other than positive integers, or
            two folds share a subject.

    Examples:
        >>> import numpy as np, scipy.io, tempfile, os
        >>> root = tempfile.mkdtemp()
        >>> os.mkdir(os.path.join(root, "fold"))
        >>> for i, ids in enumerate([[3, 1], [2], [5, 4]], start=1):
        ...     scipy.io.savemat(os.path.join(root, "fold", f"fold{i}.mat"), {f"fold{i}": np.array([ids])})
        >>> read_vipl_fold_files(root, n_folds=3)
        ((1, 3), (2,), (4, 5))
    """
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 2:
        raise ValueError(f"n_folds: expected an integer >= 2, got {n_folds!r}")
    root = Path(root)
    folder = root / "fold" if (root / "fold").is_dir() else root
    folds: list[tuple[int, ...]] = []
    for i in range(1, n_folds + 1):
        path = folder / f"fold{i}.mat"
        if not path.is_file():
            raise FileNotFoundError(f"VIPL-HR fold file not found: {path} (looked in {folder})")
        name = f"fold{i}"
        try:
            content: dict[str, Any] = loadmat(str(path))
        except (MatReadError, ValueError, OSError, TypeError) as exc:
            raise ValueError(f"{path}: cannot read the MATLAB file ({exc})") from None
        if name not in content:
            found = sorted(k for k in content if not k.startswith("__"))
            raise ValueError(f"{path}: expected a variable {name!r}, found {found}")
        values = np.asarray(content[name]).ravel()
        if values.size == 0 or not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"{path}: expected {name!r} to be a non-empty array of subject ids, got {values!r}")
        as_int = values.astype(np.int64)
        if not np.array_equal(as_int, values) or (as_int <= 0).any():
            raise ValueError(f"{path}: expected positive integer subject ids in {name!r}, got {values.tolist()}")
        folds.append(tuple(sorted({int(s) for s in as_int})))
    _check_folds(folds)
    return tuple(folds)


def _check_folds(folds: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    checked = [tuple(int(s) for s in fold) for fold in folds]
    if len(checked) < 2:
        raise ValueError(f"folds: expected at least 2 folds, got {len(checked)}")
    seen: dict[int, int] = {}
    for i, fold in enumerate(checked, start=1):
        if not fold:
            raise ValueError(f"folds: fold {i} is empty")
        for s in fold:
            if s in seen and seen[s] != i:
                raise ValueError(f"folds: subject {s} is in fold {seen[s]} and fold {i}; folds must be disjoint")
            seen[s] = i
    return checked
