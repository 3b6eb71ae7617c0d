"""The comparisons, one builder per name: each returns a `Case` for one N and mode."""
