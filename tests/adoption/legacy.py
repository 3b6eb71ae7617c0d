"""A long-lived `public`-schema history with no models, written with real histories' habits.

Unnamed constraints that Postgres names (and a later revision drops by that name),
`CREATE INDEX CONCURRENTLY` and `ALTER TYPE ... ADD VALUE` in autocommit blocks, a revision
that commits by itself, `SET lock_timeout`, data migrations that read rows, a labelled
branch with `depends_on`, merges, and a helper module the revisions import.
"""

from __future__ import annotations

from tests.adoption.revisions import History, Rev

HELPERS_MODULE = "migration_helpers"
HELPERS = '''"""What the revisions share (imported through prepend_sys_path = .)."""

import sqlalchemy as sa
from alembic import op


def timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
    ]


def add_updated_at_trigger(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_updated_at BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )


def drop_updated_at_trigger(table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_updated_at ON {table}")
'''
USES_HELPERS = [f"from {HELPERS_MODULE} import add_updated_at_trigger, timestamps"]
LOCK_TIMEOUT = "op.execute(\"SET lock_timeout = '4s'\")"
DATA_MIGRATION = 9  # the first revision that reads rows (offline SQL cannot run it)
FILLER_TABLES = [
    *("milestones", "sprints", "checklists", "webhooks", "api_keys", "notifications"),
    *("saved_filters", "time_entries", "custom_fields", "integrations", "reminders", "templates"),
]


def legacy_history() -> list[Rev]:
    h = History("legacy")
    _people(h)
    _tasks(h)
    _enum_values(h)
    branch_point = h.head
    main = _main_line(h)
    reporting = _reporting(h, branch_point, depends=main[0])
    h.add("merge reporting", [], [], down=(main[-1], reporting))
    _named_constraints(h)
    _feature_branch(h)
    for table in FILLER_TABLES:
        _filler(h, table)
    _last_steps(h)
    return h.revs


def _people(h: History) -> None:
    h.add(
        "create users",
        [
            'op.create_table("users", sa.Column("id", sa.Integer(), nullable=False),',
            '    sa.Column("email", sa.String(255), nullable=False),',
            '    sa.Column("full_name", sa.String(200), nullable=False), *timestamps(),',
            '    sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("email"))',
        ],
        ['op.drop_table("users")'],
        imports=USES_HELPERS,
    )
    h.add(
        "updated_at trigger function",
        [
            'op.execute("""CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql',
            '    AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$""")',
            'add_updated_at_trigger("users")',
        ],
        [
            'op.execute("DROP TRIGGER users_updated_at ON users")',
            'op.execute("DROP FUNCTION set_updated_at()")',
        ],
        imports=USES_HELPERS,
    )
    h.add(
        "create teams",
        [
            'op.create_table("teams", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("name", sa.String(100), nullable=False), *timestamps(),',
            '    sa.UniqueConstraint("name"))',
        ],
        ['op.drop_table("teams")'],
        imports=USES_HELPERS,
    )
    h.add(
        "create memberships",
        [
            'op.create_table("memberships",',
            '    sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),',
            '    sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id", ondelete="CASCADE"),',
            "        nullable=False),",
            '    sa.Column("role", sa.String(20), server_default="member", nullable=False),',
            '    sa.PrimaryKeyConstraint("user_id", "team_id"))',
        ],
        ['op.drop_table("memberships")'],
    )
    h.add(
        "seed the first team",
        [
            'users = sa.table("users", sa.column("email", sa.String),',
            '    sa.column("full_name", sa.String))',
            'op.bulk_insert(users, [{"email": "ada@example.com", "full_name": "Ada Lovelace"},',
            '    {"email": "alan@example.com", "full_name": "Alan Turing"},',
            '    {"email": "grace@example.com", "full_name": "Grace"}])',
            "op.execute(\"INSERT INTO teams (name) VALUES ('core')\")",
            'op.execute("INSERT INTO memberships (user_id, team_id, role) "',
            "    \"SELECT u.id, t.id, 'owner' FROM users u, teams t\")",
        ],
        ['op.execute("DELETE FROM memberships")', 'op.execute("DELETE FROM teams")'],
    )


