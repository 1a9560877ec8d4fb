"""The guide, Usage > Advanced Tracing > Provider Calls. A local stand-in answers for the
model; neither the prompt nor the answer goes into the span."""

from podcast_kg_otel import init_tracing, trace_provider_call


class LocalModel:
    def generate(self, text):
        return text.split(".")[0] + "."


llm_provider = LocalModel()


@trace_provider_call("llm", "generate", model="gemini-pro")
def generate_summary(text):
    return llm_provider.generate(text)


if __name__ == "__main__":
    init_tracing()
    print(generate_summary("A private first sentence. And a second one."))
