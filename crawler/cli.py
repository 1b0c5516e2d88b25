"""The `newsmon` command line: thin commands over the library; the one place that turns
exceptions into user-facing errors and sets up logging."""

from __future__ import annotations

import atexit
import gc
import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
import sqlite_utils

from crawler.config import Config, ConfigError, load_config
from crawler.db import connect, queries
from crawler.db.matching import QueryError
from crawler.safe_text import terminal_safe

CONTEXT = {"help_option_names": ["-h", "--help"]}


class UserError(click.ClickException):
    """An error the user can fix; printed as one line, exit status 2."""

    exit_code = 2


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn known exceptions into one-line errors instead of tracebacks."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, QueryError) as exc:
            raise UserError(str(exc)) from None

    return wrapper


@click.group(context_settings=CONTEXT)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $NEWSMON_CONFIG, else config/newsmon.yaml).",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Log level for messages on stderr.",
)
@click.version_option(package_name="newsmon")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_level: str) -> None:
    """newsmon: watch news sites for topics; store stories in SQLite; send alerts where you read.

    \b
    Example:
        newsmon crawl caliber
        newsmon -c config/newsmon.yaml articles --watch takaichi
    """
    ctx.obj = {"config_path": config_path, "log_level": log_level.upper()}
    setup_logging(log_level.upper())


def main() -> None:
    """The ``newsmon`` program (``python -m crawler`` too)."""
    # As Python ends it collects garbage several times while it takes its modules apart, each
    # collection walking every object left (~0.3 s at the end of a crawl). Everything newsmon
    # writes is closed by then (databases, logs, the extraction pool), so the objects are
    # frozen out of those collections: the last exit handler to run, registered first.
    atexit.register(gc.freeze)
    cli(prog_name="newsmon")


def setup_logging(level: str) -> None:
    """One stderr handler in a form journald and `docker logs` keep as is. The level sits on
    the handler because Scrapy resets the root logger's level when a crawl starts."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.root.handlers[:] = [handler]
    logging.root.setLevel(level)


def get_config(ctx: click.Context, spiders: bool = False) -> Config:
    """The configuration, loaded once; ``spiders``: also check that every site's spider
    exists (which loads Scrapy, so only commands that crawl or check ask for it)."""
    obj = ctx.find_root().obj
    if "config" not in obj:
        obj["config"] = load_config(obj["config_path"])
    if spiders and not obj.get("spiders_checked"):
        from crawler.crawling.registry import check_spiders

        check_spiders(obj["config"])
        obj["spiders_checked"] = True
    return obj["config"]


def open_db(ctx: click.Context) -> sqlite_utils.Database:
    """The configured database; use it in a ``with`` block, which closes it."""
    return connect(get_config(ctx).database)


@cli.command()
@click.argument("sites", nargs=-1)
@click.option("--no-deliver", is_flag=True, help="Queue alerts but do not deliver them now.")
@click.option(
    "--backfill",
    type=click.IntRange(min=1),
    metavar="DAYS",
    help="Fetch stories up to DAYS old this run (overrides the sites' max_age).",
)
@click.pass_context
@friendly
def crawl(
    ctx: click.Context,
    sites: tuple[str, ...],
    no_deliver: bool,
    backfill: int | None,
) -> None:
    """Crawl the named sites once (all if none), then deliver alerts.

    Prints a summary per site; exits 1 if any site failed (the others still complete).

    \b
    Example:
        newsmon crawl
        newsmon crawl caliber eqmint
        newsmon crawl ledger --backfill 30
    """
    from crawler.crawling.runner import crawl_sites

    config = get_config(ctx, spiders=True)
    chosen = [config.site(n) for n in sites] if sites else [s for s in config.sites if s.enabled]
    if not chosen:
        raise UserError("no sites to crawl: add some under 'sites:' in the config")
    level = ctx.find_root().obj["log_level"]
    locks, busy = _lock_sites(config, chosen)
    for message in busy:
        click.echo(f"skipped: {message}", err=True)
    try:
        results = (
            crawl_sites(
                config,
                [s for s in chosen if s.name in locks],
                {"LOG_LEVEL": level, "NEWSMON_BACKFILL_DAYS": backfill or 0},
            )
            if locks
            else []
        )
    finally:
        for lock in locks.values():
            lock.release()
    for r in results:
        c = r.counts
        line = (
            f"{r.site}: {r.status}  pages {c.get('pages', 0)}  new {c.get('articles_new', 0)}  "
            f"changed {c.get('articles_changed', 0)}  unchanged {c.get('articles_unchanged', 0)}  "
            f"duplicates {c.get('duplicates', 0)}  matches {c.get('matches', 0)}  "
            f"errors {c.get('errors', 0)}"
        )
        click.echo(line)
        for detail in _accounting_lines(r):
            click.echo(f"    {detail}")
        if r.error:
            click.echo(f"  {r.site}: {terminal_safe(r.error.splitlines()[0])}", err=r.failed)
    _update_health(ctx, config, [r.site for r in results if r.id])
    if not no_deliver:
        _deliver(ctx)
    if busy or any(r.failed for r in results):
        ctx.exit(1)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in sorted(counts.items()))


def _accounting_lines(run: Any) -> list[str]:
    """What became of every story URL the run's sources listed, and how its story pages fared
    against the site's rules."""
    c, reasons = run.counts, run.breakdowns.get("skip_reasons", {})
    why = f" ({_counts(reasons)})" if reasons else ""
    lines = [
        f"discovered {c.get('discovered', 0)}: stored {c.get('stored', 0)}, up to date "
        f"{c.get('up_to_date', 0)}, deferred {c.get('deferred', 0)}, skipped "
        f"{c.get('skipped', 0)}{why}; fetched {c.get('fetched', 0)} (new {c.get('new_urls', 0)},"
        f" due for a check {c.get('due', 0)})"
    ]
    pages = sum(c.get(f"rules_{m}", 0) for m in ("full", "partial", "none"))
    if c.get("fallbacks"):
        fields = _counts(run.breakdowns.get("fallback_fields", {}))
        lines.append(
            f"{c['fallbacks']} of {pages} story pages fell back from the site's rules to "
            f"generic extraction ({fields})"
        )
    return lines