def _tasks(h: History) -> None:
    h.add(
        "create projects",
        [
            'op.create_table("projects", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),',
            '    sa.Column("name", sa.String(200), nullable=False),',
            '    sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),',
            '    *timestamps(), sa.UniqueConstraint("team_id", "name"))',
            "op.execute(\"INSERT INTO projects (team_id, name) SELECT id, 'launch' FROM teams\")",
        ],
        ['op.drop_table("projects")'],
        imports=USES_HELPERS,
    )
    h.add(
        "create tasks",
        [
            'op.create_table("tasks", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"),',
            "        nullable=False),",
            '    sa.Column("title", sa.String(300), nullable=False),',
            '    sa.Column("state", sa.Enum("todo", "doing", "done", name="task_state"),',
            '        server_default="todo", nullable=False),',
            '    sa.Column("priority", sa.Integer(), server_default="0", nullable=False),',
            '    sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("users.id")),',
            '    sa.CheckConstraint("priority >= 0"))',
            'op.execute("INSERT INTO tasks (project_id, title, priority) "',
            "    \"SELECT p.id, 'task ' || n, n % 4 FROM projects p, generate_series(1, 6) n\")",
        ],
        ['op.drop_table("tasks")', 'op.execute("DROP TYPE task_state")'],
    )
    h.add(
        "split user names",
        [
            LOCK_TIMEOUT,
            'op.add_column("users", sa.Column("first_name", sa.String(100)))',
            'op.add_column("users", sa.Column("last_name", sa.String(100)))',
        ],
        ['op.drop_column("users", "last_name")', 'op.drop_column("users", "first_name")'],
    )
    h.add(  # DATA_MIGRATION: reads rows, so it needs a database
        "backfill first and last names",
        [
            'users = sa.table("users", sa.column("id", sa.Integer), sa.column("full_name"),',
            '    sa.column("first_name"), sa.column("last_name"))',
            "bind = op.get_bind()",
            "rows = bind.execute(sa.select(users.c.id, users.c.full_name)).all()",
            "for user_id, full_name in rows:",
            '    first, _, last = full_name.partition(" ")',
            "    bind.execute(users.update().where(users.c.id == user_id)",
            "        .values(first_name=first, last_name=last or None))",
        ],
        ['op.execute("UPDATE users SET first_name = NULL, last_name = NULL")'],
    )
    h.add(
        "drop full_name",
        ['op.drop_column("users", "full_name")'],
        [
            'op.add_column("users", sa.Column("full_name", sa.String(200)))',
            "op.execute(\"UPDATE users SET full_name = concat_ws(' ', first_name, last_name)\")",
            'op.alter_column("users", "full_name", nullable=False)',
        ],
    )
    h.add(
        "index tasks by project concurrently",
        [
            "with op.get_context().autocommit_block():",
            '    op.create_index("ix_tasks_project_id", "tasks", ["project_id"],',
            "        postgresql_concurrently=True)",
        ],
        [
            "with op.get_context().autocommit_block():",
            '    op.drop_index("ix_tasks_project_id", table_name="tasks",',
            "        postgresql_concurrently=True)",
        ],
    )


def _recreate_task_state(labels: str, fallback: str, dropped: str) -> list[str]:
    """Postgres cannot drop an enum value: a downgrade rebuilds the type without it."""
    return [
        f"op.execute(\"UPDATE tasks SET state = '{fallback}' WHERE state = '{dropped}'\")",
        'op.execute("ALTER TABLE tasks ALTER COLUMN state DROP DEFAULT")',
        'op.execute("ALTER TYPE task_state RENAME TO task_state_old")',
        f'op.execute("CREATE TYPE task_state AS ENUM ({labels})")',
        'op.execute("ALTER TABLE tasks ALTER COLUMN state TYPE task_state "',
        '    "USING state::text::task_state")',
        "op.execute(\"ALTER TABLE tasks ALTER COLUMN state SET DEFAULT 'todo'\")",
        'op.execute("DROP TYPE task_state_old")',
    ]


