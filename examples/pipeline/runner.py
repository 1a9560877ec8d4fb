"""A whole run: open the clients, process every episode, print the report."""

from __future__ import annotations

import logging
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

import requests

from pipeline.cache import TranscriptCache
from pipeline.extract import build_chain
from pipeline.feed import Feed, load_feed
from pipeline.graph import GraphWriter
from pipeline.progress import Progress
from pipeline.sample_data import write_sample_media
from pipeline.server import serve_directory
from pipeline.settings import Settings
from pipeline.stages import EpisodeResult, Resources, process_episode
from pipeline.transcribe import load_model

logger = logging.getLogger(__name__)


def describe_error(error: BaseException) -> str:
    """A one-line reason that does not depend on the run (no ports, no temp paths)."""
    if isinstance(error, requests.HTTPError) and error.response is not None:
        path = urllib.parse.urlsplit(error.response.url).path
        return f"audio download failed: HTTP {error.response.status_code} for {path}"
    return f"{type(error).__name__}: {error}"


@contextmanager
def feed_url(settings: Settings) -> Iterator[str]:
    """The configured feed, or the bundled one served from a local HTTP server."""
    if settings.feed_url:
        yield settings.feed_url
        return
    with (
        tempfile.TemporaryDirectory(prefix="podcast-kg-media-") as media,
        serve_directory(Path(media), settings.server_port) as base_url,
    ):
        write_sample_media(Path(media), base_url)
        logger.info("serving the bundled feed at %s/feed.xml", base_url)
        yield f"{base_url}/feed.xml"


@contextmanager
def open_resources(settings: Settings) -> Iterator[Resources]:
    with ExitStack() as stack:
        http = stack.enter_context(requests.Session())
        cache = TranscriptCache.from_url(
            settings.redis_url, settings.cache_prefix, settings.cache_ttl_s
        )
        stack.callback(cache.close)
        graph = GraphWriter.connect(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password,
            settings.neo4j_database,
        )
        stack.callback(graph.close)
        yield Resources(
            http=http,
            cache=cache,
            whisper=load_model(settings.whisper_model),
            chain=build_chain(settings.chat_model),
            graph=graph,
            http_timeout_s=settings.http_timeout_s,
        )


def _report_ok(out: TextIO, result: EpisodeResult) -> None:
    stored = result.stored
    out.write(
        f"ok      {result.guid}  {stored.title}: transcript from {result.transcript_source} "
        f"{result.transcript!r}, {len(stored.entities)} entities, {stored.relations} relations\n"
        f"        entities: {', '.join(stored.entities) or '-'}\n"
    )


def run(settings: Settings, out: TextIO) -> int:
    """Process the feed; 0 when at least one episode made it, 1 when none did."""
    with feed_url(settings) as url, open_resources(settings) as res:
        feed: Feed = load_feed(res.http, url, settings.http_timeout_s)
        out.write(f"feed: {feed.title} ({len(feed.episodes)} episodes)\n")
        progress = Progress(len(feed.episodes))
        succeeded = 0
        for episode in feed.episodes:
            progress.start(episode.guid, episode.title)
            try:
                result = process_episode(episode, res)
            except Exception as error:
                reason = describe_error(error)
                progress.finish(f"FAILED: {reason}")
                logger.warning("episode %s skipped: %s", episode.guid, reason)
                out.write(f"skipped {episode.guid}  {episode.title}: {reason}\n")
                continue
            progress.finish("ok")
            _report_ok(out, result)
            succeeded += 1
        out.write(f"done: {succeeded} of {len(feed.episodes)} episodes stored in Neo4j\n")
    return 0 if succeeded else 1
