"""The library versions this instrumentation supports."""

_instruments = ("langchain-core >= 0.3.0",)

_supports_metrics = False
