"""The guide, Context Propagation > Injecting Context: the trace context of the current span
goes into the headers of a real HTTP request (to the URL given as the first argument)."""

import sys

import requests

from podcast_kg_otel import create_span, init_tracing, inject_context

if __name__ == "__main__":
    init_tracing()
    url = sys.argv[1]
    with create_span("publish_episode"):
        # Prepare headers for HTTP request
        headers = {}
        inject_context(headers)

        # Make request with trace context
        response = requests.post(url, headers=headers, timeout=10)
    print(response.status_code)