def _update_health(ctx: click.Context, config: Config, sites: list[str]) -> None:
    """Re-assess the crawled sites' health (as the daemon does after each run), so a site that
    fails, goes silent or drifts is noticed, and its notice queued, by one-off crawls too."""
    from crawler.daemon import health

    with open_db(ctx) as db:
        for site in sites:
            change = health.update(db, config, site)
            if change is not None and (change.notice or change.new not in health.HEALTHY):
                click.echo(f"{site}: health {change.new}: {terminal_safe(change.message, 300)}")


def _lock_sites(config: Config, sites: list[Any]) -> tuple[dict[str, Any], list[str]]:
    """Take each site's crawl lock; sites another process is crawling are reported busy."""
    from crawler.daemon.locks import SiteBusy, SiteLock

    locks, busy = {}, []
    for site in sites:
        lock = SiteLock(config.database, site.name)
        try:
            lock.acquire()
        except SiteBusy as exc:
            busy.append(str(exc))
            continue
        locks[site.name] = lock
    return locks, busy


def _deliver(ctx: click.Context) -> None:
    from crawler.alerts.delivery import deliver_pending

    with open_db(ctx) as db:
        report = deliver_pending(db, get_config(ctx))
    if report or report.held:
        click.echo(terminal_safe(str(report)))


@cli.command()
@click.option(
    "--stop-grace",
    type=float,
    default=20,
    show_default=True,
    envvar="NEWSMON_STOP_GRACE",
    help="Seconds from SIGTERM/SIGINT until running crawls are ended.",
)
@click.option(
    "--kill-grace",
    type=float,
    default=30,
    show_default=True,
    envvar="NEWSMON_KILL_GRACE",
    help="Seconds past a site's time_limit before its crawl is killed.",
)
@click.option(
    "--deliver-every",
    type=float,
    default=60,
    show_default=True,
    envvar="NEWSMON_DELIVER_EVERY",
    help="Seconds between alert delivery (retry) passes.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    envvar="NEWSMON_WORKERS",
    help="Crawl worker processes (each runs many crawls at once).",
)
@click.option(
    "--worker-crawls",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    envvar="NEWSMON_WORKER_CRAWLS",
    help="Crawls one worker runs at once; more wait for a free slot.",
)
@click.option(
    "--worker-max-crawls",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    envvar="NEWSMON_WORKER_MAX_CRAWLS",
    help="Crawls after which a worker is replaced by a fresh one.",
)
@click.option(
    "--worker-max-rss",
    type=click.IntRange(min=1),
    default=1024,
    show_default=True,
    envvar="NEWSMON_WORKER_MAX_RSS",
    help="MB of resident memory (worker and its extraction pool) past which it is replaced.",
)
@click.pass_context
@friendly
def run(
    ctx: click.Context,
    stop_grace: float,
    kill_grace: float,
    deliver_every: float,
    workers: int,
    worker_crawls: int,
    worker_max_crawls: int,
    worker_max_rss: int,
) -> None:
    """Run the daemon: every site on its schedule, alerts delivered and retried.

    SIGTERM or SIGINT stop it cleanly (exit 0); SIGHUP reloads the configuration.

    \b
    Example:
        newsmon -c /etc/newsmon/newsmon.yaml --log-level INFO run
    """
    from crawler.daemon.service import Daemon, DaemonOptions
    from crawler.daemon.supervisor import WorkerOptions

    pool = WorkerOptions(workers, worker_crawls, worker_max_crawls, worker_max_rss * 2**20)
    options = DaemonOptions(stop_grace, kill_grace, deliver_every, pool)
    ctx.exit(Daemon(get_config(ctx, spiders=True), ctx.find_root().obj["log_level"], options).run())


