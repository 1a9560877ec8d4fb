"""Transcripts cached in Redis, so an episode is transcribed once."""

from __future__ import annotations

import redis


class TranscriptCache:
    """Transcripts by episode guid, under a key prefix, with a time to live."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl_s = ttl_s

    @classmethod
    def from_url(cls, url: str, prefix: str, ttl_s: int) -> TranscriptCache:
        return cls(redis.Redis.from_url(url, decode_responses=True), prefix, ttl_s)

    def get(self, guid: str) -> str | None:
        return self._client.get(self._prefix + guid)

    def put(self, guid: str, transcript: str) -> None:
        self._client.set(self._prefix + guid, transcript, ex=self._ttl_s)

    def close(self) -> None:
        self._client.close()
