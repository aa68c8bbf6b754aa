"""Where the names corpus comes from, and proof that it is the right one.

Lookup order: an explicit directory (`--data-dir`), then `$RNNBENCH_DATA_DIR`, then the platform's per-user
cache folder, as platformdirs names it (Linux: `$XDG_CACHE_HOME/rnnbench`, else `~/.cache/rnnbench`; macOS:
`~/Library/Caches/rnnbench`; Windows: `%LOCALAPPDATA%/rnnbench/Cache`). Only the cache is ever downloaded
into: the tutorial's archive is fetched into a temporary folder beside it, every file is checked against the
SHA-256 sums shipped with the package, and only then is the folder renamed into place, so an interrupted
download never leaves a half-written cache behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import platformdirs

from rnnbench.errors import RnnbenchError

ARCHIVE_URL = "https://download.pytorch.org/tutorial/data.zip"

LANGUAGES = (
    "Arabic",
    "Chinese",
    "Czech",
    "Dutch",
    "English",
    "French",
    "German",
    "Greek",
    "Irish",
    "Italian",
    "Japanese",
    "Korean",
    "Polish",
    "Portuguese",
    "Russian",
    "Scottish",
    "Spanish",
    "Vietnamese",
)

ProgressFn = Callable[[int, int | None], None]  # (bytes so far, total bytes if the server said)


def expected_sums() -> dict[str, str]:
    """The shipped SHA-256 sums, file name -> hex digest. Example: {'German.txt': '7449cd…', …}"""
    text = resources.files("rnnbench.data").joinpath("names.sha256").read_text(encoding="utf-8")
    return {name: digest for digest, name in (line.split() for line in text.splitlines() if line.strip())}


def cache_dir() -> Path:
    """The per-user cache folder rnnbench downloads into, e.g. ~/.cache/rnnbench on Linux (see the module's
    docstring for the others)."""
    return Path(platformdirs.user_cache_dir("rnnbench", appauthor=False))


def find_names_dir(root: Path) -> Path | None:
    """The folder under `root` holding all 18 files: `root/names/` or `root/` itself; None if neither does."""
    for candidate in (root / "names", root):
        if all((candidate / f"{language}.txt").is_file() for language in LANGUAGES):
            return candidate
    return None


def _missing(root: Path) -> str:
    """What is missing from the more complete of the two accepted layouts, e.g. 'names/Arabic.txt missing'."""
    if not root.is_dir():
        return "no such folder"
    layouts = [
        (prefix, [f"{language}.txt" for language in LANGUAGES if not (root / prefix / f"{language}.txt").is_file()])
        for prefix in ("names", ".")
    ]
    prefix, absent = min(layouts, key=lambda layout: len(layout[1]))
    shown = [str(Path(prefix) / name) for name in absent[:3]]
    return f"{', '.join(shown)}{' and others' if len(absent) > 3 else ''} missing"


def verify(names_dir: Path) -> None:
    """Raise, naming the file, unless every `<Language>.txt` matches its shipped SHA-256 sum."""
    for file_name, digest in expected_sums().items():
        path = names_dir / file_name
        if not path.is_file():
            raise RnnbenchError(f"{path}: missing from the names corpus")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != digest:
            raise RnnbenchError(
                f"{path}: SHA-256 {actual[:12]}… does not match the tutorial's file ({digest[:12]}…); "
                "replace it with an unmodified copy"
            )


def locate(data_dir: Path | None = None, *, on_progress: ProgressFn | None = None) -> Path:
    """The verified names folder: from `data_dir`, `$RNNBENCH_DATA_DIR`, or the cache (downloading it once)."""
    explicit = data_dir or os.environ.get("RNNBENCH_DATA_DIR")
    if explicit:
        root = Path(explicit).expanduser()
        names_dir = find_names_dir(root)
        if names_dir is None:
            raise RnnbenchError(
                f"{root}: no names corpus here ({_missing(root)}); expected the 18 files as "
                f"{root}/names/<Language>.txt or {root}/<Language>.txt"
            )
        verify(names_dir)
        return names_dir

    cache = cache_dir()
    if (cache / "names").exists():
        verify(cache / "names")
        return cache / "names"
    url = os.environ.get("RNNBENCH_DATA_URL", ARCHIVE_URL)
    return download(url, cache, on_progress=on_progress)


def download(url: str, cache: Path, *, on_progress: ProgressFn | None = None) -> Path:
    """Fetch the tutorial archive, verify the 18 files, then move them to `cache/names` in one rename."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RnnbenchError(f"{cache}: cannot create the data cache ({err.strerror}); pass --data-dir DIR") from None
    target = cache / "names"
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        archive = Path(tmp) / "data.zip"
        _fetch(url, archive, on_progress)
        staged = Path(tmp) / "names"
        _extract_names(archive, staged)
        verify(staged)
        try:
            staged.rename(target)
        except OSError:
            if not target.exists():  # a parallel download finishing first is fine; anything else is not
                raise
    verify(target)
    return target


def _fetch(url: str, destination: Path, on_progress: ProgressFn | None) -> None:
    offline_hint = (
        "offline? put the 18 <Language>.txt files of the corpus in a folder and pass --data-dir DIR "
        f"or set RNNBENCH_DATA_DIR=DIR (or unpack them into {cache_dir() / 'names'})"
    )
    try:
        with urllib.request.urlopen(url, timeout=60) as response, destination.open("wb") as out:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if on_progress:
                    on_progress(done, total)
        if total is not None and done != total:
            raise ValueError(f"connection closed after {done:,} of {total:,} bytes")
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise RnnbenchError(f"could not download {url}: {reason}; {offline_hint}") from None


def _extract_names(archive: Path, destination: Path) -> None:
    """Copy `…/names/<Language>.txt` members out of the archive by name (never trusting member paths)."""
    destination.mkdir()
    wanted = {f"{language}.txt" for language in LANGUAGES}
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                parts = member.filename.split("/")
                if len(parts) >= 2 and parts[-2] == "names" and parts[-1] in wanted:
                    with zf.open(member) as src, (destination / parts[-1]).open("wb") as dst:
                        shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile:
        raise RnnbenchError(f"{archive.name} downloaded but is not a zip archive") from None
    missing = sorted(wanted - {p.name for p in destination.iterdir()})
    if missing:
        raise RnnbenchError(f"the downloaded archive lacks names/{', names/'.join(missing)}")
