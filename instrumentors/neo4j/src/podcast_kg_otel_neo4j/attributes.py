"""Every attribute, event and span name this instrumentation emits, in one place: the
semantic conventions' names come from opentelemetry-semantic-conventions (stable ones
only), ours are declared here."""

from opentelemetry.semconv.attributes import (
    db_attributes,
    error_attributes,
    exception_attributes,
    network_attributes,
    server_attributes,
)

# Stable semantic conventions.
DB_SYSTEM_NAME = db_attributes.DB_SYSTEM_NAME
DB_NAMESPACE = db_attributes.DB_NAMESPACE
DB_QUERY_TEXT = db_attributes.DB_QUERY_TEXT
DB_QUERY_SUMMARY = db_attributes.DB_QUERY_SUMMARY
DB_STORED_PROCEDURE_NAME = db_attributes.DB_STORED_PROCEDURE_NAME
DB_RESPONSE_STATUS_CODE = db_attributes.DB_RESPONSE_STATUS_CODE
ERROR_TYPE = error_attributes.ERROR_TYPE
EXCEPTION_MESSAGE = exception_attributes.EXCEPTION_MESSAGE
EXCEPTION_STACKTRACE = exception_attributes.EXCEPTION_STACKTRACE
SERVER_ADDRESS = server_attributes.SERVER_ADDRESS
SERVER_PORT = server_attributes.SERVER_PORT
NETWORK_PEER_ADDRESS = network_attributes.NETWORK_PEER_ADDRESS
NETWORK_PEER_PORT = network_attributes.NETWORK_PEER_PORT
NETWORK_PROTOCOL_NAME = network_attributes.NETWORK_PROTOCOL_NAME
NETWORK_PROTOCOL_VERSION = network_attributes.NETWORK_PROTOCOL_VERSION
# Defined by the conventions (db.query.parameter.<key>, db.system.name=neo4j) only in
# their Development part: kept here, so nothing of ours depends on it.
DB_QUERY_PARAMETER_PREFIX = "db.query.parameter."
DB_SYSTEM_NEO4J = "neo4j"
PROTOCOL_BOLT = "bolt"

# Neo4j-specific, low cardinality.
NEO4J_ACCESS_MODE = "neo4j.access_mode"
NEO4J_TRANSACTION_TYPE = "neo4j.transaction.type"
NEO4J_TRANSACTION_ATTEMPT = "neo4j.transaction.attempt"
NEO4J_TRANSACTION_ATTEMPTS = "neo4j.transaction.attempts"
NEO4J_QUERY_TYPE = "neo4j.query.type"
NEO4J_RESULT_AVAILABLE_AFTER = "neo4j.result.available_after_ms"
NEO4J_RESULT_CONSUMED_AFTER = "neo4j.result.consumed_after_ms"
NEO4J_COUNTERS_PREFIX = "neo4j.counters."
NEO4J_SERVER_AGENT = "neo4j.server.agent"
NEO4J_GQL_STATUS = "neo4j.gql.status"
NEO4J_GQL_CLASSIFICATION = "neo4j.gql.classification"
NEO4J_ERROR_RETRYABLE = "neo4j.error.retryable"

# neo4j.transaction.type values.
TX_AUTO_COMMIT = "auto_commit"
TX_EXPLICIT = "explicit"
TX_MANAGED = "managed"
TX_EXECUTE_QUERY = "execute_query"

# Events.
EVENT_NOTIFICATION = "neo4j.notification"
EVENT_RETRY = "neo4j.transaction.retry"
NOTIFICATION_CODE = "neo4j.notification.code"
NOTIFICATION_SEVERITY = "neo4j.notification.severity"
NOTIFICATION_CATEGORY = "neo4j.notification.category"
NOTIFICATION_TITLE = "neo4j.notification.title"
NOTIFICATION_DESCRIPTION = "neo4j.notification.description"
NOTIFICATION_POSITION_LINE = "neo4j.notification.position.line"
NOTIFICATION_POSITION_COLUMN = "neo4j.notification.position.column"

# Span names that are not query summaries.
SPAN_COMMIT = "COMMIT"
SPAN_ROLLBACK = "ROLLBACK"
