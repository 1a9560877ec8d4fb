"""A demo podcast knowledge-graph pipeline, with no tracing code in it.

For each episode of an RSS feed it downloads the audio, looks for a cached transcript in
Redis, transcribes with faster-whisper, extracts entities and relations with a LangChain
chain and writes them to Neo4j. Run it as ``python -m pipeline``; run it as
``opentelemetry-instrument python -m pipeline`` to get one trace per episode, configured
only through environment variables (see deploy/README.md and the main README).
"""
