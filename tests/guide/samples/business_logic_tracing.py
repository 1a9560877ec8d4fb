"""The guide, Usage > Advanced Tracing > Business Logic Tracing (trace_business_operation is
importable from podcast_kg_otel, not a middleware module)."""

from podcast_kg_otel import init_tracing, trace_business_operation


def extract_entities(text):
    return sorted({word for word in text.split()[1:] if word[:1].isupper()})


def generate_insights(entities):
    return [f"{entity} is mentioned" for entity in entities]


if __name__ == "__main__":
    init_tracing()
    episode_id = "ep_123"
    text = "Ada talks about Neo4j and Jaeger"
    with trace_business_operation(
        "episode_processing",
        "knowledge_extraction",
        episode_id=episode_id,
    ):
        entities = extract_entities(text)
        insights = generate_insights(entities)
    print(insights)
