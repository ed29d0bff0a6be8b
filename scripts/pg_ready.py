"""Exit 0 when the PostgreSQL server of a URL answers, creating its database if missing.

Django's test runner creates ``test_<name>`` itself, but it connects to ``<name>`` first
(falling back to ``postgres``), so we make sure ``<name>`` exists.
"""

import sys

import dj_database_url
import psycopg

config = dj_database_url.parse(sys.argv[1])
params = {"host": config["HOST"] or None, "port": config["PORT"] or None,
          "user": config["USER"] or None, "password": config["PASSWORD"] or None}
try:
    with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')
except psycopg.Error as exc:
    print(f"PostgreSQL: {exc}", file=sys.stderr)
    sys.exit(1)
