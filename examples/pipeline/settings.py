"""The pipeline's settings, read once from PIPELINE_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads and writes; every field has a local-stack default."""

    feed_url: str | None
    redis_url: str
    cache_prefix: str
    cache_ttl_s: int
    neo4j_uri: str
    neo4j_user: str
    neo4j_password: str
    neo4j_database: str | None
    whisper_model: str | None
    chat_model: str
    http_timeout_s: float
    server_port: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build the settings; a missing variable takes its local-stack default."""
        env = os.environ if env is None else env
        return cls(
            feed_url=env.get("PIPELINE_FEED_URL") or None,
            redis_url=env.get("PIPELINE_REDIS_URL", "redis://127.0.0.1:6380/0"),
            cache_prefix=env.get("PIPELINE_CACHE_PREFIX", "podcast-kg:transcript:"),
            cache_ttl_s=int(env.get("PIPELINE_CACHE_TTL_S", "86400")),
            neo4j_uri=env.get("PIPELINE_NEO4J_URI", "bolt://127.0.0.1:7687"),
            neo4j_user=env.get("PIPELINE_NEO4J_USER", "neo4j"),
            neo4j_password=env.get("PIPELINE_NEO4J_PASSWORD", "podcast-kg-test"),
            neo4j_database=env.get("PIPELINE_NEO4J_DATABASE") or None,
            whisper_model=env.get("PIPELINE_WHISPER_MODEL") or None,
            chat_model=env.get("PIPELINE_CHAT_MODEL", "keyword"),
            http_timeout_s=float(env.get("PIPELINE_HTTP_TIMEOUT_S", "10")),
            server_port=int(env.get("PIPELINE_SERVER_PORT", "0")),
        )
