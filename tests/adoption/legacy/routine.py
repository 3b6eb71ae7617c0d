"""Ordinary work on a dozen tables, six revisions each, and the last few steps."""

from __future__ import annotations

from tests.adoption.legacy.common import LOCK_TIMEOUT, USES_HELPERS
from tests.adoption.revisions import History

FILLER_TABLES = [
    *("milestones", "sprints", "checklists", "webhooks", "api_keys", "notifications"),
    *("saved_filters", "time_entries", "custom_fields", "integrations", "reminders", "templates"),
]


def filler(h: History, table: str) -> None:
    """Six revisions a table goes through in a few years of ordinary work."""
    steps = [
        (
            f"create {table}",
            [
                f'op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True),',
                '    sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"),',
                '        nullable=False), sa.Column("title", sa.String(200), nullable=False),',
                "    *timestamps())",
            ],
            [f'op.drop_table("{table}")'],
        ),
        (
            f"notes on {table}",
            [f'op.add_column("{table}", sa.Column("notes", sa.Text()))'],
            [f'op.drop_column("{table}", "notes")'],
        ),
        (
            f"index {table} by project",
            [f'op.create_index("ix_{table}_project_id", "{table}", ["project_id"])'],
            [f'op.drop_index("ix_{table}_project_id", table_name="{table}")'],
        ),
        (
            f"unique {table} titles per project",
            [f'op.create_unique_constraint(None, "{table}", ["project_id", "title"])'],
            [f'op.drop_constraint("{table}_project_id_title_key", "{table}", type_="unique")'],
        ),
        (
            f"longer {table} titles",
            [
                LOCK_TIMEOUT,
                f'op.alter_column("{table}", "title", type_=sa.String(255),',
                "    existing_type=sa.String(200), existing_nullable=False)",
            ],
            [
                f'op.alter_column("{table}", "title", type_=sa.String(200),',
                "    existing_type=sa.String(255), existing_nullable=False)",
            ],
        ),
        (
            f"archive {table}",
            [
                f'op.add_column("{table}", sa.Column("archived_at", sa.DateTime(timezone=True)))',
                f'op.create_index("ix_{table}_live", "{table}", ["project_id"],',
                '    postgresql_where=sa.text("archived_at IS NULL"))',
            ],
            [
                f'op.drop_index("ix_{table}_live", table_name="{table}")',
                f'op.drop_column("{table}", "archived_at")',
            ],
        ),
    ]
    for n, (message, up, down) in enumerate(steps):
        h.add(message, up, down, imports=USES_HELPERS if n == 0 else [])


def last_steps(h: History) -> None:
    table = FILLER_TABLES[0]
    h.add(
        f"titles of {table} may repeat",
        [f'op.drop_constraint("{table}_project_id_title_key", "{table}", type_="unique")'],
        [f'op.create_unique_constraint(None, "{table}", ["project_id", "title"])'],
    )
    h.add(
        "task archive flag",
        [
            'op.add_column("tasks", sa.Column("archived", sa.Boolean(), server_default="false",',
            "    nullable=False))",
        ],
        ['op.drop_column("tasks", "archived")'],
    )
    h.add(
        "team slug",
        [
            'op.add_column("teams", sa.Column("slug", sa.String(60)))',
            'op.execute("UPDATE teams SET slug = lower(name)")',
            'op.create_unique_constraint(None, "teams", ["slug"])',
        ],
        ['op.drop_column("teams", "slug")'],
    )
