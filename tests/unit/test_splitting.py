"""Splits by event number: folds, parity, and the check that every part holds every class."""

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.preprocessing import TEST, assign_folds, assign_splits, check_split_classes


def test_folds_are_event_id_mod_k_and_parity_tests_odd_ids():
    ids = np.arange(20, dtype=np.int64) * 3 + 1
    np.testing.assert_array_equal(assign_folds(ids, 4), ids % 4)
    codes = assign_splits(ids, method="parity", train=0.8, val=0.2, test=0.0, seed=1)
    assert np.all((codes == TEST) == (ids % 2 == 1))


def test_a_numbering_that_follows_the_class_is_refused_with_the_fix_named():
    labels = np.repeat([0, 1], 50)
    classes = ["background", "signal"]
    interleaved = np.arange(100) * 2 + labels  # signal odd, background even: class-pure folds
    expected = r"training part of fold 0 .* no 'background' events .*event ids follow the class"
    with pytest.raises(DataError, match=expected):
        check_split_classes(interleaved, labels, classes, kfold=2)
    with pytest.raises(DataError, match=r"training part of the split by parity .*split\.method: fraction"):
        check_split_classes(interleaved, labels, classes, method="parity")
    check_split_classes(interleaved, labels, classes, method="fraction")  # random: not by number
    # consecutive numbers within each class are fine
    consecutive = np.concatenate([np.arange(50), 10**12 + np.arange(50)])
    for kfold in (0, 2, 3, 4):
        check_split_classes(consecutive, labels, classes, method="parity", kfold=kfold)


def test_a_random_split_too_small_for_a_class_names_the_part_and_the_fix():
    labels = np.array([1, 1, 1] + [0] * 30)
    ids = np.arange(len(labels))
    fractions = (0.6, 0.2, 0.2)
    with pytest.raises(DataError, match=r"too few events to split: the \w+ part .* no 'signal' events.*signal 3"):
        check_split_classes(ids, labels, ["background", "signal"], fractions=fractions, seed=0)
    # the same classes with enough events pass, and a part with a zero fraction is not checked
    many = np.repeat([0, 1], 200)
    check_split_classes(np.arange(400), many, ["background", "signal"], fractions=fractions, seed=0)
    codes = assign_splits(np.arange(400), train=0.5, val=0.5, test=0.0, seed=0)
    assert not np.any(codes == TEST)
    check_split_classes(np.arange(400), many, ["background", "signal"], fractions=(0.5, 0.5, 0.0), seed=0)
