"""A RangeParam is a task's splittable dimension: checked against, and described with, its bound."""

from __future__ import annotations

import pytest

from offload.params import IntParam, ParameterError, RangeParam

SIZE = IntParam("size", "how many items", 10, minimum=1, maximum=100)
ITEMS = RangeParam("items", "only items [start, stop)", bound=SIZE)


def test_an_absent_range_means_the_whole_of_it() -> None:
    assert ITEMS.read("demo", {"size": 5}) is None


def test_a_range_is_read_within_the_value_of_its_bound() -> None:
    assert ITEMS.read("demo", {"size": 5, "items": [0, 5]}) == (0, 5)
    assert ITEMS.read("demo", {"size": 5, "items": (2, 3)}) == (2, 3)
    with pytest.raises(ParameterError, match=r"demo: items\[1\] must be between 1 and 5, got 6"):
        ITEMS.read("demo", {"size": 5, "items": [0, 6]})


def test_a_range_with_a_bad_bound_reports_the_bound() -> None:
    with pytest.raises(ParameterError, match="demo: size must be an integer, got 'big'"):
        ITEMS.read("demo", {"size": "big", "items": [0, 1]})


def test_the_schema_names_the_bound_so_a_pool_can_split_the_range() -> None:
    assert ITEMS.schema() == {
        "name": "items",
        "kind": "range",
        "description": "only items [start, stop)",
        "default": None,
        "required": False,
        "bound": "size",
    }
