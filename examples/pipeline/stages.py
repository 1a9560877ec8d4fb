"""One episode, start to finish: the unit that becomes one trace.

`process_episode` is the function to name in the runtime's function-tracing variable
(``pipeline.stages:process_episode``): each call then becomes the root span of that
episode's trace, with the HTTP, Redis, whisper, LangChain and Neo4j spans under it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from faster_whisper import WhisperModel
from langchain_core.runnables import Runnable

from pipeline.cache import TranscriptCache
from pipeline.extract import extract
from pipeline.feed import Episode
from pipeline.graph import GraphWriter, StoredEpisode
from pipeline.transcribe import transcribe

logger = logging.getLogger(__name__)


@dataclass
class Resources:
    """The clients an episode needs, opened once per run."""

    http: requests.Session
    cache: TranscriptCache
    whisper: WhisperModel
    chain: Runnable
    graph: GraphWriter
    http_timeout_s: float


@dataclass(frozen=True)
class EpisodeResult:
    guid: str
    transcript: str
    transcript_source: str
    stored: StoredEpisode


def fetch_audio(http: requests.Session, url: str, timeout_s: float) -> bytes:
    response = http.get(url, timeout=timeout_s)
    response.raise_for_status()
    return response.content


def process_episode(episode: Episode, res: Resources) -> EpisodeResult:
    """Transcript (cached or fresh), entities and relations, stored and read back.

    Raises whatever a step raises; the caller reports the episode and moves on.
    """
    logger.info("episode %s: %s", episode.guid, episode.title)
    transcript = res.cache.get(episode.guid)
    source = "cache"
    if transcript is None:
        audio = fetch_audio(res.http, episode.audio_url, res.http_timeout_s)
        logger.info("episode %s: downloaded %d bytes of audio", episode.guid, len(audio))
        transcript = transcribe(res.whisper, audio)
        res.cache.put(episode.guid, transcript)
        source = "whisper"
    found = extract(res.chain, episode.title, episode.description, transcript)
    logger.info(
        "episode %s: %d entities, %d relations",
        episode.guid,
        len(found.entities),
        len(found.relations),
    )
    res.graph.write(episode, transcript, found)
    stored = res.graph.read_back(episode.guid)
    if stored is None:
        raise LookupError(f"episode {episode.guid} not found in Neo4j right after writing it")
    return EpisodeResult(episode.guid, transcript, source, stored)
