"""Start JupyterLab the way a learner does (``make lab``), check that it answers, then stop it.

    python tools/check_lab.py                    # as this user (CI runs it as root, after make test)
    python tools/check_lab.py --also-as nobody   # as root: also as an ordinary user

It runs ``make lab JUPYTER_ARGS="--no-browser ..."`` on a free local port with a random token,
waits until the server's REST API and the /lab page answer, and stops it. It fails if JupyterLab
does not start: for example without ``--allow-root`` as root, or when ``make test`` built an
environment without JupyterLab. The server's own log is shown only when something went wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(200_000).decode("utf-8", "replace")
    except OSError:
        return 0, ""


def check(user: str | None, timeout: float) -> None:
    port, token = free_port(), secrets.token_hex(16)
    jupyter_args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
                    f"--ServerApp.port_retries=0 --IdentityProvider.token={token}")
    command = ["make", "--no-print-directory", "lab", f"JUPYTER_ARGS={jupyter_args}"]
    env = dict(os.environ)
    home = tempfile.mkdtemp(prefix="check-lab-home-")
    who = user or pwd.getpwuid(os.getuid()).pw_name
    if user:
        entry = pwd.getpwnam(user)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        as_user = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
        python = REPO / ".venv" / "bin" / "python"
        usable = all(subprocess.run([*as_user, *probe], cwd="/", capture_output=True).returncode == 0
                     for probe in (["test", "-x", str(python)], [str(python), "-c", "import jupyterlab"]))
        if not usable:  # e.g. a checkout, or a Python that .venv links to, inside /root
            print(f"check_lab: not run as {user}: {user} cannot run {python} (it or the Python it links "
                  f"to, {python.resolve()}, is in a folder that only its owner can read)", flush=True)
            return
        command = [*as_user, *command]
        env.update(HOME=home, USER=user, LOGNAME=user)
    for kind in ("runtime", "config", "data"):  # a fresh Jupyter home: nothing of this user's is read
        env[f"JUPYTER_{kind.upper()}_DIR"] = os.path.join(home, kind)
    log_path = Path(home) / "lab.log"
    with open(log_path, "w") as log:
        t0 = time.perf_counter()
        lab = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            status = page = ""
            while time.perf_counter() - t0 < timeout and lab.poll() is None:
                code, body = answers(f"http://127.0.0.1:{port}/api/status?token={token}")
                if code == 200:
                    status = json.loads(body)
                    _, page = answers(f"http://127.0.0.1:{port}/lab?token={token}")
                    break
                time.sleep(1)
            ok = bool(status) and "JupyterLab" in page
        finally:
            if lab.poll() is None:
                os.killpg(lab.pid, signal.SIGTERM)
                try:
                    lab.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(lab.pid, signal.SIGKILL)
                    lab.wait()
    if not ok:
        print(log_path.read_text()[-6000:], file=sys.stderr)
        raise SystemExit(f"check_lab: `make lab` as {who} did not start JupyterLab within {timeout:.0f} s "
                         f"(exit status {lab.returncode}; its output is above)")
    print(f"check_lab: `make lab` as {who} started JupyterLab in {time.perf_counter() - t0:.0f} s "
          f"(/api/status answered, {status.get('kernels', 0)} kernels) and stopped it", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--also-as", metavar="USER", help="as root: also run `make lab` as this user")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args(argv)
    check(None, args.timeout)
    if args.also_as:
        if os.getuid() != 0:
            raise SystemExit("--also-as needs root")
        check(args.also_as, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
