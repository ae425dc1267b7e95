"""The `cuepoint` command line: one function a subcommand, each thin over the library."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from cuepoint_tray import APP_NAME, DATA_DIR_ENV, __version__
from cuepoint_tray.errors import CuepointError, SettingsError
from cuepoint_tray.report_formats import REPORT_FORMATS

# Start-up: `cuepoint --help` imports only this module and argparse. Everything else
# (settings, paths, logging, each command's layers) is imported where it is used.
if TYPE_CHECKING:
    import logging

    from peewee import SqliteDatabase

    from cuepoint_tray.changes import ExportOptions
    from cuepoint_tray.domain import Playlist
    from cuepoint_tray.events import SessionEnded
    from cuepoint_tray.paths import AppPaths
    from cuepoint_tray.rekordbox import PlaylistTree
    from cuepoint_tray.session import MatchOutcome
    from cuepoint_tray.settings import Settings

Command = Callable[[argparse.Namespace, "Context"], int]


class Context(NamedTuple):
    """What every command gets: where files live and the settings in force."""

    paths: AppPaths
    settings: Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    log_file: logging.Handler | None = None
    try:
        from cuepoint_tray.startup import log_to_file

        context = _context(args)
        log_file = log_to_file(context.paths)
        code = int(args.command(args, context) or 0)
        sys.stdout.flush()  # here, so a reader gone (`| head`) is an EPIPE caught below
        return code
    except CuepointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cuepoint sessions | head`: the reader left, nothing is wrong
        _quiet_stdout()
        return 0
    except Exception as exc:  # never a traceback: one sentence here, the details in the log
        return _unexpected(exc, args)
    finally:
        _print_notices()
        if log_file is not None:  # main() may run again in this process (tests, the tray)
            import logging

            logging.getLogger().removeHandler(log_file)
            log_file.close()


def _unexpected(exc: Exception, args: argparse.Namespace) -> int:
    """An error no command turned into words: a damaged history is set aside and recovered;
    anything else is logged with its traceback and said in one sentence."""
    import logging

    from cuepoint_tray.paths import resolve_paths
    from cuepoint_tray.store.recovery import is_damage

    if is_damage(exc):
        from cuepoint_tray.store.database import recover_damaged

        recover_damaged(resolve_paths(args.data_dir).database)
        print("error: the command stopped on the damaged history; run it again.",
              file=sys.stderr)
        return 1
    logging.getLogger("cuepoint").error("unexpected error", exc_info=exc)
    print(f"error: something unexpected went wrong ({type(exc).__name__}: {exc}); the log "
          f"has the details: {resolve_paths(args.data_dir).log_file}", file=sys.stderr)
    return 1


def _print_notices() -> None:
    from cuepoint_tray.store.recovery import take_notices

    for notice in take_notices():
        print(f"note: {notice}", file=sys.stderr)


def _quiet_stdout() -> None:
    """Send what is left of stdout to nowhere, so closing it at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _context(args: argparse.Namespace) -> Context:
    from cuepoint_tray.settings import salvage_settings
    from cuepoint_tray.startup import data_folder

    paths = data_folder(args.data_dir)
    try:
        return Context(paths=paths, settings=_settings_now(paths, args))
    except SettingsError:
        if args.command is not cmd_settings or not getattr(args, "set", None):
            raise
    # `settings --set` repairs a broken file: what still reads is kept, the rest said
    settings, dropped = salvage_settings(paths.settings_file)
    for line in dropped:
        print(f"note: the settings file's {line} could not be read and is dropped",
              file=sys.stderr)
    return Context(paths=paths, settings=settings)


def _settings_now(paths: AppPaths, args: argparse.Namespace) -> Settings:
    """The settings file as it is now, with the command line's Beatport options over it.
    Commands that never ask Beatport leave the system keyring alone: finding its backend
    alone takes a quarter of a second (and a locked keyring may ask to be unlocked)."""
    from cuepoint_tray.startup import command_line_settings, settings_reader

    overrides = command_line_settings(getattr(args, "beatport_url", None),
                                      getattr(args, "token", None))
    needs_token = args.command not in _WITHOUT_BEATPORT
    return settings_reader(paths, overrides, with_secrets=needs_token)()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cuepoint",
        description=f"{APP_NAME}: match Rekordbox playlists against Beatport.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--data-dir", metavar="DIR", default=os.environ.get(DATA_DIR_ENV),
        help=f"keep the database, cache, logs and settings in DIR (also ${DATA_DIR_ENV})")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in _REGISTRARS:
        register(commands)
    return parser


def _add(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
         handler: Command, help: str) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=help, description=help)
    command.set_defaults(command=handler)
    return command


def _add_beatport_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--beatport-url", metavar="URL",
        help="one server for both the website (URL) and the API (URL/v4), e.g. a local catalog")
    command.add_argument("--token", metavar="T", help="Beatport API token (uses the API)")


# --- settings ---------------------------------------------------------------------------------

