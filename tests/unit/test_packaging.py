"""What `pip install .` ships: an editable install reads the source tree and would hide a file left
out of the package, so check the package-data patterns against the files on disk."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def shipped(relative: Path, pattern: str) -> bool:
    """setuptools' recursive glob: "dir/**/*.ext" matches *.ext at any depth under dir."""
    if "/**/" in pattern:
        folder, name = pattern.split("/**/")
        return relative.parts[0] == folder and fnmatch(relative.name, name)
    return relative.as_posix() == pattern


def test_every_template_and_migration_file_is_shipped():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["lianchuang"]
    needed = ([p for p in (ROOT / "templates").rglob("*") if p.is_file()] + [ROOT / "migrations" / "script.py.mako"]
              + [p for p in (ROOT / "flows").iterdir() if p.name.startswith("prefect-empty.")])  # the Prefect seed
    missing = [str(p.relative_to(ROOT)) for p in needed
               if not any(shipped(p.relative_to(ROOT), pattern) for pattern in patterns)]
    assert not missing, f"not in package-data: {missing}"


def test_every_python_folder_is_a_listed_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = set(config["tool"]["setuptools"]["packages"])
    folders = {p.parent.relative_to(ROOT) for p in ROOT.glob("*/**/__init__.py")
               if not any(part.startswith(".") or part in ("tests", "build") for part in p.relative_to(ROOT).parts)}
    assert {"lianchuang." + ".".join(folder.parts) for folder in folders} <= packages
