"""The embedded emulator's process: moto's own server, with its state kept in a file.

moto keeps everything in memory. This entry point (`python -m labctl.app.emulator_server --port P
--state FILE`) restores the state file into moto's backends before it serves the first request,
and writes it back (atomically, 0600: it holds the students' access keys) when it is stopped with
SIGTERM or SIGINT and every `SAVE_EVERY_S` seconds while it runs, so `labctl emulator stop`/`start`
and a machine restart keep every student's work. The state is moto's per-service `BackendDict`s
(account → region → backend) pickled with dill (pulumi's own dependency), which also takes the
lambdas and locks inside moto's models; it is only ever read by the moto version that wrote it
(`moto_version` in the file): another version starts empty and says so in the log. The file is
read only from the labctl home (0700), like everything else there that labctl trusts.
"""

from __future__ import annotations

import argparse
import copyreg
import hashlib
import importlib
import os
import pickle
import signal
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import dill
import moto
from moto.core.base_backend import BackendDict

SAVE_EVERY_S = float(os.environ.get("LABCTL_EMULATOR_SAVE_EVERY_S", "30"))
SAVE_ATTEMPTS = 5
"""A save runs while requests change the backends; a dict resized mid-pickle is retried."""


def plain_weak_dict(mapping: weakref.WeakValueDictionary) -> tuple:
    """A weak-valued index (Lambda's functions by ARN) pickles with its values, which the backend
    also holds strongly, so they are the same objects again after loading."""
    return (weakref.WeakValueDictionary, (dict(mapping),))


copyreg.pickle(weakref.WeakValueDictionary, plain_weak_dict)
CLASS_REGISTRIES = ("vpc_refs", "vpc_pcx_refs", "backend_refs")
"""Class-level sets of weak references that moto's EC2 backends add themselves to when created
(cross-account peering looks backends up there); restored backends are added back."""


def key_of(backends: BackendDict) -> str:
    """A BackendDict by the backend class it holds: stable across processes (its `_id` is not)."""
    return f"{backends.backend.__module__}:{backends.backend.__qualname__}"


def live_backends(key: str) -> BackendDict | None:
    """The BackendDict of this process that holds the backend class named by `key`."""
    module_name, qualname = key.split(":", 1)
    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if isinstance(value, BackendDict) and key_of(value) == key:
            return value
    return None


def snapshot() -> bytes:
    """Every backend in use, pickled together (one object graph: shared references stay shared)."""
    state = {key_of(b): dict(b) for b in list(BackendDict._instances)}
    return dill.dumps({"moto_version": moto.__version__, "backends": state}, protocol=pickle.HIGHEST_PROTOCOL)


def save(path: Path, unless: str | None = None) -> str:
    """Write the state file atomically (0600); skipped when the state's digest is `unless`. The digest."""
    for attempt in range(SAVE_ATTEMPTS):
        try:
            data = snapshot()
            break
        except RuntimeError:  # a request changed a dict while it was pickled: take the picture again
            if attempt == SAVE_ATTEMPTS - 1:
                raise
            time.sleep(0.1)
    digest = hashlib.sha256(data).hexdigest()
    if digest == unless:
        return digest
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return digest


def restore(path: Path) -> str:
    """Load the state file into moto's backends (before any request); a line for the log."""
    if not path.exists():
        return "no saved state: starting empty"
    saved = dill.loads(path.read_bytes())
    if saved.get("moto_version") != moto.__version__:
        return f"saved state is from moto {saved.get('moto_version')}, this is {moto.__version__}: starting empty"
    restored = 0
    for key, accounts in saved["backends"].items():
        backends = live_backends(key)
        if backends is None:
            continue
        backends.update(accounts)
        if backends not in BackendDict._instances:
            BackendDict._instances.append(backends)
        for _, _, backend in backends.iter_backends():
            for name in CLASS_REGISTRIES:
                if isinstance(getattr(type(backend), name, None), dict):
                    getattr(type(backend), name)[type(backend)].add(weakref.ref(backend))
        restored += 1
    return f"restored {restored} services from {path}"


def save_periodically(path: Path, stop: threading.Event) -> None:
    """A net under a crash or a power cut: what changed is written every SAVE_EVERY_S seconds."""
    digest = None
    while not stop.wait(SAVE_EVERY_S):
        try:
            digest = save(path, unless=digest)
        except Exception as exc:  # noqa: BLE001 - logged; the next save or the final one tries again
            print(f"labctl: saving emulator state failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m labctl.app.emulator_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, help="The state file (read at start, written at stop); none: in memory only.")
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    stop = threading.Event()

    def finish(signum: int, frame: Any) -> None:
        stop.set()
        if args.state:
            save(args.state)
            print(f"labctl: state saved to {args.state}", file=sys.stderr, flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    if args.state:
        print(f"labctl: {restore(args.state)}", file=sys.stderr, flush=True)
        threading.Thread(target=save_periodically, args=(args.state, stop), daemon=True, name="labctl-save").start()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
