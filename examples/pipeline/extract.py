"""Entities and relations from an episode, with a LangChain chain.

By default the chat model is `KeywordChatModel`, a deterministic local model that answers
with JSON built from the capitalised names in the prompt, so the demo runs offline and
gives the same result every time. Set PIPELINE_CHAT_MODEL=<provider>:<model> (for example
``openai:gpt-4o-mini``, with the `langchain` package and the provider's package installed)
to use a real model instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "Extract the people, places and concepts named in this podcast episode, and "
            "the relations between them. Answer with JSON only: "
            '{{"entities": [{{"name": str, "type": "Person"|"Place"|"Concept"}}], '
            '"relations": [{{"source": str, "predicate": str, "target": str}}]}}',
        ),
        ("human", "Episode: {title}\nSummary: {description}\nTranscript: {transcript}"),
    ]
)

_NAME = re.compile(r"\b(?!(?:The|A|An)\b)[A-Z][^\W\d_]+(?:\s+[A-Z][^\W\d_]+)*")
_LABEL = re.compile(r"^\w+:\s*", re.MULTILINE)
_SENTENCE = re.compile(r"[^.!?\n]+")
_PLACE_WORDS = {"in", "at", "of", "from", "to"}
_CONCEPT_WORDS = {"the", "a", "an"}
_PREDICATES = {"Person": "WORKED_WITH", "Place": "WAS_AT", "Concept": "WORKED_ON"}


def _entities_in(sentence: str) -> list[tuple[str, str]]:
    """(name, type) of each capitalised name; the word before it decides the type."""
    found = []
    for match in _NAME.finditer(sentence):
        before = sentence[: match.start()].split()
        previous = before[-1].lower() if before else ""
        kind = (
            "Place"
            if previous in _PLACE_WORDS
            else "Concept"
            if previous in _CONCEPT_WORDS
            else "Person"
        )
        found.append((match.group(0), kind))
    return found


def keyword_extraction(text: str) -> dict[str, Any]:
    """The local model's JSON answer: names per sentence, the first one linked to the rest.

    The episode title (the ``Episode:`` line) is left out, as titles name no entities.
    """
    entities: dict[str, str] = {}
    relations: list[dict[str, str]] = []
    body = _LABEL.sub("", "\n".join(text.splitlines()[1:]))
    for sentence in _SENTENCE.findall(body):
        names = _entities_in(sentence)
        for name, kind in names:
            entities.setdefault(name, kind)
        for name, _kind in names[1:]:
            relation = {
                "source": names[0][0],
                "predicate": _PREDICATES[entities[name]],
                "target": name,
            }
            if relation not in relations:
                relations.append(relation)
    return {
        "entities": [{"name": n, "type": t} for n, t in entities.items()],
        "relations": relations,
    }


class KeywordChatModel(BaseChatModel):
    """A deterministic, offline chat model that answers extraction prompts with JSON."""

    model_name: str = "keyword-extractor-1"

    @property
    def _llm_type(self) -> str:
        return "keyword-extractor"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "local"
        params["ls_model_name"] = self.model_name
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt = str(messages[-1].content)
        answer = json.dumps(keyword_extraction(prompt), ensure_ascii=False)
        usage = {
            "input_tokens": sum(len(str(m.content).split()) for m in messages),
            "output_tokens": len(answer.split()),
        }
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        message = AIMessage(
            content=answer,
            usage_metadata=usage,
            response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


@dataclass(frozen=True)
class Extraction:
    entities: list[tuple[str, str]]
    relations: list[tuple[str, str, str]]


def chat_model(spec: str) -> BaseChatModel:
    """`keyword` for the local model, else `<provider>:<model>` via langchain's init_chat_model."""
    if spec == "keyword":
        return KeywordChatModel()
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as error:
        raise RuntimeError(
            f"PIPELINE_CHAT_MODEL={spec!r} needs the `langchain` package and the provider's "
            "integration package; use PIPELINE_CHAT_MODEL=keyword for the offline model"
        ) from error
    return init_chat_model(spec, temperature=0)


def build_chain(spec: str) -> Runnable:
    """prompt | chat model | JSON parser."""
    return PROMPT | chat_model(spec) | JsonOutputParser()


def extract(chain: Runnable, title: str, description: str, transcript: str) -> Extraction:
    """Run the chain and keep only well-formed entities and relations."""
    answer = chain.invoke({"title": title, "description": description, "transcript": transcript})
    entities = [
        (str(e["name"]), str(e.get("type", "Concept")))
        for e in answer.get("entities", [])
        if isinstance(e, dict) and e.get("name")
    ]
    known = {name for name, _ in entities}
    relations = [
        (str(r["source"]), str(r["predicate"]), str(r["target"]))
        for r in answer.get("relations", [])
        if isinstance(r, dict) and r.get("source") in known and r.get("target") in known
    ]
    return Extraction(entities=entities, relations=relations)
