"""`deltastore demo-store serve` and `deltastore demo-data legacy`: the embedded demo sources."""

from __future__ import annotations

import argparse
import time

from deltastore.workflows.cli import add_command, settings_for


def register(subparsers: argparse._SubParsersAction) -> None:
    store = add_command(
        subparsers, "demo-store", "Run the demo new store (a FakeStore-compatible API).",
        "deltastore demo-store serve --port 8765 --scale 1",
    )
    store_commands = store.add_subparsers(dest="demo_store_command", metavar="<action>",
                                          required=True)
    serve = add_command(
        store_commands, "serve",
        "Serve the FakeStore API on loopback until stopped (Ctrl-C or SIGTERM).",
        "deltastore demo-store serve --host 127.0.0.1 --port 8765 --scale 0.1 --seed 42",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    _scale_and_seed(serve, "per unit: 200 products, 1,000 users, 10,000 carts")
    serve.set_defaults(handler=_serve)

    data = add_command(
        subparsers, "demo-data", "Generate demo source data.",
        "deltastore demo-data legacy --scale 1",
    )
    data_commands = data.add_subparsers(dest="demo_data_command", metavar="<what>",
                                        required=True)
    legacy = add_command(
        data_commands, "legacy",
        "Create (or replace) the legacy store's database with generated data.",
        "deltastore demo-data legacy --scale 0.1 --out sqlite:///tmp/legacy.db",
    )
    _scale_and_seed(legacy, "per unit: 10,000 customers, 15,000 orders")
    legacy.add_argument("--out", metavar="URL",
                        help="database URL (default: DELTASTORE_LEGACY_DB_URL, "
                             "`sqlite:///<data dir>/legacy.db`)")
    legacy.set_defaults(handler=_legacy)
    next_day = add_command(
        data_commands, "next-day",
        "Write one more day into the demo legacy database: the day's new orders with their "
        "items, payments and shipments, status updates on recent orders, a few deletions.",
        "deltastore demo-data next-day --scale 1   # then: deltastore run --run-date <day+1>",
    )
    _scale_and_seed(next_day, "the scale and seed the database was generated with")
    next_day.add_argument("--out", metavar="URL",
                          help="database URL (default: DELTASTORE_LEGACY_DB_URL)")
    next_day.set_defaults(handler=_next_day)
    wait = add_command(
        data_commands, "wait",
        "Wait until the demo legacy database is complete (the demo workflow's first step); "
        "exit 1 when it is not ready in time.",
        "deltastore demo-data wait --timeout 600",
    )
    wait.add_argument("--timeout", type=float, default=600.0,
                      help="seconds to wait (default: %(default)s)")
    wait.add_argument("--poll", type=float, default=5.0, help="seconds between checks")
    wait.set_defaults(handler=_wait)


def _scale_and_seed(parser: argparse.ArgumentParser, per_unit: str) -> None:
    parser.add_argument("--scale", type=float, default=1.0,
                        help=f"data volume ({per_unit}); e.g. 0.01 for tests")
    parser.add_argument("--seed", type=int, default=42, help="same seed, same data")


def _serve(args: argparse.Namespace) -> int:
    from deltastore.extract.demo.store_server import serve

    def announce(url: str) -> None:
        print(f"demo store serving on {url} (scale {args.scale:g}, seed {args.seed})",
              flush=True)

    serve(args.host, args.port, args.scale, args.seed, announce)
    return 0


def _next_day(args: argparse.Namespace) -> int:
    from deltastore.dburl import DatabaseURL
    from deltastore.extract.demo.next_day import apply_next_day

    url = settings_for(args).legacy_db_url
    if args.out:
        # The password still comes from DELTASTORE_LEGACY_DB_PASSWORD, never from argv.
        url = DatabaseURL.parse(args.out, "--out").with_password(url.password)
    started = time.perf_counter()
    changes = apply_next_day(url, scale=args.scale, seed=args.seed)
    print(f"legacy DB `{url}`: day {changes.day} written in "
          f"{time.perf_counter() - started:.1f} s (inserted ~updated -deleted rows)")
    for line in changes.lines():
        print(line)
    return 0


def _wait(args: argparse.Namespace) -> int:
    from deltastore.settings import Settings
    from deltastore.workflows.demo import wait_for_legacy_db

    wait_for_legacy_db(Settings.from_env(), args.timeout, args.poll)
    return 0


def _legacy(args: argparse.Namespace) -> int:
    from deltastore.dburl import DatabaseURL
    from deltastore.workflows.demo import generate_legacy

    settings = settings_for(args)
    url = settings.legacy_db_url
    if args.out:
        # The password still comes from DELTASTORE_LEGACY_DB_PASSWORD, never from argv.
        url = DatabaseURL.parse(args.out, "--out").with_password(url.password)
    started = time.perf_counter()
    counts = generate_legacy(url, args.scale, args.seed)
    seconds = time.perf_counter() - started
    for table, rows in counts.items():
        print(f"{table:<12} {rows:>10,} rows")
    print(f"{'total':<12} {sum(counts.values()):>10,} rows in {seconds:.1f} s -> {url}")
    return 0
