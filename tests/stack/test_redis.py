"""The stack's Redis is real."""

import uuid

import redis

from stacktools.stack import Stack


def test_redis_round_trip(stack: Stack) -> None:
    client = redis.Redis(host=stack.redis_host, port=stack.redis_port)
    key = f"smoke:{uuid.uuid4().hex}"
    assert client.set(key, "transcript", ex=60)
    assert client.get(key) == b"transcript"
    assert client.delete(key) == 1
    assert client.info("server")["redis_version"].startswith("7.")
