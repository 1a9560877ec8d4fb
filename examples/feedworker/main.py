"""feedworker: summarize and tag podcast transcripts, with the work spread over threads,
processes and an event loop.

    python main.py --transcripts-url http://127.0.0.1:8000/ --llm-url http://127.0.0.1:9000/v1

Each episode is one unit of work, ``process_episode``; two run at a time on a thread pool.
For one episode:

1. the transcript download (requests) and the look-up of an earlier summary in Redis run
   side by side on a shared I/O thread pool; an earlier summary is reused as it is;
2. the transcript is cut into chunks and scored in a process pool (CPU work, ``score_chunks``);
3. on an event loop, the best chunks are summarized by the OpenAI SDK called directly
   (streamed, on the loop's default executor) while LangChain's ``ChatOpenAI`` picks tags
   (``ainvoke``); the record is stored in Redis through ``asyncio.to_thread``.

An episode whose transcript is gone (HTTP 404) is reported and skipped. There is no
OpenTelemetry code here: run it under ``opentelemetry-instrument`` with
``PODCAST_KG_OTEL_TRACED_FUNCTIONS="main:process_episode;main:score_chunks"`` and each
episode is one trace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import openai
import redis
import requests
from langchain_openai import ChatOpenAI

HERE = Path(__file__).resolve().parent
MODEL = "gpt-feedworker"
CHUNK_SENTENCES = 2
BEST_CHUNKS = 2
WORD = re.compile(r"[A-Za-z][a-z]+")
SENTENCE_END = re.compile(r"(?<=[.;!?])\s+")
STOPWORDS = frozenset(
    [
        *("a", "and", "are", "as", "at", "be", "for", "from", "in", "is", "it", "of", "on"),
        *("that", "the", "there", "they", "this", "to", "was", "we", "were", "when", "with"),
    ]
)


def download(url: str, timeout: float) -> str:
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    return response.text


def score_chunks(text: str) -> list[tuple[int, str]]:
    """Chunks of a few sentences, best first: a chunk scores one point per distinct content
    word. Runs in a worker process."""
    sentences = [part.strip() for part in SENTENCE_END.split(text) if part.strip()]
    chunks = [
        " ".join(sentences[start : start + CHUNK_SENTENCES])
        for start in range(0, len(sentences), CHUNK_SENTENCES)
    ]
    scored = [(len({w.lower() for w in WORD.findall(c)} - STOPWORDS), c) for c in chunks]
    return sorted(scored, key=lambda item: item[0], reverse=True)


def summarize(client: openai.OpenAI, chunks: list[str]) -> str:
    """One sentence from the OpenAI SDK itself, streamed."""
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Summarize the transcript in one sentence."},
            {"role": "user", "content": "\n".join(chunks)},
        ],
        stream=True,
        stream_options={"include_usage": True},
    )
    return "".join(
        chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices
    ).strip()


async def enrich(job: dict[str, Any], best: list[str]) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    summary_call = loop.run_in_executor(None, summarize, job["openai"], best)
    tags_call = job["chat"].ainvoke(f"Three tags for the episode {job['title']!r}.")
    summary, tags = await asyncio.gather(summary_call, tags_call)
    record = {"summary": summary, "tags": str(tags.content)}
    await asyncio.to_thread(job["cache"].set, job["key"], json.dumps(record), ex=3600)
    return record


def process_episode(
    episode: dict[str, str], clients: dict[str, Any], io_pool: Executor, cpu_pool: Executor
) -> dict[str, Any]:
    """One episode, start to finish: the unit of work (and of tracing)."""
    key = f"{clients['namespace']}:summary:{episode['id']}"
    url = urljoin(clients["transcripts_url"], episode["transcript"])
    transcript = io_pool.submit(download, url, clients["timeout"])
    earlier = io_pool.submit(clients["cache"].get, key)
    text = transcript.result()
    words = len(WORD.findall(text))
    if earlier.result() is not None:
        return {
            "id": episode["id"],
            "words": words,
            "source": "cache",
            **json.loads(earlier.result()),
        }
    scored = cpu_pool.submit(score_chunks, text).result()
    job = {**clients, "title": episode["title"], "key": key}
    record = asyncio.run(enrich(job, [chunk for _, chunk in scored[:BEST_CHUNKS]]))
    return {"id": episode["id"], "words": words, "source": "llm", **record}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=Path, default=HERE / "data" / "episodes.json")
    parser.add_argument("--transcripts-url", required=True, help="base URL of the transcripts")
    parser.add_argument("--llm-url", required=True, help="OpenAI-compatible base URL (…/v1)")
    parser.add_argument("--llm-key", default=os.environ.get("OPENAI_API_KEY", "local"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6380/0")
    parser.add_argument("--namespace", default="feedworker", help="Redis key prefix")
    parser.add_argument("--start-method", default="spawn", choices=["spawn", "fork", "forkserver"])
    parser.add_argument("--timeout", type=float, default=10.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    episodes = json.loads(args.episodes.read_text())
    clients = {
        "cache": redis.Redis.from_url(args.redis_url, decode_responses=True),
        "openai": openai.OpenAI(base_url=args.llm_url, api_key=args.llm_key, max_retries=0),
        "chat": ChatOpenAI(model=MODEL, base_url=args.llm_url, api_key=args.llm_key, max_retries=0),
        "transcripts_url": args.transcripts_url,
        "namespace": args.namespace,
        "timeout": args.timeout,
    }
    failed = 0
    with (
        ThreadPoolExecutor(4, thread_name_prefix="io") as io_pool,
        ProcessPoolExecutor(2, mp_context=get_context(args.start_method)) as cpu_pool,
        ThreadPoolExecutor(2, thread_name_prefix="episode") as episode_pool,
    ):
        runs = [
            episode_pool.submit(process_episode, episode, clients, io_pool, cpu_pool)
            for episode in episodes
        ]
        for episode, run in zip(episodes, runs, strict=True):
            try:
                done = run.result()
            except Exception as error:  # reported, and the other episodes go on
                failed += 1
                print(f"failed  {episode['id']}  {type(error).__name__}: {error}")
                continue
            print(
                f"ok      {done['id']}  {done['words']} words, summary from {done['source']}: "
                f"{done['summary']!r}, tags {done['tags']!r}"
            )
    print(f"done: {len(episodes) - failed} of {len(episodes)} episodes summarized")
    return 0


if __name__ == "__main__":
    sys.exit(main())
