"""Exit 0 if PostgreSQL answers at the URL (creating its database if missing), else 1.

Used by `make test` to decide whether the PostgreSQL run happens.
"""

import sys
from urllib.parse import urlsplit

import psycopg
from psycopg import sql


def main(url: str) -> int:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "tidings"
    admin_url = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin_url, connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        print(f"PostgreSQL at {parts.hostname}:{parts.port or 5432}: {str(exc).strip().splitlines()[0]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
