"""MindMirror: a journaling app with an AI agent (its database models live here)."""
