"""GenAI attributes from what LangChain hands to callbacks.

Model and provider come first from the LangSmith `ls_*` metadata every chat model and LLM
reports, then from the invocation parameters. Usage, response model and finish reasons
are read from the generated messages (`usage_metadata`, `response_metadata`), falling
back to `llm_output` for older integrations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import attributes as attr

# LangChain `ls_provider` values -> semconv `gen_ai.provider.name` well-known values.
_PROVIDERS = {
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "bedrock": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "google_genai": "gcp.gen_ai",
    "google_vertexai": "gcp.vertex_ai",
    "google_anthropic_vertex": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "mistralai": "mistral_ai",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    "ibm": "ibm.watsonx.ai",
    "watsonx": "ibm.watsonx.ai",
    "moonshot": "moonshot_ai",
}

_EMPTY: Mapping[str, Any] = {}
_CONVERSATION_KEYS = ("conversation_id", "thread_id", "session_id")
_FINISH_KEYS = ("finish_reason", "stop_reason", "done_reason")


def provider_name(ls_provider: object) -> str | None:
    if not isinstance(ls_provider, str) or not ls_provider:
        return None
    lowered = ls_provider.lower()
    return _PROVIDERS.get(lowered, lowered)


def _number(value: object) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _strings(value: object) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def model_name(metadata: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
    for value in (
        metadata.get("ls_model_name"),
        params.get("model"),
        params.get("model_name"),
        params.get("model_id"),
    ):
        if isinstance(value, str) and value:
            return value
    return None


def common(metadata: Mapping[str, Any], attrs: dict[str, Any]) -> None:
    """Conversation id and LangGraph position, when the metadata carries them."""
    if not metadata:
        return
    for key in _CONVERSATION_KEYS:
        value = metadata.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            attrs[attr.CONVERSATION_ID] = str(value)
            break
    node = metadata.get("langgraph_node")
    if isinstance(node, str):
        attrs[attr.LANGGRAPH_NODE] = node
    step = _int(metadata.get("langgraph_step"))
    if step is not None:
        attrs[attr.LANGGRAPH_STEP] = step


# Invocation parameters with the conversion each gets (bools excluded); `n` and the
# max-token aliases are handled on their own.
_CONVERTED_PARAMS = (
    ("top_p", attr.REQUEST_TOP_P, _number),
    ("frequency_penalty", attr.REQUEST_FREQUENCY_PENALTY, _number),
    ("presence_penalty", attr.REQUEST_PRESENCE_PENALTY, _number),
    ("top_k", attr.REQUEST_TOP_K, _int),
    ("seed", attr.REQUEST_SEED, _int),
)
_MAX_TOKENS_PARAMS = ("max_tokens", "max_output_tokens", "max_tokens_to_sample", "num_predict")


def request(metadata: Mapping[str, Any], params: Mapping[str, Any], attrs: dict[str, Any]) -> None:
    """Request parameters (model, sampling settings, streaming) into `attrs`."""
    provider = provider_name(metadata.get("ls_provider"))
    if provider:
        attrs[attr.PROVIDER_NAME] = provider
    model = model_name(metadata, params)
    if model:
        attrs[attr.REQUEST_MODEL] = model
    temperature = _number(metadata.get("ls_temperature", params.get("temperature")))
    if temperature is not None:
        attrs[attr.REQUEST_TEMPERATURE] = temperature
    # Most models set few of these: test the keys, and convert only those present.
    for name, key, convert in _CONVERTED_PARAMS:
        if name in params:
            value = convert(params[name])
            if value is not None:
                attrs[key] = value
    max_tokens = metadata.get("ls_max_tokens")
    if not max_tokens:
        for name in _MAX_TOKENS_PARAMS:
            max_tokens = params.get(name)
            if max_tokens:
                break
    max_tokens = _int(max_tokens)
    if max_tokens is not None:
        attrs[attr.REQUEST_MAX_TOKENS] = max_tokens
    if "n" in params:
        choices = _int(params["n"])
        if choices is not None and choices != 1:
            attrs[attr.REQUEST_CHOICE_COUNT] = choices
    stop = _strings(metadata.get("ls_stop") or params.get("stop"))
    if stop:
        attrs[attr.REQUEST_STOP_SEQUENCES] = stop
    if params.get("stream") is True:
        attrs[attr.REQUEST_STREAM] = True
    common(metadata, attrs)


def _usage_from_message(usage: Mapping[str, Any], totals: dict[str, int]) -> None:
    pairs = [
        (attr.USAGE_INPUT_TOKENS, usage.get("input_tokens")),
        (attr.USAGE_OUTPUT_TOKENS, usage.get("output_tokens")),
    ]
    input_details = usage.get("input_token_details")
    if isinstance(input_details, Mapping):
        pairs.append((attr.USAGE_CACHE_READ_INPUT_TOKENS, input_details.get("cache_read")))
        pairs.append((attr.USAGE_CACHE_CREATION_INPUT_TOKENS, input_details.get("cache_creation")))
    output_details = usage.get("output_token_details")
    if isinstance(output_details, Mapping):
        pairs.append((attr.USAGE_REASONING_OUTPUT_TOKENS, output_details.get("reasoning")))
    for key, value in pairs:
        count = _int(value)
        if count is not None:
            totals[key] = count


def _usage_from_llm_output(llm_output: Mapping[str, Any], totals: dict[str, int]) -> None:
    usage = llm_output.get("token_usage") or llm_output.get("usage")
    if not isinstance(usage, Mapping):
        return
    for key, names in (
        (attr.USAGE_INPUT_TOKENS, ("prompt_tokens", "input_tokens")),
        (attr.USAGE_OUTPUT_TOKENS, ("completion_tokens", "output_tokens")),
    ):
        for name in names:
            count = _int(usage.get(name))
            if count is not None:
                totals[key] = count
                break


def _finish_reason(source: Mapping[str, Any]) -> str | None:
    for key in _FINISH_KEYS:
        reason = source.get(key)
        if reason:
            return reason if isinstance(reason, str) else None
    return None


def _is_mapping(value: object) -> bool:
    # The messages' metadata are plain dicts: skip the slower ABC check for them.
    return type(value) is dict or isinstance(value, Mapping)


def response(result: Any) -> dict[str, Any]:
    """Response model, id, finish reasons and token usage of an `LLMResult`."""
    out: dict[str, Any] = {}
    totals: dict[str, int] = {}
    finish_reasons: list[str] = []
    for generations in getattr(result, "generations", None) or ():
        for generation in generations:
            info = getattr(generation, "generation_info", None) or _EMPTY
            message = getattr(generation, "message", None)
            metadata = getattr(message, "response_metadata", None) or _EMPTY
            reason = (metadata and _finish_reason(metadata)) or (info and _finish_reason(info))
            if reason:
                finish_reasons.append(reason)
            if metadata:
                model = metadata.get("model_name") or metadata.get("model")
                if isinstance(model, str) and model:
                    out[attr.RESPONSE_MODEL] = model
            message_id = getattr(message, "id", None)
            if isinstance(message_id, str) and not message_id.startswith(("lc_run-", "run-")):
                out[attr.RESPONSE_ID] = message_id
            usage = getattr(message, "usage_metadata", None)
            # Several choices of one request (n > 1) each carry the whole request's
            # usage (langchain-openai does this): count it once, not once per choice.
            if usage is not None and not totals and _is_mapping(usage):
                _usage_from_message(usage, totals)
    llm_output = getattr(result, "llm_output", None)
    if llm_output is not None and _is_mapping(llm_output):
        if not totals:
            _usage_from_llm_output(llm_output, totals)
        model = llm_output.get("model_name") or llm_output.get("model")
        if attr.RESPONSE_MODEL not in out and isinstance(model, str) and model:
            out[attr.RESPONSE_MODEL] = model
    if finish_reasons:
        out[attr.RESPONSE_FINISH_REASONS] = finish_reasons
    out.update(totals)
    return out


def serialized_name(serialized: Any, default: str) -> str:
    """A run's name from LangChain's `serialized` (which may be None or partial)."""
    if isinstance(serialized, Mapping):
        name = serialized.get("name")
        if isinstance(name, str) and name:
            return name
        ids = serialized.get("id")
        if isinstance(ids, list) and ids and isinstance(ids[-1], str):
            return ids[-1]
    return default


def is_agent(name: str, metadata: Mapping[str, Any]) -> bool:
    """Whether a chain run is an agent (by its name, or LangGraph's `agent_name`)."""
    return "agent" in name.lower() or isinstance(metadata.get("agent_name"), str)
