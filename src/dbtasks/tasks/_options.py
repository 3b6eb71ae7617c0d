"""The help text of the flags several tasks share, written once."""

JSON_HELP = "print machine-readable JSON instead of text"
YES_HELP = "do not ask first (needed when stdin is not a terminal)"
REMOTE_HELP = "allow a database not on this machine (never production or hosted Supabase)"
TARGET_HELP = "a revision id or unique prefix, head, heads, base, +N, -N, REV+N or label@head"
