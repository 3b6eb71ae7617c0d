"""Later work: a reporting branch, constraints given names, a feature branch merged."""

from __future__ import annotations

from tests.adoption.legacy.common import LOCK_TIMEOUT, USES_HELPERS
from tests.adoption.revisions import History


def main_line(h: History) -> list[str]:
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


def reporting(h: History, branch_point: str | None, depends: str) -> str:
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


def named_constraints(h: History) -> None:
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


def feature_branch(h: History) -> None:
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
