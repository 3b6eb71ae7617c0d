"""`inv db.*`: the database itself: health now, migrations and resets on top."""

from __future__ import annotations

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from dbtasks.tasks._boundary import command

JSON_HELP = "print machine-readable JSON instead of text"


@task(
    help={
        "json": JSON_HELP,
        "wait": "keep trying until healthy or DB_HEALTH_TIMEOUT passes (default: one attempt)",
        "timeout": "seconds to wait with --wait (default: DB_HEALTH_TIMEOUT)",
    }
)
def health(c: Context, json: bool = False, wait: bool = False, timeout: str | None = None) -> None:
    """Check that the database answers a real query; show version and latency."""
    from dbtasks.errors import HealthError
    from dbtasks.health import probe, wait_healthy

    with command(json_mode=json, health_timeout=timeout) as run:
        settings = run.settings
        report_base = {"backend": settings.backend, "url": settings.masked_url}
        try:
            if wait:
                report = wait_healthy(settings.endpoint, settings.health_timeout)
            else:
                report = probe(settings.endpoint)
        except HealthError as exc:
            if json:
                run.console.json(
                    {**report_base, "healthy": False, "reason": exc.reason, "error": exc.render()}
                )
            raise
        result = {
            **report_base,
            "healthy": True,
            "server_version": report.server_version,
            "connect_ms": round(report.connect_ms, 2),
            "latency_ms": round(report.latency_ms, 2),
        }
        if json:
            run.console.json(result)
            return
        run.console.fields(
            [
                ("backend", settings.backend),
                ("url", settings.masked_url),
                ("server", f"PostgreSQL {report.server_version}"),
                ("connect", f"{report.connect_ms:.1f} ms"),
                ("round trip", f"{report.latency_ms:.2f} ms"),
            ]
        )
        run.console.ok("healthy")


namespace = Collection("db", health)