def _enum_values(h: History) -> None:
    h.add(
        "add blocked task state",
        [
            LOCK_TIMEOUT,
            "with op.get_context().autocommit_block():",
            "    op.execute(\"ALTER TYPE task_state ADD VALUE 'blocked' AFTER 'doing'\")",
        ],
        _recreate_task_state("'todo', 'doing', 'done'", "doing", "blocked"),
    )
    h.add(
        "add archived task state",
        [
            'op.execute("COMMIT")  # ADD VALUE once refused to run in a transaction',
            "op.execute(\"ALTER TYPE task_state ADD VALUE IF NOT EXISTS 'archived'\")",
        ],
        _recreate_task_state("'todo', 'doing', 'blocked', 'done'", "done", "archived"),
    )


def _main_line(h: History) -> list[str]:
    due = h.add(
        "add due date to tasks",
        ['op.add_column("tasks", sa.Column("due_on", sa.Date()))'],
        ['op.drop_column("tasks", "due_on")'],
    )
    comments = h.add(
        "create comments",
        [
            'op.create_table("comments", sa.Column("id", sa.BigInteger(), primary_key=True),',
            '    sa.Column("task_id", sa.Integer(),',
            '        sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),',
            '    sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),',
            '    sa.Column("body", sa.Text(), nullable=False), *timestamps())',
            'add_updated_at_trigger("comments")',
        ],
        ['op.drop_table("comments")'],
        imports=USES_HELPERS,
    )
    return [due.id, comments.id]


def _reporting(h: History, branch_point: str | None, depends: str) -> str:
    h.add(
        "reporting: task counts",
        [
            'op.execute("CREATE VIEW report_task_counts AS SELECT project_id, state, "',
            '    "count(*) AS n FROM tasks GROUP BY project_id, state")',
        ],
        ['op.execute("DROP VIEW report_task_counts")'],
        down=branch_point,
        labels=("reporting",),
    )
    h.add(
        "reporting: overdue tasks",
        [
            'op.execute("CREATE VIEW report_overdue AS SELECT id, title, due_on FROM tasks "',
            "    \"WHERE due_on < current_date AND state <> 'done'\")",
        ],
        ['op.execute("DROP VIEW report_overdue")'],
        depends_on=depends,
    )
    last = h.add(
        "reporting: team summary",
        [
            'op.execute("CREATE MATERIALIZED VIEW report_team_summary AS SELECT t.id AS team_id, "',
            '    "count(p.id) AS projects FROM teams t LEFT JOIN projects p ON p.team_id = t.id "',
            '    "GROUP BY t.id")',
            'op.create_index("ix_report_team_summary_team", "report_team_summary", ["team_id"],',
            "    unique=True)",
        ],
        ['op.execute("DROP MATERIALIZED VIEW report_team_summary")'],
    )
    return last.id


