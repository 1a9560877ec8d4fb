"""Wait until Neo4j answers `RETURN 1` over Bolt with the stack's password.

On a fresh store the built-in user still has its initial password, which must be
changed before use: this script sets the configured one, so the server always runs
with authentication enabled and a known test password.
"""

import os
import sys
import time

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired

INITIAL_PASSWORD = "neo4j"


def _return_one(uri: str, auth: tuple[str, str]) -> None:
    with GraphDatabase.driver(uri, auth=auth, connection_timeout=3) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one")
        if records[0]["one"] != 1:
            raise RuntimeError(f"RETURN 1 gave {records!r}")


def _set_password(uri: str, user: str, password: str) -> None:
    initial = (user, INITIAL_PASSWORD)
    with (
        GraphDatabase.driver(uri, auth=initial, connection_timeout=3) as driver,
        driver.session(database="system") as session,
    ):
        session.run(
            "ALTER CURRENT USER SET PASSWORD FROM $old TO $new",
            old=INITIAL_PASSWORD,
            new=password,
        ).consume()


def main() -> int:
    uri = f"bolt://127.0.0.1:{os.environ['STACK_NEO4J_BOLT_PORT']}"
    user = os.environ["STACK_NEO4J_USER"]
    password = os.environ["STACK_NEO4J_PASSWORD"]
    deadline = time.monotonic() + float(sys.argv[1])
    while True:
        try:
            _return_one(uri, (user, password))
            return 0
        except AuthError:
            try:
                _set_password(uri, user, password)
            except AuthError:
                print(
                    f"neo4j: the store's password for {user!r} is neither STACK_NEO4J_PASSWORD "
                    "nor the initial one; set STACK_NEO4J_PASSWORD to it, or remove the "
                    "run directory's neo4j/data to start afresh",
                    file=sys.stderr,
                )
                return 2
        except (ServiceUnavailable, SessionExpired, OSError):
            if time.monotonic() > deadline:
                print(f"neo4j: no answer on {uri}", file=sys.stderr)
                return 1
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
