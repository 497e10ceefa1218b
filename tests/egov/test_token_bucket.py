"""The rate limiter's memory bound holds on every call, not only on a refusal (issue 13,
point 11), and dropping old buckets does not give a refused client a fresh one cheaply."""

from __future__ import annotations

from egov.auth import TokenBucket


def test_clients_never_refused_stay_under_the_cap() -> None:
    bucket = TokenBucket(rate_per_minute=60, max_keys=1_000)
    for i in range(5_000):
        assert bucket.take(f"10.0.{i // 256}.{i % 256}", now=float(i)) == 0.0
        assert len(bucket) <= 1_000
    assert len(bucket) == 1_000


def test_a_refused_client_stays_refused_while_others_come_and_go() -> None:
    bucket = TokenBucket(rate_per_minute=2, max_keys=10)
    assert bucket.take("flood", now=0.0) == 0.0
    assert bucket.take("flood", now=0.0) == 0.0
    assert bucket.take("flood", now=0.0) > 0  # refused: its bucket is empty
    for round_ in range(5):  # many other clients, but fewer than the cap between its requests
        for i in range(8):
            bucket.take(f"other-{round_}-{i}", now=0.0)
        assert bucket.take("flood", now=0.0) > 0, round_  # still refused: its bucket was kept
    assert len(bucket) <= 10


def test_the_least_recently_used_bucket_goes_first() -> None:
    bucket = TokenBucket(rate_per_minute=1, max_keys=3)
    for key in ("a", "b", "c"):
        bucket.take(key, now=0.0)
    assert bucket.take("a", now=0.0) > 0  # refused, and now the most recently used
    bucket.take("d", now=0.0)  # over the cap: "b" (least recently used) is dropped, not "a"
    assert bucket.take("a", now=0.0) > 0
    assert bucket.take("b", now=0.0) == 0.0  # "b" starts again with a full bucket
