"""The guide, Instrumentation > Automatic Instrumentation: instrument_all() from code, then
libraries used as usual produce spans (here requests and Redis, inside one span). The
INSTRUMENT_* flags it honours come from the environment. Arguments: an HTTP URL and a
Redis URL."""

import sys

import redis
import requests

from podcast_kg_otel import create_span, init_tracing, instrument_all

if __name__ == "__main__":
    init_tracing()
    print(",".join(sorted(instrument_all())))
    url, redis_url = sys.argv[1:3]
    with create_span("sync_feed"):
        requests.get(url, timeout=10)
        redis.Redis.from_url(redis_url).get("guide:automatic-instrumentation")
