"""The callback handler that turns LangChain runs into spans.

It runs inline (`run_inline = True`): LangChain then calls it in the caller's thread or
task, even from async code, so attaching a run's span as the current context is seen by
the step's own work (HTTP requests, database queries). Parents always come from
LangChain's run tree (`parent_run_id`); only root runs use the ambient context.
Every callback is guarded (podcast_kg_otel_util.failopen): an error in here is logged once
and never reaches the chain.
"""

from __future__ import annotations

import atexit
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Tracer
from podcast_kg_otel_util.errors import error_type
from podcast_kg_otel_util.failopen import guard

from . import attributes as attr
from . import content, extract, outcome, scope
from .config import Settings
from .plumbing import is_plumbing
from .registry import RunEntry, RunRegistry

_logger = logging.getLogger(__name__)
_EMPTY: Mapping[str, Any] = {}


class OtelCallbackHandler(BaseCallbackHandler):
    """Spans for chains, chat models, text LLMs, tools, retrievers and agents."""

    run_inline = True
    raise_error = False
    ignore_custom_event = True

    def __init__(self, tracer: Tracer, settings: Settings) -> None:
        super().__init__()
        self.enabled = True
        self._tracer = tracer
        self._capture = settings.capture_content
        self._limit = settings.content_max_length
        self._show_all = settings.show_all_runs
        self._exit_hook = False
        self._runs = RunRegistry(settings.max_open_runs, settings.run_timeout_s, self._evict)

    def __copy__(self) -> OtelCallbackHandler:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> OtelCallbackHandler:
        # Configs holding callbacks get copied; there must stay one handler and one map.
        return self

    # ---- run bookkeeping ------------------------------------------------------------

    def _open(
        self,
        run_id: UUID,
        parent: RunEntry | None,
        name: str,
        span_name: str,
        kind: SpanKind,
        attrs: dict[str, Any],
        ctx: Context,
    ) -> RunEntry:
        """Start the run's span under its run-tree parent (or the ambient context `ctx`)."""
        parent_ctx = scope.ambient(ctx) if parent is None else parent.child_ctx
        attrs[attr.RUN_ID] = str(run_id)
        span = self._tracer.start_span(span_name, parent_ctx, kind, attrs)
        if not self._exit_hook and span.is_recording():
            self._register_exit_hook()
        entry = RunEntry(run_id, name, span, parent, parent_ctx, parent_ctx, None)
        entry.child_ctx, step_ctx = scope.contexts(span, parent_ctx, entry)
        entry.token = scope.attach(step_ctx)
        self._runs.add(entry)
        return entry

    def _close(
        self,
        run_id: UUID,
        finish: Callable[[Span, RunEntry], None] | None = None,
    ) -> None:
        entry = self._runs.pop(run_id)
        if entry is None:
            return
        span = entry.span
        if span is None:
            entry.closed = True
            return
        try:
            if finish is not None and span.is_recording():
                finish(span, entry)
        finally:
            entry.closed = True
            scope.release(entry)
            span.end()

    def _evict(self, entry: RunEntry) -> None:
        self._orphan(entry, own_only=True)

    def _register_exit_hook(self) -> None:
        """End the runs still open at interpreter exit (a stream nobody closed) as orphans.

        atexit runs last-registered first, and the SDK registers its flush when its
        provider is built. Registering at the first recording span, not in
        `instrument()`, puts this hook after that one even when the provider was built
        after `instrument()`, so the orphans are ended before the flush, not lost.
        """
        self._exit_hook = True
        atexit.unregister(self.end_all)
        atexit.register(self.end_all)

    def _orphan(self, entry: RunEntry, own_only: bool = False) -> None:
        entry.closed = True
        span = entry.span
        if span is None:
            return
        span.set_attribute(attr.RUN_ORPHANED, True)
        scope.release(entry, own_only=own_only)
        # The token links to the context before the attach: an abandoned run whose
        # context lives on must not keep a chain of earlier contexts alive.
        entry.token = None
        span.end()

    def _error(self, error: BaseException, run_id: UUID, result: Any = None) -> None:
        capture, limit = self._capture, self._limit

        def finish(span: Span, entry: RunEntry) -> None:
            if result is not None:
                span.set_attributes(extract.response(result))
            if outcome.apply(span, error, capture, limit) is outcome.Outcome.CONTROL_FLOW:
                _mark_root_paused(entry, error)

        self._close(run_id, finish)

    def open_run(self, run_id: UUID) -> RunEntry | None:
        """The run's entry while its span is open, else None."""
        entry = self._runs.get(run_id)
        if entry is None or entry.span is None or entry.closed:
            return None
        return entry

    def end_all(self) -> None:
        """End every open span as orphaned (on uninstrument and at interpreter exit)."""
        for entry in self._runs.drain():
            self._orphan(entry)

    # ---- chains and agents ----------------------------------------------------------

    @guard(_logger, "on_chain_start")
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        # The current context, or None when no span may start (uninstrumented, or
        # inside suppress_instrumentation()). Read once per start: a root run's
        # parent comes from it. The other start callbacks do the same.
        ctx = scope.start_context() if self.enabled else None
        if ctx is None:
            return
        name = kwargs.get("name") or extract.serialized_name(serialized, "chain")
        metadata = metadata or _EMPTY
        parent = self._runs.get(parent_run_id)
        agent = extract.is_agent(name, metadata)
        if (
            parent is not None
            and not agent
            and not self._show_all
            and is_plumbing(name, kwargs.get("run_type"), tags)
        ):
            # Folded: no span, but kept in the run tree so children find their
            # nearest shown ancestor and early stops are still detected.
            tree_ctx = parent.child_ctx
            self._runs.add(RunEntry(run_id, name, None, parent, tree_ctx, tree_ctx, None))
            return
        # gen_ai.operation.name already tells workflows and agents apart; the
        # LangChain run type is recorded only on the other (non-GenAI) steps.
        attrs: dict[str, Any] = {}
        if agent:
            agent_name = metadata.get("agent_name")
            agent_name = agent_name if isinstance(agent_name, str) else name
            attrs[attr.OPERATION_NAME] = attr.OP_INVOKE_AGENT
            attrs[attr.AGENT_NAME] = agent_name
            span_name = f"{attr.OP_INVOKE_AGENT} {agent_name}"
        elif parent is None:
            attrs[attr.OPERATION_NAME] = attr.OP_INVOKE_WORKFLOW
            attrs[attr.WORKFLOW_NAME] = name
            span_name = f"{attr.OP_INVOKE_WORKFLOW} {name}"
        else:
            attrs[attr.RUN_TYPE] = kwargs.get("run_type") or "chain"
            span_name = name
        extract.common(metadata, attrs)
        entry = self._open(run_id, parent, name, span_name, SpanKind.INTERNAL, attrs, ctx)
        entry.is_agent = agent

    @guard(_logger, "on_chain_end")
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, _end_chain)

    @guard(_logger, "on_chain_error")
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._error(error, run_id)

    @guard(_logger, "on_agent_action")
    def on_agent_action(self, action: Any, *, run_id: UUID, **kwargs: Any) -> None:
        entry = self._runs.get(run_id)
        if entry is None or entry.span is None or entry.is_agent:
            return
        entry.is_agent = True
        entry.span.update_name(f"{attr.OP_INVOKE_AGENT} {entry.name}")
        entry.span.set_attribute(attr.OPERATION_NAME, attr.OP_INVOKE_AGENT)
        entry.span.set_attribute(attr.AGENT_NAME, entry.name)

    def on_interrupt(self, *args: Any, **kwargs: Any) -> None:
        self._graph_event(attr.EVENT_INTERRUPT, kwargs)

    def on_resume(self, *args: Any, **kwargs: Any) -> None:
        self._graph_event(attr.EVENT_RESUME, kwargs)

    def _graph_event(self, event: str, kwargs: Mapping[str, Any]) -> None:
        with guard(_logger, event):
            entry = self._runs.get(kwargs.get("run_id"))
            if entry is not None and entry.span is not None:
                entry.span.add_event(event)

    # ---- chat models and text LLMs --------------------------------------------------

    def _start_model(
        self,
        operation: str,
        serialized: Any,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        ctx: Context,
    ) -> RunEntry:
        metadata = metadata or _EMPTY
        params = kwargs.get("invocation_params") or _EMPTY
        attrs: dict[str, Any] = {attr.OPERATION_NAME: operation}
        extract.request(metadata, params, attrs)
        model = attrs.get(attr.REQUEST_MODEL)
        span_name = f"{operation} {model}" if model else operation
        name = kwargs.get("name") or extract.serialized_name(serialized, operation)
        parent = self._runs.get(parent_run_id)
        return self._open(run_id, parent, name, span_name, SpanKind.CLIENT, attrs, ctx)

    @guard(_logger, "on_chat_model_start")
    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        ctx = scope.start_context() if self.enabled else None
        if ctx is None:
            return
        entry = self._start_model(
            attr.OP_CHAT, serialized, run_id, parent_run_id, metadata, kwargs, ctx
        )
        if self._capture:
            entry.span.set_attribute(
                attr.INPUT_MESSAGES, content.input_messages(messages, self._limit)
            )

    @guard(_logger, "on_llm_start")
    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        ctx = scope.start_context() if self.enabled else None
        if ctx is None:
            return
        entry = self._start_model(
            attr.OP_TEXT_COMPLETION,
            serialized,
            run_id,
            parent_run_id,
            metadata,
            kwargs,
            ctx,
        )
        if self._capture:
            entry.span.set_attribute(
                attr.INPUT_MESSAGES, content.input_prompts(prompts, self._limit)
            )

    @guard(_logger, "on_llm_new_token")
    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        entry = self._runs.get(run_id)
        if entry is None or entry.first_chunk_seen or entry.span is None:
            return
        entry.first_chunk_seen = True
        entry.span.set_attributes(
            {
                attr.RESPONSE_TIME_TO_FIRST_CHUNK: time.monotonic() - entry.started,
                attr.REQUEST_STREAM: True,
            }
        )

    @guard(_logger, "on_llm_end")
    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        capture, limit = self._capture, self._limit

        def finish(span: Span, _entry: RunEntry) -> None:
            span.set_attributes(extract.response(response))
            if capture:
                span.set_attribute(attr.OUTPUT_MESSAGES, content.output_messages(response, limit))

        self._close(run_id, finish)

    @guard(_logger, "on_llm_error")
    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._error(error, run_id, kwargs.get("response"))

    # ---- tools ------------------------------------------------------------------------

    @guard(_logger, "on_tool_start")
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        ctx = scope.start_context() if self.enabled else None
        if ctx is None:
            return
        name = kwargs.get("name") or extract.serialized_name(serialized, "tool")
        attrs: dict[str, Any] = {
            attr.OPERATION_NAME: attr.OP_EXECUTE_TOOL,
            attr.TOOL_NAME: name,
            attr.TOOL_TYPE: "function",
        }
        call_id = kwargs.get("tool_call_id")
        if isinstance(call_id, str) and call_id:
            attrs[attr.TOOL_CALL_ID] = call_id
        description = serialized.get("description") if serialized else None
        if isinstance(description, str) and description:
            attrs[attr.TOOL_DESCRIPTION] = content.capped(description, self._limit)
        if self._capture:
            arguments = kwargs.get("inputs")
            attrs[attr.TOOL_CALL_ARGUMENTS] = content.capped(
                input_str if arguments is None else arguments, self._limit
            )
        extract.common(metadata or _EMPTY, attrs)
        span_name = f"{attr.OP_EXECUTE_TOOL} {name}"
        parent = self._runs.get(parent_run_id)
        self._open(run_id, parent, name, span_name, SpanKind.INTERNAL, attrs, ctx)

    @guard(_logger, "on_tool_end")
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        capture, limit = self._capture, self._limit

        def finish(span: Span, _entry: RunEntry) -> None:
            if capture:
                span.set_attribute(attr.TOOL_CALL_RESULT, content.tool_result(output, limit))

        self._close(run_id, finish)

    @guard(_logger, "on_tool_error")
    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._error(error, run_id)

    # ---- retrievers -------------------------------------------------------------------

    @guard(_logger, "on_retriever_start")
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        ctx = scope.start_context() if self.enabled else None
        if ctx is None:
            return
        metadata = metadata or _EMPTY
        name = kwargs.get("name") or extract.serialized_name(serialized, "retriever")
        attrs: dict[str, Any] = {
            attr.OPERATION_NAME: attr.OP_RETRIEVAL,
        }
        provider = extract.provider_name(metadata.get("ls_vector_store_provider"))
        if provider:
            attrs[attr.PROVIDER_NAME] = provider
        embedding_model = metadata.get("ls_embedding_model")
        if isinstance(embedding_model, str) and embedding_model:
            attrs[attr.REQUEST_MODEL] = embedding_model
        if self._capture:
            attrs[attr.RETRIEVAL_QUERY_TEXT] = content.capped(query, self._limit)
        extract.common(metadata, attrs)
        span_name = f"{attr.OP_RETRIEVAL} {name}"
        parent = self._runs.get(parent_run_id)
        self._open(run_id, parent, name, span_name, SpanKind.CLIENT, attrs, ctx)

    @guard(_logger, "on_retriever_end")
    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        capture, limit = self._capture, self._limit

        def finish(span: Span, _entry: RunEntry) -> None:
            span.set_attribute(attr.RETRIEVAL_DOCUMENTS_COUNT, len(documents))
            if capture:
                span.set_attribute(attr.RETRIEVAL_DOCUMENTS, content.document_ids(documents, limit))

        self._close(run_id, finish)

    @guard(_logger, "on_retriever_error")
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._error(error, run_id)


def _end_chain(span: Span, entry: RunEntry) -> None:
    # A chain that ends while its steps still run was stopped early by its consumer
    # (a stream abandoned mid-way): that is a cancellation, not a success or an error.
    if entry.open_children > 0:
        span.set_attribute(attr.RUN_CANCELLED, True)


def _mark_root_paused(entry: RunEntry, error: BaseException) -> None:
    """A node's interrupt pauses the whole graph: say so on the root span too, once,
    although the interrupt passes through every run between the node and the root."""
    root = entry
    while root.parent is not None:
        root = root.parent
    # A root already ended (evicted as an orphan) takes no event: the SDK would only
    # log a warning.
    if root is entry or root.span is None or root.closed or root.interrupt is error:
        return
    root.interrupt = error
    root.span.add_event(attr.EVENT_INTERRUPT, {attr.EXCEPTION_TYPE: error_type(error)})
