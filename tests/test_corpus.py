"""The download path, against an HTTP server on 127.0.0.1 serving a zip built from the local corpus copy; and the
test suite's own search for the corpus (tests/conftest.py), which fetches it or stops with one line."""

import functools
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SKIP_CORPUS

from rnnbench.data import corpus
from rnnbench.errors import RnnbenchError


def _zip(names_dir: Path, destination: Path, corrupt: str | None = None) -> Path:
    """The tutorial archive's layout: data/names/<Language>.txt plus an unrelated file."""
    with zipfile.ZipFile(destination, "w") as zf:
        for language in corpus.LANGUAGES:
            content = (names_dir / f"{language}.txt").read_bytes()
            if language == corrupt:
                content = content.replace(b"a", b"e", 1)
            zf.writestr(f"data/names/{language}.txt", content)
        zf.writestr("data/eng-fra.txt", "go.\tva !\n")
    return destination


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on a free loopback port; yields the base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("RNNBENCH_DATA_DIR", raising=False)
    return tmp_path / "cache" / "rnnbench"


def test_languages_match_the_shipped_sums(names_dir):
    assert sorted(corpus.expected_sums()) == sorted(f"{language}.txt" for language in corpus.LANGUAGES)
    for name, digest in corpus.expected_sums().items():
        assert hashlib.sha256((names_dir / name).read_bytes()).hexdigest() == digest


def test_download_verifies_and_caches(names_dir, server, empty_cache, monkeypatch):
    root, url = server
    _zip(names_dir, root / "data.zip")
    monkeypatch.setenv("RNNBENCH_DATA_URL", f"{url}/data.zip")
    progress = []
    found = corpus.locate(on_progress=lambda done, total: progress.append((done, total)))
    assert found == empty_cache / "names"
    assert sorted(p.name for p in found.iterdir()) == sorted(f"{lang}.txt" for lang in corpus.LANGUAGES)
    assert progress[-1][0] == progress[-1][1] == (root / "data.zip").stat().st_size
    assert not [p for p in empty_cache.iterdir() if p.name.startswith(".download-")]  # temp folder cleaned
    # second call uses the cache: the server is no longer needed
    (root / "data.zip").unlink()
    assert corpus.locate() == found


def test_corrupted_file_in_archive_is_refused_and_nothing_is_cached(names_dir, server, empty_cache, monkeypatch):
    root, url = server
    _zip(names_dir, root / "data.zip", corrupt="German")
    monkeypatch.setenv("RNNBENCH_DATA_URL", f"{url}/data.zip")
    with pytest.raises(RnnbenchError, match=r"German\.txt: SHA-256 .* does not match"):
        corpus.locate()
    assert not (empty_cache / "names").exists()
    assert list(empty_cache.iterdir()) == []


def test_not_a_zip_and_missing_file(server, empty_cache, monkeypatch):
    root, url = server
    (root / "data.zip").write_text("<html>not here</html>")
    monkeypatch.setenv("RNNBENCH_DATA_URL", f"{url}/data.zip")
    with pytest.raises(RnnbenchError, match="not a zip archive"):
        corpus.locate()
    monkeypatch.setenv("RNNBENCH_DATA_URL", f"{url}/missing.zip")
    with pytest.raises(RnnbenchError, match="could not download .*missing.zip.*--data-dir"):
        corpus.locate()
    assert not (empty_cache / "names").exists()


def test_offline_error_says_where_to_put_a_local_copy(empty_cache, monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("RNNBENCH_DATA_URL", f"http://127.0.0.1:{port}/data.zip")
    with pytest.raises(RnnbenchError) as error:
        corpus.locate()
    assert "RNNBENCH_DATA_DIR" in str(error.value) and str(empty_cache / "names") in str(error.value)


def test_local_layouts_and_errors(names_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("RNNBENCH_DATA_DIR", raising=False)
    assert corpus.locate(names_dir) == names_dir  # DIR/*.txt
    assert corpus.locate(names_dir.parent) == names_dir  # DIR/names/*.txt
    monkeypatch.setenv("RNNBENCH_DATA_DIR", str(names_dir.parent))
    assert corpus.locate() == names_dir
    with pytest.raises(RnnbenchError, match="no names corpus here"):
        corpus.locate(tmp_path / "nowhere")
    copy = tmp_path / "copy"
    copy.mkdir()
    for language in corpus.LANGUAGES:
        (copy / f"{language}.txt").write_bytes((names_dir / f"{language}.txt").read_bytes())
    (copy / "Greek.txt").write_text("Papadopoulos\n")
    with pytest.raises(RnnbenchError, match=r"Greek\.txt: SHA-256"):
        corpus.locate(copy)


@pytest.mark.skipif(sys.platform != "linux", reason="points the per-user cache elsewhere with XDG_CACHE_HOME")
def test_the_suite_fetches_the_corpus_first_or_stops_with_one_line(tmp_path, names_dir, server):
    """The suite run on a checkout with no corpus beside it, none in $RNNBENCH_DATA_DIR and an empty cache."""
    checkout = tmp_path / "checkout" / "tests"
    checkout.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "conftest.py", checkout)
    (checkout / "test_some.py").write_text(
        "def test_needs_the_corpus(names_dir):\n    assert (names_dir / 'German.txt').is_file()\n\n\n"
        "def test_needs_nothing():\n    pass\n"
    )
    with socket.socket() as closed:  # a port nothing listens on: the download is refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    environment = {key: value for key, value in os.environ.items() if key not in ("RNNBENCH_DATA_DIR", SKIP_CORPUS)}
    environment |= {"XDG_CACHE_HOME": str(tmp_path / "cache"), "RNNBENCH_DATA_URL": f"http://127.0.0.1:{port}/x.zip"}

    def suite(*args, **variables) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args, str(checkout)],
            cwd=checkout.parent,
            env=environment | variables,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stdout + done.stderr

    code, output = suite()
    assert code == pytest.ExitCode.USAGE_ERROR, output
    [line] = [line for line in output.splitlines() if "names corpus:" in line]
    assert f"could not download http://127.0.0.1:{port}/x.zip" in line and f"{SKIP_CORPUS}=1" in line
    assert "passed" not in output and "skipped" not in output  # stopped before any test ran

    code, output = suite(**{SKIP_CORPUS: "1"})  # the opt-out: skipped, saying why, and nothing downloaded
    assert code == 0 and "1 passed, 1 skipped" in output and f"{SKIP_CORPUS} is set" in output, output
    assert "downloading" not in output

    code, output = suite("-k", "needs_nothing")  # no test collected needs it: nothing is looked for
    assert code == 0 and "1 passed" in output, output

    code, output = suite(RNNBENCH_DATA_DIR=str(tmp_path))  # a folder named that does not hold it: said, not passed
    assert code == pytest.ExitCode.USAGE_ERROR and f"names corpus: {tmp_path}: no names corpus here" in output

    root, url = server  # reachable: fetched and verified into the cache first, as `make demo` does, then used
    _zip(names_dir, root / "data.zip")
    code, output = suite(RNNBENCH_DATA_URL=f"{url}/data.zip")
    assert code == 0 and "2 passed" in output and "the names corpus is not here: downloading it into" in output, output
    assert corpus.find_names_dir(tmp_path / "cache" / "rnnbench") is not None
