"""`snout serve`: the gRPC and REST servers over one ModelStore, for local use and tests.

Production serves the same pushed directory with real TF Serving; this server only
mimics its APIs and status codes (see README "Serving").
"""

from __future__ import annotations

import sys
from typing import Dict, Optional, Sequence

from serving.grpc_server import GrpcServer
from serving.limits import RequestLimits
from serving.model_store import ModelStore
from serving.rest_server import RestServer


class LocalServer:
    """Start with `start()` (or as a context manager); ports 0 pick free ports.
    grpc_port/rest_port None disables that API."""

    def __init__(self, serving_dir: str, model_names: Sequence[str] = ("snout",),
                 host: str = "127.0.0.1", grpc_port: Optional[int] = 8500,
                 rest_port: Optional[int] = 8501, poll_seconds: float = 2.0,
                 keep_versions: int = 1, settle_seconds: float = 1.0,
                 version_labels: Optional[Dict[str, Dict[str, int]]] = None,
                 grpc_workers: int = 8, quiet: bool = False,
                 limits: RequestLimits = RequestLimits()):
        log = (lambda msg: None) if quiet else \
            (lambda msg: print(f"snout serve: {msg}", file=sys.stderr, flush=True))
        self.store = ModelStore(serving_dir, model_names, keep_versions=keep_versions,
                                poll_seconds=poll_seconds, settle_seconds=settle_seconds,
                                version_labels=version_labels, log=log)
        self.host = host
        self._grpc_port, self._rest_port = grpc_port, rest_port
        self._grpc_workers = grpc_workers
        self.limits = limits
        self._log = log
        self.grpc: Optional[GrpcServer] = None
        self.rest: Optional[RestServer] = None

    def start(self) -> "LocalServer":
        self.store.start()
        try:
            if self._grpc_port is not None:
                self.grpc = GrpcServer(self.store, self.host, self._grpc_port,
                                       max_workers=self._grpc_workers, log=self._log,
                                       limits=self.limits).start()
            if self._rest_port is not None:
                self.rest = RestServer(self.store, self.host, self._rest_port, log=self._log,
                                       limits=self.limits).start()
        except Exception:
            self.stop()
            raise
        return self

    @property
    def grpc_address(self) -> Optional[str]:
        return self.grpc.address if self.grpc else None

    @property
    def rest_url(self) -> Optional[str]:
        return self.rest.url if self.rest else None

    def stop(self) -> None:
        if self.grpc is not None:
            self.grpc.stop()
            self.grpc = None
        if self.rest is not None:
            self.rest.stop()
            self.rest = None
        self.store.stop()

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