def _named_constraints(h: History) -> None:
    """Constraints Postgres named, dropped by those names and given names of our own."""
    h.add(
        "name the projects team foreign key",
        [
            LOCK_TIMEOUT,
            'op.drop_constraint("projects_team_id_fkey", "projects", type_="foreignkey")',
            'op.create_foreign_key("fk_projects_team_id_teams", "projects", "teams",',
            '    ["team_id"], ["id"], ondelete="CASCADE")',
        ],
        [
            'op.drop_constraint("fk_projects_team_id_teams", "projects", type_="foreignkey")',
            'op.create_foreign_key(None, "projects", "teams", ["team_id"], ["id"])',
        ],
    )
    h.add(
        "bound task priority",
        [
            'op.drop_constraint("tasks_priority_check", "tasks", type_="check")',
            'op.create_check_constraint("ck_tasks_priority_range", "tasks",',
            '    "priority BETWEEN 0 AND 5")',
        ],
        [
            'op.drop_constraint("ck_tasks_priority_range", "tasks", type_="check")',
            'op.create_check_constraint(None, "tasks", "priority >= 0")',
        ],
    )
    h.add(
        "team names unique ignoring case",
        [
            'op.drop_constraint("teams_name_key", "teams", type_="unique")',
            'op.create_index("ix_teams_name_lower", "teams", [sa.text("lower(name)")],',
            "    unique=True)",
        ],
        [
            'op.drop_index("ix_teams_name_lower", table_name="teams")',
            'op.create_unique_constraint(None, "teams", ["name"])',
        ],
    )
    h.add(
        "create labels",
        [
            'op.create_table("labels", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),',
            '    sa.Column("name", sa.String(50), nullable=False),',
            "    sa.Column(\"color\", sa.String(7), server_default='#cccccc', nullable=False))",
            'op.create_unique_constraint(None, "labels", ["team_id", "name"])',
            'op.create_table("task_labels",',
            '    sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"),',
            "        primary_key=True),",
            '    sa.Column("label_id", sa.Integer(), sa.ForeignKey("labels.id"),',
            "        primary_key=True))",
        ],
        ['op.drop_table("task_labels")', 'op.drop_table("labels")'],
    )
    h.add(
        "invoices with numbers from a sequence",
        [
            'op.execute(sa.schema.CreateSequence(sa.Sequence("invoice_number_seq", start=1000)))',
            'op.create_table("invoices",',
            '    sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),',
            '    sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),',
            '    sa.Column("number", sa.Integer(), nullable=False,',
            "        server_default=sa.text(\"nextval('invoice_number_seq')\")),",
            '    sa.Column("amount", sa.Numeric(12, 2), nullable=False),',
            '    sa.Column("status", sa.Enum("draft", "sent", "paid", name="invoice_status"),',
            '        server_default="draft", nullable=False))',
        ],
        [
            'op.drop_table("invoices")',
            'op.execute("DROP TYPE invoice_status")',
            'op.execute("DROP SEQUENCE invoice_number_seq")',
        ],
    )
    h.add(
        "task positions",
        [
            'op.add_column("tasks", sa.Column("position", sa.Integer()))',
            'tasks = sa.table("tasks", sa.column("id", sa.Integer), sa.column("project_id"),',
            '    sa.column("position"))',
            "bind = op.get_bind()",
            "rows = bind.execute(sa.select(tasks.c.id, tasks.c.project_id)",
            "    .order_by(tasks.c.project_id, tasks.c.id)).all()",
            "seen: dict[int, int] = {}",
            "for task_id, project_id in rows:",
            "    seen[project_id] = seen.get(project_id, 0) + 1",
            "    bind.execute(tasks.update().where(tasks.c.id == task_id)",
            "        .values(position=seen[project_id]))",
            'op.alter_column("tasks", "position", nullable=False, server_default="0")',
        ],
        ['op.drop_column("tasks", "position")'],
    )


def _feature_branch(h: History) -> None:
    fork = h.head
    h.add(
        "estimate tasks",
        ['op.add_column("tasks", sa.Column("estimate_hours", sa.Numeric(5, 1)))'],
        ['op.drop_column("tasks", "estimate_hours")'],
    )
    side = h.add(
        "index comments by task concurrently",
        [
            "with op.get_context().autocommit_block():",
            '    op.create_index("ix_comments_task_id", "comments", ["task_id"],',
            "        postgresql_concurrently=True)",
        ],
        [
            "with op.get_context().autocommit_block():",
            '    op.drop_index("ix_comments_task_id", table_name="comments",',
            "        postgresql_concurrently=True)",
        ],
    )
    other = h.add(
        "edited comments",
        ['op.add_column("comments", sa.Column("edited_at", sa.DateTime(timezone=True)))'],
        ['op.drop_column("comments", "edited_at")'],
        down=fork,
    )
    h.add("merge estimates and edits", [], [], down=(side.id, other.id))


def _filler(h: History, table: str) -> None:
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


def _last_steps(h: History) -> None:
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
