"""The SQL mirror of QuickBooks companies: tables (:mod:`.models`), exact column types (:mod:`.types`), database
set-up and migrations (:mod:`.db`), and the database-backed token store (:mod:`.tokens`).

Typical use::

    from syncd.mirror.db import make_engine, make_session_factory, upgrade
    engine = make_engine(url)            # sqlite:///… (WAL) or postgresql+psycopg://…
    upgrade(engine)                      # Alembic migrations shipped in syncd/mirror/migrations
    sessions = make_session_factory(engine)
"""
