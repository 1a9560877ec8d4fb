"""`make demo`'s last step: the pipeline runs traced, and trace trees are printed from Jaeger."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

from stacktools.stack import REPO_ROOT


def test_demo_prints_a_successful_and_a_failed_episode_tree(stack, jaeger):
    service = f"test-demo-command-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [sys.executable, "-m", "stacktools.demo", "--service-name", service],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    # The pipeline's progress (stderr) and report (stdout) were shown while it ran.
    assert "[3/4] ep-003 FAILED: audio download failed: HTTP 404" in result.stderr
    assert "done: 3 of 4 episodes stored in Neo4j" in out

    tree = out[out.index("Jaeger has 4 episode traces") : out.index("Where to look next")]
    ok_tree, failed_tree = tree.split("The episode that failed")
    lines = [line.strip() for line in ok_tree.splitlines() if "[" in line and "ms]" in line]
    names = [line.split("  [")[0] for line in lines]
    assert names[0] == "pipeline.stages.process_episode"
    for expected in (
        "speech_to_text demo-tiny-whisper",
        "chat keyword-extractor-1",
        "execute_write",
        "MERGE Episode SET",
        "execute_read",
    ):
        assert expected in names, names
    assert any(
        "http.status_code=200" in line or "http.response.status_code=200" in line for line in lines
    )
    assert "ERROR" not in ok_tree
    assert "!! requests.exceptions.HTTPError: 404 Client Error" in failed_tree
    assert re.search(r"GET  \[client, [\d.]+ ms\] ERROR .*status_code=404", failed_tree)

    # The printed trace ids are real traces of this service in Jaeger.
    trace_ids = re.findall(r"/api/traces/([0-9a-f]{16,32})", out)
    assert len(trace_ids) == 2
    for trace_id in trace_ids:
        trace = jaeger.trace(trace_id)
        assert trace is not None
        assert trace.root.service == service
        assert trace.root.name == "pipeline.stages.process_episode"
