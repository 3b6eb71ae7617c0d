"""The first years: people, teams, projects, tasks, and the enum that grew."""

from __future__ import annotations

from tests.adoption.legacy.common import LOCK_TIMEOUT, USES_HELPERS
from tests.adoption.revisions import History


def people(h: History) -> None:
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


def tasks(h: History) -> None:
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


def enum_values(h: History) -> None:
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
