"""The `cuepoint` command line: one function a subcommand, each thin over the library."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cuepoint_tray import APP_NAME, __version__
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.paths import DATA_DIR_ENV, AppPaths, resolve_paths
from cuepoint_tray.settings import Settings, declared, load_settings, with_values

log = logging.getLogger("cuepoint")
Command = Callable[[argparse.Namespace, "Context"], int]


@dataclass(frozen=True)
class Context:
    """What every command gets: where files live and the settings in force."""

    paths: AppPaths
    settings: Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        context = _context(args)
        _log_to_file(context.paths)
        return int(args.command(args, context) or 0)
    except CuepointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped.", file=sys.stderr)
        return 130


def _context(args: argparse.Namespace) -> Context:
    paths = resolve_paths(args.data_dir).create()
    settings = load_settings(paths.settings_file)
    overrides: dict[str, object] = {}
    if getattr(args, "beatport_url", None):
        base = args.beatport_url.rstrip("/")
        overrides.update(beatport_web_url=base, beatport_api_url=base + "/v4")
    if getattr(args, "token", None):
        overrides["beatport_token"] = args.token
    settings = with_values(settings, overrides, source="the command line")
    return Context(paths=paths, settings=settings)


def _log_to_file(paths: AppPaths) -> None:
    handler = logging.FileHandler(paths.log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


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
    command = _add(commands, "settings", cmd_settings, "show the settings and where they are stored")
    command.add_argument("--set", nargs=2, action="append", metavar=("NAME", "VALUE"),
                         default=[], help="change a setting and save it")


def cmd_settings(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.settings import save_settings

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


# --- playlists --------------------------------------------------------------------------------

def _register_playlists(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "playlists", cmd_playlists,
                   "list the playlists of a Rekordbox XML export with their track counts")
    command.add_argument("--xml", metavar="FILE", help="the Rekordbox XML (default: the setting)")


def cmd_playlists(args: argparse.Namespace, context: Context) -> int:
    from cuepoint_tray.rekordbox import format_tree, read_library

    library = read_library(_xml_path(args, context))
    for line in format_tree(library.root):
        print(line)
    return 0


def _xml_path(args: argparse.Namespace, context: Context) -> Path:
    chosen = args.xml or context.settings.rekordbox_xml
    if not chosen:
        raise CuepointError(
            "No Rekordbox XML given: export your collection from Rekordbox (File > Export "
            "Collection in xml format) and pass it with --xml, or set rekordbox_xml.")
    return Path(chosen).expanduser()


# --- catalog-server ---------------------------------------------------------------------------

def _register_catalog_server(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = _add(commands, "catalog-server", cmd_catalog_server,
                   "serve a catalog file over Beatport's API v4 and website formats on 127.0.0.1")
    command.add_argument("catalog", metavar="CATALOG.jsonl")
    command.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    command.add_argument("--token", help="bearer token the API requires")
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
                    cloudflare=args.cloudflare, seed=args.seed)
    server = CatalogServer(Path(args.catalog), port=args.port, token=args.token, faults=faults)
    print(f"listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.stop()
    return 0


_REGISTRARS = [_register_settings, _register_playlists, _register_catalog_server]
