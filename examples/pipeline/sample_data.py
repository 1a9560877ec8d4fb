"""The bundled demo feed and its short WAV files, written at run time (no binaries in git)."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

FEED_TEMPLATE = Path(__file__).parent / "data" / "feed.xml"
AUDIO_SECONDS = 2.0


def write_sample_media(directory: Path, base_url: str) -> Path:
    """Write feed.xml (pointing at `base_url`) and the WAV files it references.

    Audio whose file name ends in ``-removed.wav`` is left out on purpose: that episode
    fails the way a podcast whose audio was taken down does (HTTP 404).
    """
    from stacktools.tiny_whisper import synth_audio, write_wav

    feed = Template(FEED_TEMPLATE.read_text()).substitute(base_url=base_url.rstrip("/"))
    (directory / "audio").mkdir(parents=True, exist_ok=True)
    (directory / "feed.xml").write_text(feed)
    for name in re.findall(r"/audio/([\w.-]+\.wav)", feed):
        if not name.endswith("-removed.wav"):
            write_wav(directory / "audio" / name, synth_audio(AUDIO_SECONDS, "speech"))
    return directory / "feed.xml"
