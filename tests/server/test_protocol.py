"""Parsing client frames: every kind of bad frame is named; no frame makes the parser crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.protocol import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    ProtocolError,
    ResultMessage,
    parse_client_message,
)

RESULT = {
    "type": "result",
    "id": "r-1",
    "task": "primes",
    "params": {"limit": 100},
    "result": {"count": 25},
    "duration_ms": 12.5,
}


def test_a_valid_result_parses_to_its_model() -> None:
    message = parse_client_message(json.dumps(RESULT))
    assert message == ResultMessage(**RESULT)  # type: ignore[arg-type]


def test_binary_frames_holding_json_are_read_too() -> None:
    assert parse_client_message(json.dumps(RESULT).encode()).type == "result"


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        ("not json", "invalid_json"),
        ("", "invalid_json"),
        ("[1,2]", "not_an_object"),
        ("null", "not_an_object"),
        ('"result"', "not_an_object"),
        ('{"no_type": 1}', "missing_type"),
        ('{"type": "no_such_type"}', "unknown_type"),
        ('{"type": 7}', "unknown_type"),
        ('{"type": "result", "id": "x"}', "invalid_message"),
        (json.dumps({**RESULT, "duration_ms": -1}), "invalid_message"),
        (json.dumps({**RESULT, "extra": True}), "invalid_message"),
        ("[" * 100_000 + "]" * 100_000, "invalid_json"),
    ],
)
def test_each_kind_of_bad_frame_gets_its_own_error_name(frame: str, name: str) -> None:
    with pytest.raises(ProtocolError) as error:
        parse_client_message(frame)
    assert error.value.name == name
    assert error.value.message


def test_a_schema_violation_names_the_missing_fields_and_keeps_the_id() -> None:
    with pytest.raises(ProtocolError) as error:
        parse_client_message('{"type": "result", "id": "r-9", "task": "primes"}')
    assert error.value.message_id == "r-9"
    for field in ("params", "result", "duration_ms"):
        assert field in error.value.message


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(ProtocolError) as error:
        parse_client_message('{"type": "no_such_type"}')
    for kind in CLIENT_MESSAGES:
        assert kind in error.value.message


def test_every_message_class_is_keyed_by_its_own_type() -> None:
    for table in (CLIENT_MESSAGES, SERVER_MESSAGES):
        for kind, model in table.items():
            assert model.model_fields["type"].default == kind


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
objects = st.dictionaries(
    st.sampled_from(["type", "id", "task", "params", "result", "duration_ms", "samples"])
    | st.text(max_size=8),
    json_values | st.sampled_from(sorted(CLIENT_MESSAGES)),
    max_size=7,
)


@given(st.text(max_size=200) | st.binary(max_size=200) | objects.map(json.dumps))
def test_any_frame_either_parses_or_raises_a_protocol_error(frame: str | bytes) -> None:
    outcome: str
    try:
        outcome = parse_client_message(frame).type
    except ProtocolError as error:
        outcome = error.to_message().type
    assert outcome == "error" or outcome in CLIENT_MESSAGES


# ---- whatever is accepted can be served again (issue 15, item 1) ---------------------------


def nested(lists: int) -> object:
    """`lists` arrays, one inside the other, around a number."""
    value: object = 1
    for _ in range(lists):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        ('{"type": "ping", "id": "\\ud800"}', "invalid_text"),
        (json.dumps({**RESULT, "result": {"text": "\ud800"}}), "invalid_text"),
        (json.dumps({**RESULT, "params": {"\udfff": 1}}), "invalid_text"),
        (json.dumps({**RESULT, "task": "a\udc00b"}), "invalid_text"),
        (json.dumps({**RESULT, "result": nested(254)}), "too_deep"),
        (json.dumps({**RESULT, "result": float("nan")}), "invalid_json"),
        (json.dumps({**RESULT, "duration_ms": float("inf")}), "invalid_json"),
        ('{"type": "ping", "id": -Infinity}', "invalid_json"),
        (json.dumps(RESULT)[:-1] + ', "x": 1e400}', "invalid_json"),
    ],
)
def test_what_could_not_be_served_again_is_refused_at_the_door(frame: str, name: str) -> None:
    with pytest.raises(ProtocolError) as error:
        parse_client_message(frame)
    assert error.value.name == name
    # The error itself is always sendable, whatever the frame held.
    error.value.to_message().model_dump_json().encode("utf-8")


def test_a_refused_frame_keeps_its_id_only_when_the_id_is_valid_text() -> None:
    with pytest.raises(ProtocolError) as clean:
        parse_client_message(json.dumps({**RESULT, "result": "\ud800"}))
    assert clean.value.message_id == "r-1"
    with pytest.raises(ProtocolError) as dirty:
        parse_client_message(json.dumps({**RESULT, "id": "r-\ud800"}))
    assert dirty.value.message_id is None


def test_nesting_up_to_the_bound_is_accepted() -> None:
    # The message object is level 1, so its `result` may hold 31 arrays, one in the other.
    message = parse_client_message(json.dumps({**RESULT, "result": nested(31)}))
    assert isinstance(message, ResultMessage)
    with pytest.raises(ProtocolError, match="32 levels"):
        parse_client_message(json.dumps({**RESULT, "result": nested(32)}))


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "job_start", "id": "j", "samples": "5"},
        {"type": "job_start", "id": "j", "samples": True},
        {"type": "job_start", "id": "j", "samples": 5.5},
        {"type": "jobs_join", "slots": "2"},
        {**RESULT, "duration_ms": "12"},
        {**RESULT, "duration_ms": False},
    ],
)
def test_numbers_are_strict_strings_and_booleans_are_not_numbers(
    changes: dict[str, object],
) -> None:
    with pytest.raises(ProtocolError) as error:
        parse_client_message(json.dumps(changes))
    assert error.value.name == "invalid_message"


unicode_anything = st.text(st.characters(categories=["L", "N", "P", "S", "Z", "C"]), max_size=12)
deep_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | unicode_anything,
    lambda children: (
        st.lists(children, max_size=2) | st.dictionaries(unicode_anything, children, max_size=2)
    ),
    max_leaves=40,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deep_values, unicode_anything)
def test_any_result_that_parses_can_be_encoded_as_strict_utf8_json(
    value: object, message_id: str
) -> None:
    frame = json.dumps({**RESULT, "id": message_id or "x", "result": value})
    try:
        message = parse_client_message(frame)
    except ProtocolError as error:
        error.to_message().model_dump_json().encode("utf-8")
        return
    assert isinstance(message, ResultMessage)
    json.dumps(message.result, allow_nan=False, ensure_ascii=False).encode("utf-8")
    message.model_dump_json().encode("utf-8")
