"""README's layout table matches the tree: every top-level entry that git tracks is named in the
table, every path the table names exists, and each second-level folder of the three Python
packages and supabase/ is named somewhere in README or in the doc the table links to for it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def layout_paths() -> list[str]:
    """The backticked paths in the first column of README's `## Layout` table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    paths: list[str] = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        paths += re.findall(r"`([^`]+)`", first_cell)
    return paths


def tracked_top_level() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return {f.split("/", 1)[0] for f in files}


def test_the_layout_table_parses() -> None:
    assert len(layout_paths()) >= 20


def test_every_tracked_top_level_entry_is_in_the_table() -> None:
    named = {p.rstrip("/").split("/", 1)[0] for p in layout_paths()}
    missing = sorted(tracked_top_level() - named)
    assert not missing, f"README's layout table does not name: {missing}"


def test_every_path_in_the_table_exists() -> None:
    absent = [p for p in layout_paths() if not (ROOT / p.rstrip("/")).exists()]
    assert not absent, f"README's layout table names paths that do not exist: {absent}"


def test_every_migration_is_in_the_folder_the_table_describes() -> None:
    migrations = sorted((ROOT / "supabase" / "migrations").glob("*.sql"))
    assert migrations, "supabase/migrations is empty"
    for migration in migrations:
        assert re.fullmatch(r"\d{14}_[a-z0-9_]+\.sql", migration.name), migration.name


SUBFOLDER_PARENTS = ("wayfare", "worker", "webhook", "devstack", "supabase", "frontend")


def test_every_subfolder_of_the_main_parts_is_placed() -> None:
    """Each tracked folder one level under the main parts is named in README or in
    docs/architecture.md ("where each concern lives"), so a newcomer can place it."""
    files = subprocess.run(["git", "ls-files", *SUBFOLDER_PARENTS], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    folders = {"/".join(f.split("/")[:2]) for f in files if f.count("/") >= 2}
    text = (ROOT / "README.md").read_text() + (ROOT / "docs" / "architecture.md").read_text()
    unplaced = sorted(f for f in folders if f not in text)
    assert not unplaced, f"named in neither README nor docs/architecture.md: {unplaced}"


TOP = ("bench", "deploy", "devstack", "docs", "frontend", "scripts", "sql", "supabase", "tests",
       "wayfare", "webhook", "worker")
PATHLIKE = re.compile(r"`((?:{})/[A-Za-z0-9_./-]*)`".format("|".join(TOP)))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def tracked_docs() -> list[str]:
    files = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return [f for f in files if f != "CHANGELOG.md"]  # the changelog names what once was


def ignored(path: str) -> bool:
    """Git ignores the path: it is generated output (bench results, test screenshots)."""
    check = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
    return check.returncode == 0


def test_paths_and_links_in_the_docs_exist() -> None:
    """Docs stand alone: every repository path they name in backticks, and every relative link,
    points at something in this repository, or at a place git ignores (generated output)."""
    broken = []
    for doc in tracked_docs():
        text = (ROOT / doc).read_text()
        for path in PATHLIKE.findall(text):
            if not (ROOT / path.rstrip("/.")).exists() and not ignored(path):
                broken.append(f"{doc}: `{path}`")
        for target in LINK.findall(text):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not ((ROOT / doc).parent / target).exists():
                broken.append(f"{doc}: ({target})")
    assert not broken, "docs name paths that do not exist:\n" + "\n".join(broken)