def _register_settings(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "settings", cmd_settings,
                   "show the settings and where they are stored")
    command.add_argument("--set", nargs=2, action="append", metavar=("NAME", "VALUE"),
                         default=[], help="change a setting and save it")


def cmd_settings(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.settings import declared, save_settings, with_values

    settings = context.settings
    if args.set:
        settings = with_values(settings, dict(args.set), source="--set")
        save_settings(settings, context.paths.settings_file)
    print(f"# {context.paths.settings_file}")
    shown = settings.shown()
    for declaration in declared():
        print(f"{declaration.name} = {shown[declaration.name]!r}")
        print(f"    {declaration.metadata['help']}")
    return 0


# --- login / logout ---------------------------------------------------------------------------

def _register_login(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "login", cmd_login,
                   "sign in to Beatport with your account, so sessions use Beatport's API")
    command.add_argument("--username", metavar="NAME",
                         help="your Beatport username or email (asked when not given)")
    command.add_argument("--password-stdin", action="store_true",
                         help="read the password as one line from stdin instead of asking")
    command.add_argument(
        "--beatport-url", metavar="URL",
        help="sign in at URL/v4 instead of Beatport (a local catalog server, for one)")
    _add(commands, "logout", cmd_logout, "sign out of Beatport: forget the account's tokens")


def cmd_login(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.account import log_in

    username = args.username if args.username is not None else _ask("Beatport username: ")
    password = _password(args.password_stdin)
    name = log_in(context.paths.settings_file, context.settings, username, password)
    del password
    print(f"Signed in to Beatport as {name}. Sessions now search Beatport's API.")
    paused = _paused_session(context.paths)
    if paused is not None:
        print(f"Session {paused} is paused: to finish it, cuepoint resume {paused}")
    return 0


def _ask(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise CuepointError("Give your Beatport username with --username NAME.")
    return input(prompt)


def _password(from_stdin: bool) -> str:
    """The password: one line of stdin, or asked on the terminal without echo."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CuepointError("No terminal to ask for the password on: pipe it in with "
                            "--password-stdin.")
    return getpass.getpass("Beatport password (not shown, never kept): ")


def _history(context: Context) -> SqliteDatabase:
    """The command's one handle on the history, migrated (and recovered if damaged) here."""
    from cuepoint_tray.store import open_history

    return open_history(context.paths.database)


def _paused_session(paths: AppPaths) -> int | None:
    from cuepoint_tray.store import open_history
    from cuepoint_tray.store.queries import list_sessions

    if not paths.database.exists():
        return None
    sessions = list_sessions(open_history(paths.database), limit=1,
                             status="paused")["sessions"]
    return int(sessions[0]["id"]) if sessions else None


def cmd_logout(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.account import log_out

    name = log_out(context.paths.settings_file)
    print(f"Signed out of Beatport ({name})." if name else "Signed out of Beatport.")
    return 0


# --- playlists --------------------------------------------------------------------------------

def _register_playlists(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "playlists", cmd_playlists,
                   "list the playlists of your Rekordbox library with their track counts")
    _add_library_option(command)


def _add_library_option(command: argparse.ArgumentParser, *, required: bool = False) -> None:
    command.add_argument(
        "--library", "--xml", dest="library", metavar="PATH", required=required,
        help="Rekordbox's master.db or a Rekordbox XML export, told apart by content (default: "
        "the rekordbox_library setting, else Rekordbox's master.db where Rekordbox keeps it)")


def cmd_playlists(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.rekordbox import format_tree, open_playlists

    library = open_playlists(_library_path(args, context),
                             key_file=context.paths.masterdb_keys)
    for line in format_tree(library.root):
        print(line)
    return 0


def _library_path(args: argparse.Namespace, context: Context) -> Path:
    """--library, else the setting, else Rekordbox's own master.db (said on stderr); kept
    absolute in the history, so export and resume work from any folder."""
    from cuepoint_tray.rekordbox import choose_library

    try:
        choice = choose_library(args.library, context.settings.rekordbox_library)
    except CuepointError:
        raise CuepointError(
            "No Rekordbox XML given and no Rekordbox library found: pass --library with "
            "Rekordbox's master.db or an XML export (File > Export Collection in xml format), "
            "or set rekordbox_library.") from None
    if choice.found_message:
        print(choice.found_message, file=sys.stderr)
    return Path(choice.path).expanduser().resolve()


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text for the terminal: control characters (escape sequences that could clear the
    screen, retitle the window or fake a prompt) and bidi overrides shown as '?'."""
    return _CONTROLS.sub("?", text)


# --- catalog-server ---------------------------------------------------------------------------

def _register_catalog_server(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "catalog-server", cmd_catalog_server,
                   "serve a catalog file over Beatport's API v4 and website formats on 127.0.0.1")
    command.add_argument("catalog", metavar="CATALOG.jsonl")
    command.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    command.add_argument("--token", help="bearer token the API requires")
    command.add_argument("--account", action="append", default=[], metavar="NAME:PASSWORD",
                         help="an account that can sign in (`cuepoint login`); repeatable")
    command.add_argument("--token-ttl", type=float, metavar="S",
                         help="access tokens lapse S seconds after they are issued "
                         "(default: never for --token, 600 as announced for signed-in ones)")
    command.add_argument("--today-search-pages", action="store_true",
                         help="website search pages come as since May 2026: no __NEXT_DATA__")
    command.add_argument("--latency-ms", type=float, default=0.0,
                         help="answer after this many ms (with ±20%% jitter)")
    command.add_argument("--rate-limit", type=float, metavar="R",
                         help="beyond R requests/s answer 429 with Retry-After")
    command.add_argument("--error-rate", type=float, default=0.0, metavar="P",
                         help="answer this share of requests with a 5xx")
    command.add_argument("--timeout-rate", type=float, default=0.0, metavar="P",
                         help="hang on this share of requests, past a client's timeout")
    command.add_argument("--cloudflare", action="store_true",
                         help="website paths answer Cloudflare's challenge page")
    command.add_argument("--seed", type=int, help="seed the fault switches' randomness")


def cmd_catalog_server(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.catalog_server import CatalogServer, Faults

    faults = Faults(latency_ms=args.latency_ms, rate_limit=args.rate_limit,
                    error_rate=args.error_rate, timeout_rate=args.timeout_rate,
                    cloudflare=args.cloudflare, seed=args.seed,
                    today_search_pages=args.today_search_pages)
    server = CatalogServer(Path(args.catalog), port=args.port, token=args.token, faults=faults,
                           accounts=_accounts(args.account), token_ttl_s=args.token_ttl)
    print(f"listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.stop()
    return 0


def _accounts(given: list[str]) -> dict[str, str]:
    """`--account NAME:PASSWORD` values as name → password."""
    accounts = {}
    for value in given:
        name, colon, password = value.partition(":")
        if not colon or not name or not password:
            # The value is not repeated: it may be a password typed without its name.
            raise CuepointError("--account takes NAME:PASSWORD: a name, a colon, then the "
                                "password.")
        accounts[name] = password
    return accounts


# --- search -----------------------------------------------------------------------------------

def _register_search(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "search", cmd_search, "search Beatport's tracks for a text")
    command.add_argument("text", help="what to search for, e.g. 'Noisia Purpose'")
    command.add_argument("--per-page", type=int, default=10)
    _add_beatport_options(command)


def cmd_search(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.providers import make_http_client, make_provider

    http = make_http_client(context.settings, context.paths.http_cache)
    try:
        found = make_provider(context.settings, http).search(args.text, per_page=args.per_page)
    finally:
        http.close()
    for track in found.tracks:  # Beatport's text: no escape sequence reaches the terminal
        print(printable(f"{track.id:>10}  {', '.join(track.artists)} - {track.title} "
                        f"({track.mix_name})  {track.bpm or '?'} BPM  {track.camelot or '?'}  "
                        f"{track.label}"))
    report = found.report
    print(printable(f"{len(found.tracks)} tracks from {report.url} in "
                    f"{report.elapsed_ms:.0f} ms{' (from cache)' if report.from_cache else ''}"))
    return 0


# --- match ------------------------------------------------------------------------------------

def _register_match(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "match", cmd_match,
                   "match a Rekordbox playlist against Beatport and write the results")
    _add_library_option(command)
    command.add_argument("--playlist", metavar="PATH", action="append",
                         help="playlist path such as 'Sets/Friday' (repeat for a queue)")
    command.add_argument("--out", metavar="DIR", help="folder for the report and the results, "
                         "candidates and queries CSV (default: a new folder under the reports "
                         "folder)")
    command.add_argument("--json-out", metavar="FILE", help="also write the session as JSON")
    _add_beatport_options(command)


def cmd_match(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.rekordbox import open_playlists

    library = open_playlists(_library_path(args, context),
                             key_file=context.paths.masterdb_keys)
    names = args.playlist or [context.settings.default_playlist]
    if not any(names):
        raise CuepointError("Which playlist? Pass --playlist 'Folder/Playlist' or set "
                            "default_playlist; `cuepoint playlists` lists them.")
    playlists = [library.find_playlist(name) for name in names]
    return _match_and_report(library, playlists, args, context)


def _match_and_report(library: PlaylistTree, playlists: list[Playlist], args: argparse.Namespace,
                      context: Context) -> int:
    from cuepoint_tray.progress import ProgressLine
    from cuepoint_tray.session import run_match

    outcome = run_match(library, playlists, context.settings, context.paths,
                        listeners=[ProgressLine()], out_dir=_out_dir(args),
                        json_out=_json_out(args))
    return _report_outcome(outcome, args, context)


def _out_dir(args: argparse.Namespace) -> Path | None:
    return Path(args.out) if getattr(args, "out", None) else None


def _json_out(args: argparse.Namespace) -> Path | None:
    return Path(args.json_out) if getattr(args, "json_out", None) else None


def _report_outcome(outcome: MatchOutcome, args: argparse.Namespace, context: Context) -> int:
    files = list(outcome.files)
    print(f"session {outcome.session_id}")
    for line in summary_lines(outcome.ended, outcome.session):
        print(line)
    for note in outcome.meta.get("notices", ()):
        print(f"note: {note}")
    if files:
        print("files:", *(str(f) for f in files), sep="\n  ")
    command = _command_prefix(args)
    if outcome.ended.status in ("paused", "cancelled"):
        print(f"to continue: {command} resume {outcome.session_id}")
    if outcome.session.get("to_review"):
        print(f"to decide on the doubtful tracks: {command} review {outcome.session_id}")
    print(f"to review it in the dashboard: {command} dashboard")
    return 0 if outcome.ended.status == "completed" else 1


def _command_prefix(args: argparse.Namespace) -> str:
    """`cuepoint`, with the --data-dir this command was given, ready to paste."""
    data_dir = getattr(args, "data_dir", None)
    return f"cuepoint --data-dir {shlex.quote(data_dir)}" if data_dir else "cuepoint"


def summary_lines(ended: SessionEnded, session: dict[str, Any] | None = None) -> list[str]:
    """The end of a run in a few lines. With `session` (the history's overview of it), the
    figures are the whole session's, a resumed one too, and what is left to review counts
    the DJ's decisions; without, the run's own."""
    s = ended.summary
    if session is not None and not session["done"]:
        # Stopped before any track was matched (Beatport or its website refused, say):
        # no figure would mean anything, and no file was written.
        return [f"session {ended.status}" + (f": {ended.reason}" if ended.reason else ""),
                f"  no track was matched yet (of {session['tracks']}): nothing was written"]
    whole = session or {
        "tracks": s.tracks, "done": s.done, "matched": s.matched, "to_review": s.to_review,
        "unmatched": s.unmatched, "errors": s.errors, "wall_ms": s.wall_ms,
        "requests": s.requests, "cache_hit_rate": s.cache_hit_rate, "retries": s.retries,
        "rate_limited": s.rate_limited, "decided": 0,
        "ms_per_track": s.wall_ms / s.done if s.done else 0.0,
        "requests_per_track": s.requests_per_track}
    lines = [
        f"session {ended.status}" + (f": {ended.reason}" if ended.reason else ""),
        f"  matched {whole['matched']} · to review {whole['to_review']}"
        + (f" ({whole['decided']} decided by you)" if whole["decided"] else "")
        + f" · unmatched {whole['unmatched']}"
        + (f" · errors {whole['errors']}" if whole["errors"] else "")
        + f"  (of {whole['tracks']} tracks)",
    ]
    if s.decided:
        lines.append(f"  {s.decided} decided by you earlier, used without asking again")
    lines += [
        f"  time {whole['wall_ms'] / 1000:.1f} s ({whole['ms_per_track']:.0f} ms per track)",
        f"  requests {whole['requests']} ({whole['requests_per_track']:.2f} per track) · "
        f"cache hits {whole['cache_hit_rate']:.0%} · retries {whole['retries']} · "
        f"429s {whole['rate_limited']}"]
    return lines


# --- eval -------------------------------------------------------------------------------------

def _register_eval(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "eval", cmd_eval,
                   "measure matching on a labelled set through a local catalog server")
    command.add_argument("--catalog", required=True, metavar="C", help="catalog .jsonl")
    _add_library_option(command, required=True)
    command.add_argument("--playlist", required=True, metavar="P", help="playlist path")
    command.add_argument("--truth", required=True, metavar="T", help="truth .csv")
    command.add_argument("--families", metavar="F", help="families .csv")
    command.add_argument("--token", help="use the API with this token (default: the website)")
    command.add_argument("--keep-cache", action="store_true",
                         help="use the data folder's HTTP cache (default: a fresh, cold one)")
    command.add_argument("--requests-per-second", type=float, default=50.0, metavar="R",
                         help="client throttle; the local server needs no politeness "
                         "(default: %(default)s)")


def cmd_eval(args: argparse.Namespace, context: Context) -> int:
    import tempfile

    from cuepoint_tray.catalog_server import CatalogServer
    from cuepoint_tray.evaluation import (
        Results,
        evaluate,
        format_evaluation,
        read_families,
        read_truth,
    )
    from cuepoint_tray.paths import resolve_paths
    from cuepoint_tray.rekordbox import open_library
    from cuepoint_tray.session import run_match
    from cuepoint_tray.settings import served_from, with_values

    truth = read_truth(Path(args.truth))
    families = read_families(Path(args.families)) if args.families else None
    library = open_library(Path(args.library), key_file=context.paths.masterdb_keys)
    playlist = library.find_playlist(args.playlist)
    with CatalogServer(Path(args.catalog), token=args.token).start() as server, \
            tempfile.TemporaryDirectory(prefix="cuepoint-eval-") as scratch:
        settings = with_values(context.settings, {
            **served_from(server.url),
            **_NO_ACCOUNT, "beatport_token": args.token or "",
            "requests_per_second": args.requests_per_second}, source="eval")
        paths = context.paths if args.keep_cache else resolve_paths(scratch).create()
        results = Results()
        outcome = run_match(library, [playlist], settings, paths, listeners=[results])
        served = server.stats()["total"]
    score = evaluate(results.results, truth, families)
    for line in summary_lines(outcome.ended):
        print(line)
    for line in format_evaluation(score, requests=served, tracks=len(results.rows)):
        print(line)
    return 0


# The DJ's own sign-in never goes to a local catalog server: its tokens would be refused
# there, and a refused refresh token signs the DJ out.
_NO_ACCOUNT = {"beatport_token": "", "beatport_refresh_token": "", "beatport_account": ""}


# --- demo -------------------------------------------------------------------------------------

def _register_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "demo", cmd_demo,
                   "match the bundled demo playlist against the bundled demo catalog")
    command.add_argument("--playlist", default="Demo/Friday Warm-up", metavar="PATH")


def cmd_demo(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.catalog_server import CatalogServer
    from cuepoint_tray.rekordbox import format_tree, read_library
    from cuepoint_tray.resources import DEMO_CATALOG, DEMO_XML, resource_file
    from cuepoint_tray.settings import served_from, with_values

    with resource_file(*DEMO_XML) as xml:
        library = read_library(xml)
    print(f"Demo collection {library.path}:")
    for line in format_tree(library.root):
        print("  " + line)
    playlist = library.find_playlist(args.playlist)
    with resource_file(*DEMO_CATALOG) as catalog, CatalogServer(catalog).start() as server:
        print(f"\nDemo catalog served on {server.url} (Beatport's formats); matching "
              f"'{playlist.path_text}'...")
        settings = with_values(context.settings, {
            **served_from(server.url),
            **_NO_ACCOUNT}, source="demo")
        demo_context = Context(context.paths, settings)
        args.out, args.json_out = None, None
        return _match_and_report(library, [playlist], args, demo_context)


# --- history ----------------------------------------------------------------------------------

def _register_history(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "sessions", cmd_sessions, "list past sessions, newest first")
    command.add_argument("--limit", type=int, default=20)
    command.add_argument("--status", help="only sessions with this status")
    command.add_argument("--search", help="only sessions whose playlists contain this text")
    command = _add(commands, "show", cmd_show, "one session: totals, query costs, tips")
    command.add_argument("session", type=int, metavar="SESSION")
    command = _add(commands, "compare", cmd_compare, "two sessions side by side")
    command.add_argument("a", type=int, metavar="A")
    command.add_argument("b", type=int, metavar="B")
    command.add_argument("--all", action="store_true",
                         help=f"list every track that differs (default: the first "
                              f"{COMPARE_LISTED})")
    command = _add(commands, "report", cmd_report, "write a session's report")
    command.add_argument("session", type=int, metavar="SESSION")
    command.add_argument("--format", default="html", choices=REPORT_FORMATS)
    command.add_argument("--out", metavar="DIR", help="folder (default: the reports folder)")
    command = _add(commands, "export", cmd_export, "write an enriched copy of the Rekordbox "
                   "XML with the session's accepted Beatport values, for re-import")
    command.add_argument("session", type=int, metavar="SESSION")
    command.add_argument("--rekordbox-xml", required=True, metavar="OUT",
                         help="the new XML file (never the original)")
    _add_export_options(command)
    command.add_argument("--bpm", action="store_true",
                         help="add BPM to the fields written (it is among the defaults)")
    command = _add(commands, "resume", cmd_resume,
                   "continue a paused, interrupted or cancelled session")
    command.add_argument("session", type=int, metavar="SESSION")
    _add_beatport_options(command)
    _add(commands, "vacuum", cmd_vacuum,
         "apply query_retention_days and compact the history database")


def cmd_sessions(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.store import mark_interrupted_sessions
    from cuepoint_tray.store.queries import list_sessions

    db = _history(context)
    mark_interrupted_sessions(db)
    page = list_sessions(db, limit=args.limit, status=args.status,
                         search=args.search)
    print(f"{'id':>5}  {'started':<16}  {'status':<11}  {'tracks':>9}  {'matched':>7}  "
          f"{'to review':>9}  {'decided':>7}  {'unmatched':>9}  {'changes':>7}  "
          f"{'s/track':>7}  {'req/track':>9}  playlists")
    for row in page["sessions"]:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["started_at"]))
        print(printable(
            f"{row['id']:>5}  {started:<16}  {row['status']:<11}  "
            f"{row['done']:>4}/{row['tracks']:<4}  {row['matched']:>7}  {row['to_review']:>9}  "
            f"{row['decided']:>7}  {row['unmatched']:>9}  {row['will_change']:>7}  "
            f"{row['ms_per_track'] / 1000:>7.2f}  {row['requests_per_track']:>9.2f}  "
            f"{', '.join(row['playlists'])}"))
    print(f"{len(page['sessions'])} of {page['total']} sessions")
    return 0


def cmd_show(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.store import mark_interrupted_sessions
    from cuepoint_tray.store.queries import (
        query_stats_by_type,
        session_overview,
        slowest_tracks,
        tips,
    )

    db = _history(context)
    mark_interrupted_sessions(db)
    row = session_overview(db, args.session)
    print(f"session {row['id']} · {row['status']}"
          + (f" ({row['reason']})" if row.get("reason") else "")
          + f" · {', '.join(row['playlists'])} · {row['provider']}")
    print(f"  {row['done']}/{row['tracks']} tracks: matched {row['matched']} · to review "
          f"{row['to_review']} · decided by you {row['decided']} · unmatched "
          f"{row['unmatched']} · errors {row['errors']}")
    print(f"  exporting it changes {row['will_change']} tracks in Rekordbox (empty fields "
          "filled)")
    print(f"  {row['wall_ms'] / 1000:.1f} s, {row['ms_per_track']:.0f} ms per track; "
          f"{row['requests']} requests ({row['requests_per_track']:.2f} per track), cache "
          f"hits {row['cache_hit_rate']:.0%}, retries {row['retries']}, "
          f"429s {row['rate_limited']}")
    print("queries by type:")
    for stat in query_stats_by_type(db, args.session):
        print(f"  {stat['type']:<14} {stat['count']:>6}  avg {stat['avg_ms']:>7.1f} ms  "
              f"p95 {stat['p95_ms']:>7.1f} ms  cache {stat['cache_hit_rate']:.0%}")
    print("slowest tracks:")
    for track in slowest_tracks(db, args.session, limit=5):
        rekordbox = track["rekordbox"]
        print(f"  {track['elapsed_ms']:>8.0f} ms  {rekordbox['artist']} - {rekordbox['name']}")
    for tip in tips(db, args.session):
        print(f"tip: {tip['message']}")
    if row.get("report_path"):
        print(f"report: {row['report_path']}")
    return 0


def cmd_compare(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.store.queries import compare_sessions

    compared = compare_sessions(_history(context), args.a, args.b)
    rows = [(metric["name"], _figure(metric["a"]), _figure(metric["b"]),
             _figure(metric["delta"], signed=True)) for metric in compared["metrics"]]
    headers = ("", f"session {args.a}", f"session {args.b}", "change")
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(4)]
    for row in [headers, *rows]:  # two spaces between columns: no figures run together
        print(f"{row[0]:<{widths[0]}}  " + "  ".join(f"{cell:>{widths[i]}}"
                                                     for i, cell in enumerate(row) if i))
    changes = compared["changes"]
    print("tracks that differ: " + (", ".join(f"{k} {v}" for k, v in changes.items())
                                     or "none"))
    tracks = compared["tracks"]
    shown = tracks if args.all else tracks[:COMPARE_LISTED]
    for track in shown:
        rekordbox = track["rekordbox"]
        print(printable(f"  {track['change']:<22} {rekordbox['artist']} - {rekordbox['name']}"))
    if len(shown) < len(tracks):
        print(f"  … and {len(tracks) - len(shown)} more (--all lists them)")
    return 0


COMPARE_LISTED = 50


def _figure(value: Any, *, signed: bool = False) -> str:
    """A figure for a column: whole numbers as they are, others to 4 significant digits."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:+.4g}" if signed else f"{value:.4g}"
    number = int(value) if isinstance(value, float) else value
    return f"{number:+}" if signed else str(number)


def cmd_report(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.reports import write_report

    folder = Path(args.out) if args.out else context.paths.reports_dir
    print(write_report(_history(context), args.session, args.format, folder,
                       context.settings.key_notation))
    return 0


def cmd_export(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.rekordbox.export import export_enriched
    from cuepoint_tray.reports import export_matches
    from cuepoint_tray.store.queries import session_overview

    db = _history(context)
    source = Path(session_overview(db, args.session)["xml_path"])
    from dataclasses import replace

    options = _export_options(args, context)
    if args.bpm and "bpm" not in options.fields:
        options = replace(options, fields=(*options.fields, "bpm"))
    summary = export_enriched(source, Path(args.rekordbox_xml), export_matches(db, args.session),
                              options=options)
    print(f"{summary.tracks_changed} tracks, {summary.fields_changed} fields changed")
    print(f"enriched XML: {summary.out_xml}")
    print(f"old -> new values (to undo): {summary.changes_csv}")
    if summary.tracks_not_found:
        print(f"warning: {len(summary.tracks_not_found)} matched tracks are no longer in "
              f"{source.name}: {', '.join(map(str, summary.tracks_not_found[:10]))}")
    print("In Rekordbox: File > Import, choose the enriched XML, then import the tracks from "
          "the rekordbox xml tree.")
    return 0


def _add_export_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--fields", metavar="LIST", default="",
                         help="the fields to write, of key,bpm,genre,label,year,mix "
                              "(default: all of them)")
    command.add_argument("--mode", choices=("fill", "overwrite"), default="fill",
                         help="fill: write into empty Rekordbox fields only (default); "
                              "overwrite: over different values too")
    command.add_argument("--comments", action="store_true",
                         help="also note 'CuePoint: Beatport <id>' at the end of Comments")


def _export_options(args: argparse.Namespace, context: Context) -> ExportOptions:
    from cuepoint_tray.changes import export_options

    return export_options(args.fields, args.mode, args.comments,
                          context.settings.key_notation)


def cmd_resume(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.progress import ProgressLine
    from cuepoint_tray.session import resume_match

    outcome = resume_match(args.session, context.settings, context.paths,
                           listeners=[ProgressLine()], tell=lambda note: print(f"note: {note}"),
                           out_dir=_out_dir(args), json_out=_json_out(args))
    return _report_outcome(outcome, args, context)


# --- review ------------------------------------------------------------------------------------

def _register_review(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "review", cmd_review,
                   "list a session's tracks to review, or decide on one of them")
    command.add_argument("session", type=int, metavar="SESSION")
    command.add_argument("track", nargs="?", metavar="TRACK_ID",
                         help="the Rekordbox track id (as the list shows it) to decide on")
    decision = command.add_mutually_exclusive_group()
    decision.add_argument("--accept", action="store_true", help="take the proposal")
    decision.add_argument("--reject", action="store_true", help="no Beatport match")
    decision.add_argument("--pick", type=int, metavar="BEATPORT_ID",
                          help="this Beatport track (a candidate, or any, looked up)")
    decision.add_argument("--undo", action="store_true", help="forget the decision")
    command.add_argument("--all", action="store_true",
                         help="list the tracks already decided too")
    _add_beatport_options(command)


def cmd_review(args: argparse.Namespace, context: Context) -> int:
    chosen = [name for name in ("accept", "reject", "undo") if getattr(args, name)]
    if args.pick is not None:
        chosen.append("pick")
    if args.track is None:
        if chosen:
            raise CuepointError("Say which track: cuepoint review SESSION TRACK_ID --accept "
                                "(the list shows the track ids).")
        return _list_reviews(args, context)
    if not chosen:
        raise CuepointError("Say what to do with the track: --accept, --reject, "
                            "--pick BEATPORT_ID or --undo.")
    return _decide(args, context, chosen[0])


def _list_reviews(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.store.queries import review_queue, session_overview, track_detail

    db = _history(context)
    session = session_overview(db, args.session)
    tracks = [t for t in review_queue(db, args.session)
              if args.all or t["needs_decision"]]
    notation = context.settings.key_notation
    print(f"session {args.session}: {session['to_review']} to review · "
          f"{session['decided']} decided by you · {', '.join(session['playlists'])}")
    rows: list[tuple[str, ...]] = [("track id", "rekordbox", "decision", "beatport id",
                                    "title", "artists", "key", "bpm", "score")]
    for track in tracks:
        detail = track_detail(db, track["id"])
        rekordbox = track["rekordbox"]
        decision = track["decision"]
        state = decision["state"] if decision else "to review"
        offered = [c for c in detail["candidates"] if not c["vetoes"]][:REVIEW_CANDIDATES]
        proposal_id = (track["proposal"] or {}).get("id")
        lines: list[tuple[str, ...]] = []
        picked = (decision or {}).get("beatport")
        if picked and all(c["beatport"]["id"] != picked["id"] for c in offered):
            lines.append(_beatport_cells(picked, notation, None, "picked"))
        for candidate in offered:
            beatport = candidate["beatport"]
            mark = "proposal" if beatport["id"] == proposal_id else ""
            if decision and decision.get("beatport_id") == beatport["id"]:
                mark = decision["state"]
            lines.append(_beatport_cells(beatport, notation, candidate["score"], mark))
        if not lines:
            lines.append(("", "", "", "", "", ""))
        first = (rekordbox["track_id"],
                 f"{rekordbox['artist']} - {rekordbox['name']}".strip(" -"), state)
        rows.append((*first, *lines[0]))
        rows += [("", "", "", *line) for line in lines[1:]]
    _print_columns(rows)
    if not tracks:
        print("nothing to review" + ("" if args.all else " (--all lists the decided tracks)"))
    else:
        print(f"decide: {_command_prefix(args)} review {args.session} TRACK_ID --accept | "
              "--reject | --pick BEATPORT_ID | --undo")
    return 0


REVIEW_CANDIDATES = 5


def _beatport_cells(beatport: dict[str, Any], notation: str, score: float | None,
                    mark: str) -> tuple[str, ...]:
    from cuepoint_tray.changes import shown_key

    title = beatport["title"] + (f" ({beatport['mix_name']})" if beatport["mix_name"] else "")
    bpm = beatport.get("bpm")
    return (f"{beatport['id']}" + (f" {mark}" if mark else ""), title,
            ", ".join(beatport["artists"]),
            shown_key(beatport.get("key_name") or beatport.get("camelot"), notation),
            f"{bpm:g}" if bpm else "", f"{score:.2f}" if score is not None else "")


def _print_columns(rows: list[tuple[str, ...]]) -> None:
    """Rows as plain columns, two spaces apart; text from files and Beatport made printable."""
    cells = [[printable(cell) for cell in row] for row in rows]
    widths = [min(max(len(row[i]) for row in cells), 40) for i in range(len(cells[0]))]
    for row in cells:
        print("  ".join(_cut(cell, width).ljust(width)
                        for cell, width in zip(row, widths, strict=True)).rstrip())


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _decide(args: argparse.Namespace, context: Context, chosen: str) -> int:
    from cuepoint_tray.beatport_lookup import BeatportLookup
    from cuepoint_tray.store.queries import (
        decide,
        session_overview,
        track_detail,
        track_of_rekordbox,
    )

    db = _history(context)
    track_id = track_of_rekordbox(db, args.session, args.track)
    state = {"accept": "accepted", "reject": "rejected", "pick": "picked",
             "undo": "undo"}[chosen]
    beatport = None
    if state == "picked":
        candidates = track_detail(db, track_id)["candidates"]
        if not any(c["beatport"]["id"] == args.pick for c in candidates):
            lookup = BeatportLookup(context.paths)
            try:
                beatport = lookup.track(context.settings, args.pick)
            finally:
                lookup.close()
    track = decide(db, track_id, state, args.pick if state == "picked" else None,
                   beatport)["track"]
    rekordbox, final = track["rekordbox"], track["final"]
    name = f"{rekordbox['artist']} - {rekordbox['name']}".strip(" -")
    if state == "undo":
        outcome = "decision undone: back to CuePoint's own result"
    elif final is None:
        outcome = "rejected: no Beatport match is written"
    else:
        outcome = (f"{state}: Beatport {final['id']} {final['title']}"
                   + (f" ({final['mix_name']})" if final["mix_name"] else ""))
    print(printable(f"track {args.track} ({name}): {outcome}"))
    left = session_overview(db, args.session)["to_review"]
    print(f"session {args.session}: {left} left to review")
    return 0


def cmd_vacuum(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.store import HistoryWriter

    before = context.paths.database.stat().st_size if context.paths.database.exists() else 0
    with HistoryWriter(context.paths.database) as writer:
        writer.mark_interrupted_sessions()
        running = writer.running_sessions()
        if running:  # VACUUM holds the file for its whole run: a session's writes would fail
            raise CuepointError(
                f"Session {running[0]} is running: vacuum compacts the history only when no "
                "session is writing it. Try again when it has ended (or pause it).")
        days = context.settings.query_retention_days
        dropped = writer.delete_old_queries(days) if days > 0 else 0
        writer.vacuum()
    after = context.paths.database.stat().st_size
    print(f"dropped {dropped} query rows; {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    return 0


# --- dashboard --------------------------------------------------------------------------------

def _register_dashboard(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "dashboard", cmd_dashboard,
                   "serve the dashboard (live session, history, review, exports) on 127.0.0.1")
    command.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    command.add_argument("--token", dest="dashboard_token", metavar="T",
                         help="the page's access token (default: a new random one)")
    command.add_argument("--no-window", action="store_true",
                         help="print the address without opening the browser")
    command.add_argument(
        "--beatport-url", metavar="URL",
        help="sessions started here use this server for the website (URL) and API (URL/v4)")


def cmd_dashboard(args: argparse.Namespace, context: Context) -> int:
    import webbrowser

    from cuepoint_tray.controller import SessionController
    from cuepoint_tray.dashboard import DashboardAPI, DashboardServer

    controller = SessionController(context.paths, lambda: _settings_now(context.paths, args))
    server = DashboardServer(DashboardAPI(context.paths, controller), port=args.port,
                             token=args.dashboard_token)
    print(f"Dashboard: {server.page_url()}", flush=True)
    print("Keep this address private: it carries the dashboard's access token. "
          "Ctrl-C stops.", flush=True)
    if not args.no_window:
        webbrowser.open(server.page_url())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping...", file=sys.stderr)
    finally:
        controller.shut_down()
        server.stop()
    return 0


_REGISTRARS = [_register_settings, _register_login, _register_playlists, _register_catalog_server,
               _register_search, _register_match, _register_eval, _register_demo,
               _register_history, _register_review, _register_dashboard]

# Commands that never ask Beatport, so need no token from the keyring (see _settings_now).
_WITHOUT_BEATPORT = frozenset({cmd_playlists, cmd_sessions, cmd_show, cmd_compare, cmd_report,
                               cmd_export, cmd_vacuum})
