"""Shorter histories: one naming `schema="app"` everywhere, one spread over two version
folders, one as `alembic revision` writes it next to the env.py `alembic init` writes."""

from __future__ import annotations

from tests.adoption.revisions import History, Rev

APP = 'schema="app"'


def qualified_history() -> list[Rev]:
    """Every operation names its schema, as projects that never rely on search_path do."""
    h = History("qualified")
    h.add(
        "accounts",
        [
            'op.execute("CREATE SCHEMA IF NOT EXISTS app")',
            'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("handle", sa.String(40), nullable=False),',
            f'    sa.UniqueConstraint("handle"), {APP})',
        ],
        [f'op.drop_table("accounts", {APP})'],
    )
    h.add(
        "subscriptions",
        [
            'op.create_table("subscriptions", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("account_id", sa.Integer(), sa.ForeignKey("app.accounts.id"),',
            "        nullable=False),",
            '    sa.Column("plan", sa.Enum("free", "pro", name="plan", schema="app"),',
            f'        server_default="free", nullable=False), {APP})',
        ],
        [f'op.drop_table("subscriptions", {APP})', 'op.execute("DROP TYPE app.plan")'],
    )
    h.add(
        "index subscriptions by account",
        [f'op.create_index("ix_subscriptions_account", "subscriptions", ["account_id"], {APP})'],
        [f'op.drop_index("ix_subscriptions_account", table_name="subscriptions", {APP})'],
    )
    h.add(
        "display names",
        [f'op.add_column("accounts", sa.Column("display_name", sa.String(80)), {APP})'],
        [f'op.drop_column("accounts", "display_name", {APP})'],
    )
    h.add(
        "longer display names",
        [
            'op.alter_column("accounts", "display_name", type_=sa.String(200),',
            f"    existing_type=sa.String(80), {APP})",
        ],
        [
            'op.alter_column("accounts", "display_name", type_=sa.String(80),',
            f"    existing_type=sa.String(200), {APP})",
        ],
    )
    h.add(
        "one subscription per plan",
        [f'op.create_unique_constraint(None, "subscriptions", ["account_id", "plan"], {APP})'],
        [
            'op.drop_constraint("subscriptions_account_id_plan_key", "subscriptions",',
            f'    type_="unique", {APP})',
        ],
    )
    h.add(
        "handles become usernames",
        [
            f'op.drop_constraint("accounts_handle_key", "accounts", type_="unique", {APP})',
            f'op.alter_column("accounts", "handle", new_column_name="username", {APP})',
            f'op.create_unique_constraint("uq_accounts_username", "accounts", ["username"], {APP})',
        ],
        [
            f'op.drop_constraint("uq_accounts_username", "accounts", type_="unique", {APP})',
            f'op.alter_column("accounts", "username", new_column_name="handle", {APP})',
            f'op.create_unique_constraint(None, "accounts", ["handle"], {APP})',
        ],
    )
    _qualified_rest(h)
    return h.revs


def _qualified_rest(h: History) -> None:
    h.add(
        "team plan",
        [
            "with op.get_context().autocommit_block():",
            "    op.execute(\"ALTER TYPE app.plan ADD VALUE IF NOT EXISTS 'team'\")",
        ],
        [
            "op.execute(\"DELETE FROM app.subscriptions WHERE plan = 'team'\")",
            'op.execute("ALTER TABLE app.subscriptions ALTER COLUMN plan DROP DEFAULT")',
            'op.execute("ALTER TYPE app.plan RENAME TO plan_old")',
            "op.execute(\"CREATE TYPE app.plan AS ENUM ('free', 'pro')\")",
            'op.execute("ALTER TABLE app.subscriptions ALTER COLUMN plan TYPE app.plan "',
            '    "USING plan::text::app.plan")',
            "op.execute(\"ALTER TABLE app.subscriptions ALTER COLUMN plan SET DEFAULT 'free'\")",
            'op.execute("DROP TYPE app.plan_old")',
        ],
    )
    h.add(
        "ticket numbers",
        [
            'op.execute(sa.schema.CreateSequence(sa.Sequence("ticket_seq", start=100,',
            '    schema="app")))',
        ],
        ['op.execute(sa.schema.DropSequence(sa.Sequence("ticket_seq", schema="app")))'],
    )
    h.add(
        "owners",
        [
            f'op.add_column("subscriptions", sa.Column("owner_id", sa.Integer()), {APP})',
            'op.create_foreign_key(None, "subscriptions", "accounts", ["owner_id"], ["id"],',
            '    source_schema="app", referent_schema="app")',
        ],
        [f'op.drop_column("subscriptions", "owner_id", {APP})'],
    )
    h.add(
        "seed and backfill owners",
        [
            "op.execute(\"INSERT INTO app.accounts (username) VALUES ('ada'), ('alan')\")",
            'op.execute("INSERT INTO app.subscriptions (account_id) SELECT id FROM app.accounts")',
            'subs = sa.table("subscriptions", sa.column("id"), sa.column("account_id"),',
            f'    sa.column("owner_id"), {APP})',
            "bind = op.get_bind()",
            "rows = bind.execute(sa.select(subs.c.id, subs.c.account_id)).all()",
            "for sub_id, account_id in rows:",
            "    bind.execute(subs.update().where(subs.c.id == sub_id)",
            "        .values(owner_id=account_id))",
        ],
        ['op.execute("DELETE FROM app.subscriptions")', 'op.execute("DELETE FROM app.accounts")'],
    )
    h.add(
        "active accounts view",
        [
            'op.execute("CREATE VIEW app.active_accounts AS SELECT a.id, a.username "',
            '    "FROM app.accounts a JOIN app.subscriptions s ON s.account_id = a.id")',
        ],
        ['op.execute("DROP VIEW app.active_accounts")'],
    )


