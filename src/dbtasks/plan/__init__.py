"""`inv db.plan`: what each pending revision will lock, rewrite, block and lose.

Each pending revision runs, one at a time, on a scratch clone of the target's schema (the
history replayed to the target's revision, from a template snapshot where the stack is
ours); every statement is observed from the migrating backend itself (`tracer`). The
target is read only through catalog queries (`sizes`), which say how big each touched
table is; `grade` weighs lock by size by rewrite, `hints` name the safer Alembic spelling,
`downgrade` proves what each downgrade loses with generated rows. `run.plan` composes
them over a read-only `Work`.
"""