@cli.command(hidden=True)
@click.option("--fd", type=int, required=True, help="The socket to the daemon.")
@click.pass_context
def worker(ctx: click.Context, fd: int) -> None:
    """A crawl worker of `newsmon run`, started by the daemon (not by hand).

    \b
    Example:
        (started by `newsmon run`)
    """
    from crawler.daemon.worker import serve

    ctx.exit(serve(fd, ctx.find_root().obj["log_level"]))


@cli.command()
@click.option("--site", help="Only stories of this site.")
@click.option("--watch", help="Only stories matching this watch.")
@click.option("--since", help="Only stories published (or first seen) since this ISO date.")
@click.option("--all", "all_", is_flag=True, help="Every stored story, matched or not.")
@click.option("--limit", type=int, default=None, help="At most this many stories.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of story objects.")
@click.pass_context
@friendly
def articles(
    ctx: click.Context,
    site: str | None,
    watch: str | None,
    since: str | None,
    all_: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """Matched stories, newest first; near-duplicates are listed under their original.

    \b
    Example:
        newsmon articles --watch rare-earths --since 2025-11-01
        newsmon articles --all --json
    """
    with open_db(ctx) as db:
        rows = queries.stories(
            db, site=site, watch=watch, since=_since(since), matched_only=not all_, limit=limit
        )
    _print_stories(rows, as_json)


def _since(value: str | None) -> str | None:
    if value:
        try:
            queries.parse_when(value)
        except ValueError:
            raise UserError(f"--since: not an ISO 8601 date or time: {value!r}") from None
    return value


@cli.command()
@click.argument("query")
@click.option("--limit", type=int, default=None, help="At most this many stories.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of story objects.")
@click.pass_context
@friendly
def search(ctx: click.Context, query: str, limit: int | None, as_json: bool) -> None:
    """Full-text search over every stored story (SQLite FTS5 syntax).

    \b
    Example:
        newsmon search '"rare earths" NOT lithium'
    """
    with open_db(ctx) as db:
        rows = queries.search(db, query, limit)
    _print_stories(rows, as_json)


def _story_object(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "url",
        "site",
        "title",
        "author",
        "published",
        "language",
        "text",
        "watches",
        "version",
        "duplicate_of",
        "first_seen",
    )
    return {k: row.get(k) for k in keys}


def _print_stories(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([_story_object(r) for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no stories")
        return
    originals = {r["url"] for r in rows}
    for row in rows:
        if row["duplicate_of"] in originals:
            continue  # printed under its original
        _print_story(row)
        for dup in rows:
            if dup["duplicate_of"] == row["url"]:
                click.echo(
                    f"    duplicate: {terminal_safe(dup['site'])}  {terminal_safe(dup['url'])}"
                )


def _print_story(row: dict[str, Any]) -> None:
    when = (row["published"] or row["first_seen"] or "")[:16].replace("T", " ")
    watches = ",".join(row["watches"]) or "-"
    version = f"  v{row['version']}" if row["version"] > 1 else ""
    click.echo(
        f"{when}  {terminal_safe(row['site'])}  [{watches}]{version}  "
        f"{terminal_safe(row['title'], 120)}"
    )
    click.echo(f"    {terminal_safe(row['url'])}")
    if row.get("snippet"):
        click.echo(f"    {terminal_safe(row['snippet'], 300)}")


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--site", help="Apply this site's extraction rules (a site name or spider name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, one object per input.")
@click.pass_context
@friendly
def extract(ctx: click.Context, sources: tuple[str, ...], site: str | None, as_json: bool) -> None:
    """Extract stories from saved pages or URLs, as newsmon would store them.

    \b
    Example:
        newsmon extract page.html --site caliber
        newsmon extract https://eqmint.com/some-story/ --json
    """
    from crawler.extract.standalone import extract_sources

    results = extract_sources(sources, _rules_for(ctx, site))
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for r in results:
        click.echo(f"# {terminal_safe(r['title'] or '(no title)')}")
        click.echo(
            f"url: {terminal_safe(r['url'] or '')}  author: {terminal_safe(r['author'] or '-')}  "
            f"published: {r['published'] or '-'}  language: {r['language'] or '-'}"
        )
        if r.get("fallbacks"):
            click.echo(
                f"site rules matched: {r['rules_matched']}; from generic extraction: "
                f"{', '.join(r['fallbacks'])}"
            )
        click.echo("")
        click.echo(terminal_safe(r["text"], keep_newlines=True))
        click.echo("")


def _rules_for(ctx: click.Context, site: str | None) -> Any:
    if site is None:
        return None
    from crawler.crawling.registry import site_rules

    try:
        config = get_config(ctx)
    except ConfigError:  # a spider's rules need no config
        config = None
    return site_rules(config, site)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array, one object per site.")
@click.pass_context
@friendly
def status(ctx: click.Context, as_json: bool) -> None:
    """Each site: last run, result, counts, next run and health.

    \b
    Example:
        newsmon status --json
    """
    from crawler.daemon.status import site_status

    with open_db(ctx) as db:
        rows = site_status(db, get_config(ctx))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['site']}: {r['health']}  last run {r['last_run'] or 'never'} "
            f"({r['last_status'] or '-'})  next {r['next_run'] or '-'}  "
            f"new {r['articles_new']}  changed {r['articles_changed']}  errors {r['errors']}"
        )
        if r["health"] not in ("ok", "unknown"):
            click.echo(f"  {r['health']}: {terminal_safe(r['health_detail'], 300)}")
        if r["last_run"]:
            reasons = f" ({_counts(r['skip_reasons'])})" if r["skip_reasons"] else ""
            click.echo(
                f"  discovered {r['discovered']}: stored {r['stored']}, up to date "
                f"{r['up_to_date']}, deferred {r['deferred']}, skipped {r['skipped']}{reasons}; "
                f"fell back to generic extraction {r['fallbacks']}"
            )
        if r["last_error"]:
            click.echo(f"  {terminal_safe(r['last_error'].splitlines()[0], 200)}")


@cli.command()
@click.pass_context
@friendly
def check(ctx: click.Context) -> None:
    """Validate the configuration and every watch query, without running anything.

    \b
    Example:
        newsmon -c my.yaml check
    """
    config = get_config(ctx, spiders=True)
    where = config.path or Path("?")
    click.echo(
        f"{where}: OK ({len(config.sites)} sites, {len(config.watches)} watches, "
        f"channels: {', '.join(config.alerts.named) or 'none'})"
    )


@cli.group("alerts", context_settings=CONTEXT)
def alerts_group() -> None:
    """Alert channels: send a test message, deliver pending alerts now.

    \b
    Example:
        newsmon alerts test slack
        newsmon alerts flush
        newsmon alerts flush morning-mail
    """


@alerts_group.command("test")
@click.argument("channel")
@click.pass_context
@friendly
def alerts_test(ctx: click.Context, channel: str) -> None:
    """Send a sample alert on CHANNEL, a channel's name: email or slack (the channels under
    'alerts.email' and 'alerts.slack'), or the name of one under 'alerts.channels'.

    Exits 1 if the server refuses it (its answer is printed), 2 if the channel is not
    configured.

    \b
    Example:
        newsmon alerts test email
        newsmon alerts test japan-desk
    """
    from crawler.alerts.delivery import DeliveryError, UnknownChannelError, send_test

    try:
        send_test(get_config(ctx), channel)
    except UnknownChannelError as exc:
        raise UserError(terminal_safe(str(exc))) from None
    except DeliveryError as exc:
        click.echo(f"failed: {terminal_safe(str(exc))}", err=True)
        ctx.exit(1)
    click.echo(f"{terminal_safe(channel)}: test message sent")


@alerts_group.command("flush")
@click.argument("channels", nargs=-1, metavar="[CHANNEL]...")
@click.pass_context
@friendly
def alerts_flush(ctx: click.Context, channels: tuple[str, ...]) -> None:
    """Deliver every pending alert now on the named channels (all if none), including those
    waiting to be retried and those held for a scheduled digest (which go out as that
    digest, early).

    Prints how many were sent, failed and are still pending. Exits 2 if a channel is not
    configured.

    \b
    Example:
        newsmon alerts flush
        newsmon alerts flush morning-mail
    """
    from crawler.alerts.delivery import UnknownChannelError, deliver_pending

    with open_db(ctx) as db:
        try:
            report = deliver_pending(db, get_config(ctx), everything=True, channels=channels)
        except UnknownChannelError as exc:
            raise UserError(terminal_safe(str(exc))) from None
    click.echo(terminal_safe(str(report)))


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 makes it reachable from other machines).",
)
@click.option(
    "-p",
    "--port",
    type=int,
    default=8001,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--metadata",
    type=click.Path(exists=True, dir_okay=False),
    help="Datasette metadata file to use instead of the shipped config/datasette.yaml.",
)
@click.pass_context
@friendly
def serve(ctx: click.Context, host: str, port: int, metadata: str | None) -> None:
    """Browse the database in Datasette: search, facets, canned queries.

    Needs the ui extra: pip install 'newsmon[ui]'. Stop it with Ctrl-C.

    \b
    Example:
        newsmon serve --port 8001
    """
    from crawler.outputs.serve import METADATA, DatasetteMissing, serve_database

    database = get_config(ctx).database
    try:
        ctx.exit(serve_database(database, host=host, port=port, metadata=metadata or METADATA))
    except (DatasetteMissing, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None


@cli.command()
@click.option("--watch", help="Only stories matching this watch (default: every watch).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="At most this many entries.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the feed to this file, atomically (default: standard output).",
)
@click.pass_context
@friendly
def feed(ctx: click.Context, watch: str | None, limit: int, output: str | None) -> None:
    """An Atom feed of matched stories, newest first, for feed readers.

    \b
    Example:
        newsmon feed --watch rare-earths -o /var/www/feeds/rare-earths.atom
    """
    from crawler.outputs.atomic_files import open_output
    from crawler.outputs.feed import build_feed

    with open_db(ctx) as db:
        document = build_feed(db, watch, limit=limit)
    with open_output(output, binary=True) as out:
        out.write(document)


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="CSV for spreadsheets, JSON Lines for programs.",
)
@click.option("--since", help="Only stories published (or first seen) since this ISO date.")
@click.option("--site", help="Only stories of this site.")
@click.option("--watch", help="Only stories matching this watch.")
@click.option("--all", "all_", is_flag=True, help="Every stored story, matched or not.")
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 BOM (for Excel).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to this file, atomically (default: standard output).",
)
@click.pass_context
@friendly
def export(
    ctx: click.Context,
    fmt: str,
    since: str | None,
    site: str | None,
    watch: str | None,
    all_: bool,
    bom: bool,
    output: str | None,
) -> None:
    """Export stories, newest first, as CSV or JSON Lines.

    CSV cells starting with = + - @ get a leading ' so that spreadsheets do not run them
    as formulas; JSON Lines is exported unchanged.

    \b
    Example:
        newsmon export --format csv --watch takaichi -o takaichi.csv
        newsmon export --format jsonl --all --since 2025-11-01 > stories.jsonl
    """
    from crawler.outputs.atomic_files import open_output
    from crawler.outputs.export import export as export_stories

    since = _since(since)
    with open_db(ctx) as db, open_output(output) as out:
        count = export_stories(
            db, out, fmt, bom=bom, since=since, site=site, watch=watch, matched_only=not all_
        )
    if output and output != "-":
        click.echo(f"{count} stories written to {terminal_safe(output)}", err=True)


@cli.command()
@click.argument("url")
@click.option("--name", help="Site name for the entry (default: from the host name).")
@click.option(
    "--samples",
    type=click.IntRange(min=2),
    default=12,
    show_default=True,
    help="Pages fetched to tell stories from other pages.",
)
@click.pass_context
@friendly
def discover(ctx: click.Context, url: str, name: str | None, samples: int) -> None:
    """Probe a site and print a `sites:` entry for the generic spider, ready to paste.

    Finds feeds, sitemaps, the WordPress REST API or listing pages, and an article_pattern
    from the URLs of pages that declare themselves articles; what each source lists is shown
    as YAML comments.

    \b
    Example:
        newsmon discover https://news.example.org/ >> sites.yaml
        newsmon check
    """
    from crawler.discovery.probe import DiscoverError, discover_site, render_entry

    try:
        user_agent = get_config(ctx).user_agent
    except ConfigError:  # discovering comes before having a config
        user_agent = Config.model_validate({}).user_agent
    try:
        report = discover_site(url, user_agent, samples=samples, name=name)
    except DiscoverError as exc:
        raise UserError(terminal_safe(str(exc))) from None
    click.echo(render_entry(report), nl=False)