def two_folder_history() -> list[Rev]:
    """Schema changes in one folder, data changes in another, one chain through both."""
    h = History("folders")
    h.add(
        "products",
        [
            'op.create_table("products", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("sku", sa.String(20), nullable=False, unique=True))',
        ],
        ['op.drop_table("products")'],
    )
    h.add(
        "first products",
        ["op.execute(\"INSERT INTO products (sku) VALUES ('a-1'), ('b-2')\")"],
        ['op.execute("DELETE FROM products")'],
        folder="data",
    )
    h.add(
        "prices",
        [
            'op.create_table("prices", sa.Column("product_id", sa.Integer(),',
            '    sa.ForeignKey("products.id"), primary_key=True),',
            '    sa.Column("cents", sa.Integer(), nullable=False),',
            '    sa.CheckConstraint("cents > 0"))',
        ],
        ['op.drop_table("prices")'],
    )
    h.add(
        "first prices",
        ['op.execute("INSERT INTO prices SELECT id, 100 * id FROM products")'],
        ['op.execute("DELETE FROM prices")'],
        folder="data",
    )
    h.add(
        "sku lookups",
        ['op.create_index("ix_products_sku_lower", "products", [sa.text("lower(sku)")])'],
        ['op.drop_index("ix_products_sku_lower", table_name="products")'],
    )
    return h.revs


def generic_history() -> list[Rev]:
    """What a team writes with `alembic revision` after `alembic init`: plain operations,
    unnamed constraints, one dropped later by the name Postgres gave it."""
    h = History("generic")
    h.add(
        "create authors",
        [
            'op.create_table("authors", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("email", sa.String(200), nullable=False, unique=True))',
        ],
        ['op.drop_table("authors")'],
    )
    h.add(
        "create posts",
        [
            'op.create_table("posts", sa.Column("id", sa.Integer(), primary_key=True),',
            '    sa.Column("author_id", sa.Integer(), sa.ForeignKey("authors.id")),',
            '    sa.Column("slug", sa.String(100), nullable=False),',
            '    sa.Column("body", sa.Text()), sa.UniqueConstraint("author_id", "slug"))',
        ],
        ['op.drop_table("posts")'],
    )
    h.add(
        "slugs unique across authors",
        [
            'op.drop_constraint("posts_author_id_slug_key", "posts", type_="unique")',
            'op.create_unique_constraint(None, "posts", ["slug"])',
        ],
        [
            'op.drop_constraint("posts_slug_key", "posts", type_="unique")',
            'op.create_unique_constraint(None, "posts", ["author_id", "slug"])',
        ],
    )
    h.add(
        "published flag",
        [
            'op.add_column("posts", sa.Column("published", sa.Boolean(), server_default="false",',
            "    nullable=False))",
            'op.create_index(op.f("ix_posts_published"), "posts", ["published"])',
        ],
        [
            'op.drop_index("ix_posts_published", table_name="posts")',
            'op.drop_column("posts", "published")',
        ],
    )
    return h.revs
