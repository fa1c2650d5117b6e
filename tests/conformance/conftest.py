"""Starts (or finds) the simulator and a TLS front for clients that insist on https.

SUPPORTBOT_SIM_URL, when set, points at a running simulator; otherwise the fixture runs the
app's `supportbot sim` subcommand (SUPPORTBOT_SIM_COMMAND overrides the command) on a free port and stops it afterwards.
pysnc refuses plain http URLs, so a small TLS-terminating forwarder with a throwaway CA (trustme)
sits in front of the simulator for it; the simulator itself always speaks plain HTTP on loopback.
"""

import http.client
import http.server
import os
import pathlib
import ssl
import subprocess
import threading
import urllib.parse

import pytest
import requests
import trustme

REPO = pathlib.Path(__file__).resolve().parents[2]
SEED = "42"
INCIDENTS = "1500"
# The simulator's /sim control API requires its admin account's HTTP Basic credentials.
SIM_ADMIN = ("admin", "admin")


def _spawn_simulator():
    command = os.environ.get("SUPPORTBOT_SIM_COMMAND")
    if command:
        argv = command.split()
    else:
        argv = ["cargo", "run", "--quiet", "--bin", "supportbot", "--", "sim"]
    argv += ["--port", "0", "--incidents", INCIDENTS, "--seed", SEED]
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"simulator did not start: first line was {line!r}")
    # Keep draining stdout so the child never blocks on a full pipe.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process, line.removeprefix("listening on ")


@pytest.fixture(scope="session")
def sim_url():
    url = os.environ.get("SUPPORTBOT_SIM_URL")
    if url:
        yield url.rstrip("/")
        return
    process, url = _spawn_simulator()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(autouse=True)
def no_faults(sim_url):
    """Each test starts without injected faults (a shared simulator may have some)."""
    requests.delete(f"{sim_url}/sim/faults", auth=SIM_ADMIN, timeout=10).raise_for_status()
    yield


class _Forwarder(http.server.BaseHTTPRequestHandler):
    target = None  # (host, port), set on the subclass

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(*self.target, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        headers["Host"] = f"{self.target[0]}:{self.target[1]}"
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                # Links name the simulator's own origin; clients follow X-Total-Count anyway.
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def tls(sim_url, tmp_path_factory):
    """(https base URL, CA bundle path) of a TLS front for the simulator."""
    parsed = urllib.parse.urlparse(sim_url)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    handler = type("Forwarder", (_Forwarder,), {"target": (parsed.hostname, parsed.port)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # requests lets REQUESTS_CA_BUNDLE override a session's `verify` on every send (pysnc sends
    # that way), so point it at the throwaway CA for the session.
    saved = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca_path)
    os.environ.pop("CURL_CA_BUNDLE", None)
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", str(ca_path)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.shutdown()
        server.server_close()
