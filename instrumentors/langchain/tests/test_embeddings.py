"""Embedding models emit no callbacks; their methods are wrapped instead."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.vectorstores import InMemoryVectorStore
from opentelemetry.trace import SpanKind, StatusCode
from podcast_kg_otel_langchain import LangChainInstrumentor


class MistralEmbeddings(Embeddings):
    """Defined after instrument(): picked up by the subclass hook."""

    model = "mistral-embed"

    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text):
        if text == "boom":
            raise TimeoutError("embedding server timed out")
        return [0.1, 0.2, 0.3]


MistralEmbeddings.__module__ = "langchain_mistralai.embeddings"


def test_embedding_calls_get_spans_nested_under_the_retriever(spans):
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
    store.add_texts(["ada", "grace", "alan"])
    spans.clear()

    docs = store.as_retriever(search_kwargs={"k": 2}).invoke("ada")

    assert len(docs) == 2
    retrieval = spans.one("retrieval VectorStoreRetriever")
    assert retrieval.attributes["gen_ai.provider.name"] == "inmemoryvectorstore"
    embedding = spans.one("embeddings")
    assert embedding.kind is SpanKind.CLIENT
    assert embedding.attributes["gen_ai.operation.name"] == "embeddings"
    assert embedding.attributes["gen_ai.embeddings.dimension.count"] == 8
    assert spans.parent_of(embedding) is retrieval


def test_subclass_defined_later_calls_super_once_and_records_errors(spans):
    model = MistralEmbeddings()

    assert model.embed_documents(["a", "b"]) == [[0.1, 0.2, 0.3]] * 2
    with pytest.raises(TimeoutError):
        model.embed_query("boom")

    ok, failed = spans.named("embeddings mistral-embed")
    assert ok.attributes["gen_ai.provider.name"] == "mistral_ai"
    assert ok.attributes["gen_ai.request.model"] == "mistral-embed"
    assert ok.attributes["gen_ai.embeddings.dimension.count"] == 3
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == "TimeoutError"


async def test_async_embedding_is_one_span(spans):
    vectors = await DeterministicFakeEmbedding(size=4).aembed_documents(["x", "y"])

    assert len(vectors) == 2
    assert len(spans.named("embeddings")) == 1


def test_uninstrument_unwraps_embedding_methods(spans):
    LangChainInstrumentor().uninstrument()

    DeterministicFakeEmbedding(size=4).embed_query("x")
    MistralEmbeddings().embed_query("x")

    assert spans.all == []
    assert not hasattr(DeterministicFakeEmbedding.__dict__["embed_query"], "__wrapped__")
    assert "__init_subclass__" not in Embeddings.__dict__
    LangChainInstrumentor().instrument(tracer_provider=spans.provider)
