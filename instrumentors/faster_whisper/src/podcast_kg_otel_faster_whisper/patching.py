"""Applying and removing the wrappers on `faster_whisper.transcribe`.

Patching waits for the application to import faster-whisper (a wrapt post-import hook)
instead of importing it at startup: importing it pulls in CTranslate2, PyAV and
tokenizers (about 0.3 s), a cost an auto-instrumented process that never transcribes
should not pay. `decode_audio` and `get_speech_timestamps` are wrapped in that module's
namespace because faster-whisper imports them by name.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from types import ModuleType

import wrapt
from opentelemetry.instrumentation.utils import unwrap
from podcast_kg_otel_util.failopen import guard

logger = logging.getLogger(__name__)

MODULE = "faster_whisper.transcribe"

# target "Class.method" or "function" -> wrapper; built once the module is imported.
WrapperFactory = Callable[[ModuleType], dict[str, Callable]]


class Patcher:
    """Idempotent patch/unpatch; the import hook is registered once per process."""

    def __init__(self) -> None:
        self._factory: WrapperFactory | None = None
        self._applied: list[tuple[object, str]] = []
        self._hooked = False
        self._lock = threading.RLock()

    def enable(self, factory: WrapperFactory) -> None:
        with self._lock:
            self._factory = factory
            if not self._hooked:
                self._hooked = True
                wrapt.register_post_import_hook(self._apply, MODULE)  # runs now if imported
            elif MODULE in sys.modules:
                self._apply(sys.modules[MODULE])

    def disable(self) -> None:
        with self._lock:
            self._factory = None
            for owner, name in reversed(self._applied):
                unwrap(owner, name)
            self._applied.clear()

    def _apply(self, module: ModuleType) -> None:
        """Runs inside the application's import: it must never raise."""
        with self._lock, guard(logger, "patching faster_whisper"):
            if self._factory is None or self._applied:
                return
            for target, wrapper in self._factory(module).items():
                owner_path, _, name = target.rpartition(".")
                owner = getattr(module, owner_path) if owner_path else module
                wrapt.wrap_function_wrapper(module, target, wrapper)
                self._applied.append((owner, name))


PATCHER = Patcher()
