"""The pipeline's own pieces, without tracing: feed, sample media, extraction, errors."""

from __future__ import annotations

import json
import wave

import pytest
import requests
from langchain_core.messages import HumanMessage
from pipeline.extract import KeywordChatModel, build_chain, extract, keyword_extraction
from pipeline.feed import parse_feed
from pipeline.runner import describe_error
from pipeline.sample_data import write_sample_media
from pipeline.server import serve_directory


def test_sample_media_is_served_and_one_episode_audio_is_missing(tmp_path):
    with serve_directory(tmp_path) as base_url:
        write_sample_media(tmp_path, base_url)
        feed = parse_feed(requests.get(f"{base_url}/feed.xml", timeout=5).text)
        statuses = {e.guid: requests.get(e.audio_url, timeout=5).status_code for e in feed.episodes}
    assert feed.title == "Engines of Thought"
    assert statuses == {"ep-001": 200, "ep-002": 200, "ep-003": 404, "ep-004": 200}
    with wave.open(str(tmp_path / "audio" / "ep-001.wav")) as audio:
        assert (audio.getframerate(), audio.getnchannels()) == (16000, 1)
        assert audio.getnframes() == 32000


def test_keyword_model_extracts_people_places_concepts_and_relations():
    answer = keyword_extraction(
        "Episode: Breaking Enigma\nSummary: Alan Turing builds the Bombe at Bletchley Park. "
        "Joan Clarke joins Alan Turing in Hut Eight.\nTranscript: hello world"
    )
    assert answer["entities"] == [
        {"name": "Alan Turing", "type": "Person"},
        {"name": "Bombe", "type": "Concept"},
        {"name": "Bletchley Park", "type": "Place"},
        {"name": "Joan Clarke", "type": "Person"},
        {"name": "Hut Eight", "type": "Place"},
    ]
    assert answer["relations"] == [
        {"source": "Alan Turing", "predicate": "WORKED_ON", "target": "Bombe"},
        {"source": "Alan Turing", "predicate": "WAS_AT", "target": "Bletchley Park"},
        {"source": "Joan Clarke", "predicate": "WORKED_WITH", "target": "Alan Turing"},
        {"source": "Joan Clarke", "predicate": "WAS_AT", "target": "Hut Eight"},
    ]


def test_keyword_model_answers_json_with_usage():
    message = KeywordChatModel().invoke(
        [HumanMessage("Episode: x\nSummary: Ada Lovelace met Charles Babbage.")]
    )
    assert json.loads(message.content)["relations"] == [
        {"source": "Ada Lovelace", "predicate": "WORKED_WITH", "target": "Charles Babbage"}
    ]
    assert message.usage_metadata["output_tokens"] > 0


def test_chain_result_is_deterministic_and_drops_dangling_relations():
    chain = build_chain("keyword")
    first = extract(chain, "Graphs", "Leonhard Euler walks the bridges of Königsberg.", "hello")
    assert first == extract(
        chain, "Graphs", "Leonhard Euler walks the bridges of Königsberg.", "hello"
    )
    assert first.entities == [("Leonhard Euler", "Person"), ("Königsberg", "Place")]
    assert first.relations == [("Leonhard Euler", "WAS_AT", "Königsberg")]


def test_error_description_has_no_run_specific_parts(tmp_path):
    with serve_directory(tmp_path) as base_url:
        response = requests.get(f"{base_url}/audio/gone.wav", timeout=5)
    with pytest.raises(requests.HTTPError) as error:
        response.raise_for_status()
    assert describe_error(error.value) == "audio download failed: HTTP 404 for /audio/gone.wav"
    assert describe_error(ValueError("bad")) == "ValueError: bad"
