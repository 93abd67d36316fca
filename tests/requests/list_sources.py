#!/usr/bin/env python3
"""List every GitHub repository the project already cites, so a new case can be checked
against it before it is written (a thread or repository is used only once).

    python3 tests/requests/list_sources.py [REV] > used_repos.txt
    python3 tests/requests/list_sources.py [REV] --check owner/repo [owner/repo ...]

Every tracked text file at REV (default HEAD) is read: the corpora and their EXPECTED.json /
SOURCES.md tables, `rules/`, the code's comments and the docs. A repository counts as cited when
it appears as `owner/repo#N`, `owner/repo/issues/N`, `.../pull/N`, `.../blob/...`, `.../tree/...`
or `github.com/owner/repo`. Session 9 found that parsing only the corpus tables missed most of
the citations (21 of 31 candidate threads were already used), hence the whole tree.
"""
import re
import subprocess
import sys

PAT = re.compile(r"(?<![\w.-])([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:#\d+|/(?:issues|pull|blob|tree)/)")
PAT_URL = re.compile(r"github\.com/([\w.-]+/[\w.-]+)")


def cited(rev):
    files = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev],
                           capture_output=True, text=True, check=True).stdout.split()
    repos = set()
    for f in files:
        if f.endswith((".wasm", ".png", ".jpg", ".bin", ".gz")):
            continue
        text = subprocess.run(["git", "show", f"{rev}:{f}"], capture_output=True,
                              text=True, errors="ignore").stdout
        repos.update(m.lower() for m in PAT.findall(text))
        repos.update(m.lower().rstrip(".") for m in PAT_URL.findall(text))
    return repos


def main(argv):
    rev = argv[1] if len(argv) > 1 and not argv[1].startswith("--") else "HEAD"
    repos = cited(rev)
    if "--check" in argv:
        for r in argv[argv.index("--check") + 1:]:
            print(("USED " if r.lower() in repos else "NEW  ") + r)
        return 0
    print("\n".join(sorted(repos)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
