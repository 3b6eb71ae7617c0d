"""The Alembic adapter: with the env.py runtime it drives, the only code importing Alembic.

It builds the Config (`workspace`), reads the revisions into a plain `Graph`, resolves
targets into plans (`plan`), runs them with a per-step callback (`run`), writes new
revision files (`autogen`), and turns every Alembic error into ours (`errors`). Everything
else in dbtasks asks it, and never imports Alembic itself.
"""

from dbtasks.adapter import lean_imports

lean_imports.install()
