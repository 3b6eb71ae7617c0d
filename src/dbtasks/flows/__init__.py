"""Commands that change a database: each is a `Flow` (see `dbtasks.workflow`), run by
`execute`: preflight, a pure plan, show, consent, act under the lock, verify. A flow that
composes others' steps (prepare, reset) runs them on its own `Work`, under its own grant.
"""
