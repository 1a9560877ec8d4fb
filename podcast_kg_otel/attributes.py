"""Every span attribute name the API sets, in one place (semantic conventions where they
exist, a ``podcast_kg.`` namespace where they do not)."""

# Stable DB semantic conventions.
DB_SYSTEM_NAME = "db.system.name"
DB_OPERATION_NAME = "db.operation.name"
DB_QUERY_TEXT = "db.query.text"
# GenAI semantic conventions.
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
# Code semantic conventions.
CODE_FUNCTION_NAME = "code.function.name"
# Ours: what the guide's helpers describe and no convention covers.
PROVIDER_TYPE = "podcast_kg.provider.type"
PROVIDER_OPERATION = "podcast_kg.provider.operation"
PROVIDER_MODEL = "podcast_kg.provider.model"
BUSINESS_OPERATION_TYPE = "podcast_kg.operation.type"
BUSINESS_OPERATION_NAME = "podcast_kg.operation.name"
