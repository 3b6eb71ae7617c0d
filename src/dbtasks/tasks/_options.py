"""The help text of the flags several tasks share, written once."""

JSON_HELP = "print machine-readable JSON instead of text"
YES_HELP = "do not ask first (needed when stdin is not a terminal)"
REMOTE_HELP = "allow a database not on this machine (never production or hosted Supabase)"
TARGET_HELP = "a revision id or unique prefix, head, heads, base, +N, -N, REV+N or label@head"
ALL_HELP = "every configured target ([tool.dbtasks.targets]); production only if it opts in"
NAMED_HELP = "only these targets, comma-separated (a production target must be named)"
TARGETS_HELP = "run on these configured targets instead, one after the other (comma-separated)"
GROUP_HELP = "only the targets of this group"
SHARD_HELP = "only share I of N of the members (I/N, or auto/N from JOB_COMPLETION_INDEX)"
PARALLEL_HELP = "how many databases at once (default: 4)"
FLEET_HELP = {
    "all_": ALL_HELP,
    "target": NAMED_HELP,
    "group": GROUP_HELP,
    "shard": SHARD_HELP,
    "parallel": PARALLEL_HELP,
}
