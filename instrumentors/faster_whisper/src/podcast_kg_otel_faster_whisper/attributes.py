"""Every span name and attribute name this instrumentation emits, in one place.

GenAI names follow the (Development) GenAI semantic conventions; `speech_to_text` and
`gen_ai.speech.input.language` follow the open speech-to-text proposal. Everything
specific to faster-whisper lives under `faster_whisper.*`. Names the semantic conventions
define come from opentelemetry-semantic-conventions; the rest are declared here.
"""

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

# Span names. The transcription span is "speech_to_text {model}".
SPAN_TRANSCRIBE = "speech_to_text"
SPAN_LOAD_MODEL = "faster_whisper.load_model"
SPAN_DECODE_AUDIO = "faster_whisper.decode_audio"
SPAN_VAD = "faster_whisper.vad"
SPAN_DETECT_LANGUAGE = "faster_whisper.detect_language"

# GenAI semantic conventions (Development upstream: a rename there fails here, at import).
GEN_AI_OPERATION_NAME = gen_ai.GEN_AI_OPERATION_NAME
GEN_AI_PROVIDER_NAME = gen_ai.GEN_AI_PROVIDER_NAME
GEN_AI_REQUEST_MODEL = gen_ai.GEN_AI_REQUEST_MODEL
GEN_AI_OUTPUT_TYPE = gen_ai.GEN_AI_OUTPUT_TYPE
GEN_AI_REQUEST_MAX_TOKENS = gen_ai.GEN_AI_REQUEST_MAX_TOKENS
GEN_AI_USAGE_OUTPUT_TOKENS = gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS
GEN_AI_OUTPUT_MESSAGES = gen_ai.GEN_AI_OUTPUT_MESSAGES
OUTPUT_TYPE_TEXT = gen_ai.GenAiOutputTypeValues.TEXT.value
# The speech-to-text proposal's, not in the conventions yet.
GEN_AI_SPEECH_INPUT_LANGUAGE = "gen_ai.speech.input.language"
OPERATION_SPEECH_TO_TEXT = "speech_to_text"
PROVIDER_FASTER_WHISPER = "faster_whisper"

# Model and runtime.
MODEL_SOURCE = "faster_whisper.model.source"  # directory | hub | memory
MODEL_MULTILINGUAL = "faster_whisper.model.multilingual"
DEVICE = "faster_whisper.device"
DEVICE_INDEX = "faster_whisper.device_index"
COMPUTE_TYPE = "faster_whisper.compute_type"
COMPUTE_TYPE_RESOLVED = "faster_whisper.compute_type.resolved"
CPU_THREADS = "faster_whisper.cpu_threads"
NUM_WORKERS = "faster_whisper.num_workers"
PIPELINE = "faster_whisper.pipeline"  # whisper_model | batched

# Options that shape the cost of a transcription.
TASK = "faster_whisper.task"
BEAM_SIZE = "faster_whisper.beam_size"
BEST_OF = "faster_whisper.best_of"
TEMPERATURES = "faster_whisper.temperatures"
VAD_FILTER = "faster_whisper.vad_filter"
WORD_TIMESTAMPS = "faster_whisper.word_timestamps"
WITHOUT_TIMESTAMPS = "faster_whisper.without_timestamps"
CONDITION_ON_PREVIOUS_TEXT = "faster_whisper.condition_on_previous_text"
BATCH_SIZE = "faster_whisper.batch_size"
CHUNK_LENGTH = "faster_whisper.chunk_length"

# Input audio and language.
AUDIO_SOURCE = "faster_whisper.audio.source"  # array | path | file
AUDIO_DURATION = "faster_whisper.audio.duration"
AUDIO_DURATION_AFTER_VAD = "faster_whisper.audio.duration_after_vad"
LANGUAGE_REQUESTED = "faster_whisper.language.requested"
LANGUAGE_DETECTED = "faster_whisper.language.detected"
LANGUAGE_PROBABILITY = "faster_whisper.language.probability"
LANGUAGE_DETECTION_SEGMENTS = "faster_whisper.language_detection.segments"
VAD_SPEECH_CHUNKS = "faster_whisper.vad.speech_chunks"

# The lazy segment stream.
SEGMENTS_COUNT = "faster_whisper.segments.count"
SEGMENTS_CONSUMED = "faster_whisper.segments.consumed"
SEGMENTS_END = "faster_whisper.segments.end"  # exhausted | closed | error | abandoned
SEGMENTS_LAST_END = "faster_whisper.segments.last_end"
WORDS_COUNT = "faster_whisper.words.count"
WINDOWS_COUNT = "faster_whisper.windows.count"
TIME_TO_FIRST_SEGMENT = "faster_whisper.time_to_first_segment"
COMPUTE_DURATION = "faster_whisper.compute.duration"
REALTIME_FACTOR = "faster_whisper.realtime_factor"

END_EXHAUSTED = "exhausted"
END_CLOSED = "closed"
END_ERROR = "error"
END_ABANDONED = "abandoned"

# Quality signals for hallucination triage.
AVG_LOGPROB_MIN = "faster_whisper.avg_logprob.min"
AVG_LOGPROB_MEAN = "faster_whisper.avg_logprob.mean"
NO_SPEECH_PROB_MAX = "faster_whisper.no_speech_prob.max"
COMPRESSION_RATIO_MAX = "faster_whisper.compression_ratio.max"
TEMPERATURE_MAX = "faster_whisper.temperature.max"
TEMPERATURE_FALLBACK_COUNT = "faster_whisper.temperature_fallback.count"
SUSPECTED_HALLUCINATION_COUNT = "faster_whisper.suspected_hallucination.count"

# Opt-in content: the transcript is "truncated" when it exceeded the size cap.
TRANSCRIPT_TRUNCATED = "faster_whisper.transcript.truncated"
