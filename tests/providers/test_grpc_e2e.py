"""gRPC client spans under our distro, with the OTLP exporter itself on gRPC: the
application's calls are traced, the exporter's own calls are not. Read back from Jaeger."""

from __future__ import annotations

from stacktools.jaeger import JaegerClient
from stacktools.stack import Stack

SCRIPT = """
from concurrent import futures

import grpc
from opentelemetry import trace

def say(request, context):
    return request

handler = grpc.method_handlers_generic_handler(
    "podcast.Echo", {"Say": grpc.unary_unary_rpc_method_handler(say)}
)
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
server.add_generic_rpc_handlers((handler,))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
with trace.get_tracer("grpc-test").start_as_current_span("job"):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        print("REPLY", channel.unary_unary("/podcast.Echo/Say")(b"hi", timeout=5).decode())
        try:
            channel.unary_unary("/podcast.Echo/Missing")(b"hi", timeout=5)
        except grpc.RpcError as error:
            print("ERROR", error.code().name)
server.stop(0)
"""


def test_grpc_client_spans_and_no_spans_of_the_exporters_own_calls(
    run_instrumented, stack: Stack, jaeger: JaegerClient, service_name: str
) -> None:
    env = {
        **stack.otel_env(service_name),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_grpc_endpoint,
    }
    result = run_instrumented(SCRIPT, env=env)
    assert result.returncode == 0, result.stderr
    assert "REPLY hi" in result.stdout and "ERROR UNIMPLEMENTED" in result.stdout

    trace = jaeger.wait_for_trace(service_name, min_spans=3)
    root = trace.one("job")
    (say,) = [s for s in trace.named("/podcast.Echo/Say") if s.kind == "client"]
    assert say.parent is root
    assert say.attributes["rpc.system"] == "grpc"
    assert say.attributes["rpc.service"] == "podcast.Echo"
    assert say.attributes["rpc.method"] == "Say"
    assert say.attributes["rpc.grpc.status_code"] == 0
    (served,) = say.children  # the server instrumentation continues the trace
    assert served.kind == "server" and served.name == "/podcast.Echo/Say"

    missing = trace.one("/podcast.Echo/Missing")
    assert missing.parent is root and missing.status_code == "ERROR"
    assert missing.attributes["rpc.grpc.status_code"] == 12  # UNIMPLEMENTED

    # The exporter's own Export calls made no spans (it exports with instrumentation
    # suppressed): this is the service's only trace.
    assert len(jaeger.traces(service_name)) == 1
    assert not [s for s in trace.spans if "TraceService" in s.name]
