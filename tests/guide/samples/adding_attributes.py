"""The guide, Usage > Basic Tracing > Adding Attributes: onto whatever span is current.
Outside any span the call does nothing (and does not fail)."""

from podcast_kg_otel import add_span_attributes, init_tracing, trace_method


@trace_method(name="transcribe_episode")
def transcribe(episode_id, title):
    add_span_attributes(
        {
            "episode.id": episode_id,
            "episode.title": title,
            "processing.stage": "transcription",
        }
    )


if __name__ == "__main__":
    init_tracing()
    add_span_attributes({"episode.id": "no span is current: ignored"})
    transcribe("ep_123", "Graphs all the way down")
