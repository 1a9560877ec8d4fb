"""Fetching and parsing the RSS feed."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import requests

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Episode:
    guid: str
    title: str
    description: str
    audio_url: str


@dataclass(frozen=True)
class Feed:
    title: str
    episodes: list[Episode]


def parse_feed(xml_text: str) -> Feed:
    """The channel title and its items that carry an audio enclosure, in feed order."""
    channel = ET.fromstring(xml_text).find("channel")
    if channel is None:
        raise ValueError("not an RSS 2.0 feed: no <channel>")
    episodes = []
    for item in channel.findall("item"):
        enclosure = item.find("enclosure")
        if enclosure is None or not enclosure.get("url"):
            continue
        episodes.append(
            Episode(
                guid=item.findtext("guid") or enclosure.get("url", ""),
                title=(item.findtext("title") or "").strip(),
                description=(item.findtext("description") or "").strip(),
                audio_url=enclosure.get("url", ""),
            )
        )
    return Feed(title=(channel.findtext("title") or "").strip(), episodes=episodes)


def load_feed(http: requests.Session, url: str, timeout_s: float) -> Feed:
    """Download and parse the feed at `url`."""
    response = http.get(url, timeout=timeout_s)
    response.raise_for_status()
    feed = parse_feed(response.text)
    logger.info("feed %r has %d episodes", feed.title, len(feed.episodes))
    return feed
