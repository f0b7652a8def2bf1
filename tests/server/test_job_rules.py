"""The job board's rules, as both engines apply them: plain values in, a value or a refusal out."""

from __future__ import annotations

import pytest

from server.job_rules import (
    MAX_ACTIVE_JOBS,
    MAX_CHUNKS,
    JobRefused,
    JobRules,
    JobShape,
    Totals,
    address_key,
    check_answer,
    check_room,
    chunk_count,
    chunk_seed,
    job_expired,
    no_such_job,
    not_holder,
    progress,
)

SHAPE = JobShape("job-1", samples=10_500, chunk_samples=1_000, seed=7)


def test_a_job_has_one_chunk_per_chunk_samples_and_the_last_takes_the_remainder() -> None:
    assert chunk_count(10_500, 1_000) == SHAPE.chunks == 11
    assert [SHAPE.chunk_size(n) for n in (0, 9, 10)] == [1_000, 1_000, 500]
    assert sum(map(SHAPE.chunk_size, range(SHAPE.chunks))) == SHAPE.samples


def test_a_job_of_more_than_max_chunks_is_refused_as_invalid() -> None:
    assert chunk_count(MAX_CHUNKS, 1) == MAX_CHUNKS
    with pytest.raises(JobRefused, match="use bigger chunks") as refused:
        chunk_count(MAX_CHUNKS + 1, 1)
    assert refused.value.name == "invalid_job"


def test_a_chunk_message_carries_its_size_and_its_own_reproducible_seed() -> None:
    message = SHAPE.chunk_message(10)
    assert (message.job_id, message.chunk) == ("job-1", 10)
    assert message.params.samples == 500
    assert message.params.seed == chunk_seed(7, 10) != chunk_seed(7, 9)


@pytest.mark.parametrize(
    ("active", "owned", "refused"),
    [
        (0, 0, None),
        (MAX_ACTIVE_JOBS - 1, 1, None),
        (MAX_ACTIVE_JOBS, 0, "running"),
        (1, 2, "address"),
    ],
)
def test_a_start_needs_room_in_all_and_for_its_owner(
    active: int, owned: int, refused: str | None
) -> None:
    rules = JobRules(per_owner=2)
    if refused is None:
        check_room(active, owned, rules)
        return
    with pytest.raises(JobRefused, match=refused) as error:
        check_room(active, owned, rules)
    assert error.value.name == "job_limit"


@pytest.mark.parametrize(
    ("chunk", "inside", "samples", "says"),
    [
        (11, 0, 500, "chunks 0 to 10, not 11"),
        (-1, 0, 1_000, "not -1"),
        (10, 0, 1_000, "has 500 samples"),
        (0, 1_001, 1_000, "1001 inside of 1000"),
        (0, -1, 1_000, "-1 inside"),
    ],
)
def test_an_answer_for_no_such_chunk_or_an_implausible_one_is_invalid(
    chunk: int, inside: int, samples: int, says: str
) -> None:
    with pytest.raises(JobRefused, match=says) as refused:
        check_answer(SHAPE, chunk, inside, samples)
    assert refused.value.name == "invalid_chunk"


def test_a_plausible_answer_passes_even_all_inside_or_none() -> None:
    check_answer(SHAPE, 10, 500, 500)
    check_answer(SHAPE, 0, 0, 1_000)


def test_each_refusal_names_its_kind_and_the_job() -> None:
    refusals = [no_such_job("job-9"), job_expired("job-9"), not_holder("job-9", 3)]
    assert [r.name for r in refusals] == ["invalid_chunk", "invalid_chunk", "not_holder"]
    assert all("'job-9'" in str(r) for r in refusals)


def test_progress_estimates_pi_from_what_is_counted_and_none_before_anything_is() -> None:
    start = progress(SHAPE, Totals(), workers=3)
    assert (start.estimate, start.chunks, start.chunks_done, start.workers) == (None, 11, 0, 3)
    later = progress(SHAPE, Totals(inside=785, samples_done=1_000, chunks_done=1), workers=1)
    assert later.estimate == pytest.approx(3.14)
    assert (later.done, later.expired) == (False, False)
    over = progress(SHAPE, Totals(expired=True), workers=0)
    assert (over.expired, over.job_id) == (True, "job-1")


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("", ""),
    ],
)
def test_per_address_rules_count_an_ipv6_host_by_its_64(address: str, key: str) -> None:
    assert address_key(address) == key
