"""Every attribute, event and span name this instrumentation emits, in one place."""

# Stable database semantic conventions.
DB_SYSTEM_NAME = "db.system.name"
DB_NAMESPACE = "db.namespace"
DB_QUERY_TEXT = "db.query.text"
DB_QUERY_SUMMARY = "db.query.summary"
DB_QUERY_PARAMETER_PREFIX = "db.query.parameter."
DB_STORED_PROCEDURE_NAME = "db.stored_procedure.name"
DB_RESPONSE_STATUS_CODE = "db.response.status_code"
ERROR_TYPE = "error.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
NETWORK_PEER_ADDRESS = "network.peer.address"
NETWORK_PEER_PORT = "network.peer.port"
NETWORK_PROTOCOL_NAME = "network.protocol.name"
NETWORK_PROTOCOL_VERSION = "network.protocol.version"

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
