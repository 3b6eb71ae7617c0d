"""Invoke entry point: `inv --list` shows every task."""

from dbtasks.tasks import namespace

__all__ = ["namespace"]
